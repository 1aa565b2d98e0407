"""Hostile inputs thrown at the three ways posts come in, counted as "tried / held".

Issue 17 asked that one bad value never lose a batch: each probe sends good items with one hostile
one (or a hostile request) through the real code path, and a probe *holds* when nothing answers
500 or crashes, every good item is stored, and the hostile one is refused alone with a reason (or,
for an odd but valid value such as an emoji, stored). Families:

    webhook    POST /api/v1/ingest: bad values in each field, deep JSON, odd timestamp headers
    import     JSON Lines and CSV files with one poisoned line each
    collector  a Weibo-format local server with a bad item per page, and dripping servers

    python bench/probe_hostile.py [--db URL]      (default: a temporary SQLite file)
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

GOOD_TEXTS = ["中山路下穿隧道积水严重", "锦绣社区垃圾三天没人清运", "北关路公交改线后老人出行不便",
              "南门口工地夜间施工噪音扰民", "区人民医院挂号排长队"]
DEEP = "[" * 200_000 + "]" * 200_000

# (name, field overrides as JSON text, expected: "refuse" or "accept"). JSON text, not dicts, so that
# Infinity, 1e400 and a 200,000-deep array reach the server exactly as a hostile sender writes them.
VALUES = [
    ("nul-in-text", '"text": "积水\\u0000严重"', "refuse"),
    ("nul-in-author", '"text": "作者", "author": "张\\u0000三"', "refuse"),
    ("nul-in-url", '"text": "链接", "url": "http://a/\\u0000"', "refuse"),
    ("nul-in-id", '"id": "X\\u0000Y", "text": "编号"', "refuse"),
    ("lone-high-surrogate", '"text": "积水\\ud800"', "refuse"),
    ("lone-low-surrogate", '"text": "\\udfff积水"', "refuse"),
    ("surrogate-in-author", '"text": "作者", "author": "\\ud83d"', "refuse"),
    ("reposts-2^40", '"text": "转发", "reposts": 1099511627776', "refuse"),
    ("reposts-2^31", '"text": "转发", "reposts": 2147483648', "refuse"),
    ("reposts-2^31-1", '"text": "转发上限", "reposts": 2147483647', "accept"),
    ("followers-3e9", '"text": "粉丝", "author_followers": 3e9', "refuse"),
    ("likes-Infinity", '"text": "点赞", "likes": Infinity', "refuse"),
    ("likes--Infinity", '"text": "点赞", "likes": -Infinity', "refuse"),
    ("likes-NaN", '"text": "点赞", "likes": NaN', "refuse"),
    ("likes-1e400", '"text": "点赞", "likes": 1e400', "refuse"),
    ("likes-1.5", '"text": "点赞", "likes": 1.5', "refuse"),
    ("likes-true", '"text": "点赞", "likes": true', "refuse"),
    ("likes-negative", '"text": "点赞", "likes": -1', "refuse"),
    ("likes-superscript", '"text": "点赞", "likes": "²"', "refuse"),
    ("likes-400-digits", '"text": "点赞", "likes": "' + "9" * 400 + '"', "refuse"),
    ("extra-Infinity", '"text": "附加", "score": Infinity', "refuse"),
    ("created-year-1", '"text": "元年", "created_at": "0001-01-01T00:00:00+08:00"', "refuse"),
    ("created-year-9999", '"text": "未来", "created_at": "9999-12-31T23:59:59+08:00"', "refuse"),
    ("created-1970", '"text": "零点", "created_at": "1970-01-01T00:00:00+00:00"', "refuse"),
    ("created-naive", '"text": "无时区", "created_at": "2026-11-20T09:00:00"', "refuse"),
    ("created-garbage", '"text": "乱码时间", "created_at": "昨天下午"', "refuse"),
    ("text-100001", '"text": "' + "长" * 100_001 + '"', "refuse"),
    ("text-empty", '"text": ""', "refuse"),
    ("text-number", '"text": 12345', "refuse"),
    ("id-129-chars", '"id": "' + "i" * 129 + '", "text": "长编号"', "refuse"),
    ("deep-100", '"text": "嵌套", "x": ' + "[" * 100 + "]" * 100, "refuse"),
    ("deep-200000", '"text": "深", "x": ' + DEEP, "refuse"),
    ("emoji-and-rtl", '"text": "积水😀\\u202e反转\\u200b零宽"', "accept"),
    ("private-use-and-noncharacter", '"text": "积水\\ue000\\uffff"', "accept"),
    ("raw-line-separators", '"text": "积水\u2028\u2029\x85严重"', "accept"),  # raw in the JSON text
    ("author-300-chars", '"text": "长作者", "author": "' + "名" * 300 + '"', "accept"),
]


def item_json(n: int, overrides: str = "") -> str:
    base = {"id": f"{n}", "text": GOOD_TEXTS[n % 5], "created_at": "2026-11-20T09:00:00+08:00"}
    own = json.dumps(base, ensure_ascii=False)[1:-1]
    return "{" + own + (", " + overrides if overrides else "") + "}"  # later keys win in json.loads


class Tally:
    def __init__(self):
        self.rows: dict[str, list[int]] = {}
        self.failures: list[str] = []

    def add(self, family: str, name: str, held: bool, detail: str = "") -> None:
        row = self.rows.setdefault(family, [0, 0])
        row[0] += 1
        row[1] += bool(held)
        if not held:
            self.failures.append(f"{family}/{name}: {detail[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="probe-"))
    url = args.db or f"sqlite:///{tmp / 'probe.db'}"

    import os
    os.environ.setdefault("OPINION_INSTANCE_DIR", str(tmp / "instance"))
    from sqlalchemy import func, select

    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import Post, Source, db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True, "WTF_CSRF_ENABLED": False})
    tally = Tally()
    with app.app_context():
        db.drop_all()
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        db.session.commit()

        def stored(code: str) -> set[str]:
            db.session.rollback()
            return set(db.session.execute(select(Post.external_id).join(Source).where(Source.code == code)).scalars())

        probe_webhook(app, db, Source, stored, tally)
        probe_import(app, tmp, stored, tally)
        probe_collector(app, db, stored, tally)
        total = db.session.execute(select(func.count()).select_from(Post)).scalar()
        db.session.remove()
        if not args.db:
            db.drop_all()
    print(f"数据库：{url.split('@')[-1]}，共存入 {total} 条")
    for family, (tried, held) in tally.rows.items():
        print(f"{family} {tried} tried, {held} held")
    for line in tally.failures:
        print("  not held:", line)


def crashed() -> str:
    """The crash in a line, with the session made usable again for the next probe."""
    from opinion.models import db
    db.session.rollback()
    return traceback.format_exc(limit=3).strip().splitlines()[-1]


def judge(stored_ids: set[str], want_good: set[str], bad_id: str | None, expected: str) -> tuple[bool, str]:
    missing = want_good - stored_ids
    if missing:
        return False, f"good items lost: {sorted(missing)}"
    if bad_id is not None and expected == "refuse" and bad_id in stored_ids:
        return False, "hostile item stored"
    if bad_id is not None and expected == "accept" and bad_id not in stored_ids:
        return False, "valid odd item not stored"
    return True, ""


def probe_webhook(app, db, Source, stored, tally: Tally) -> None:
    from opinion.web.api.push import sign
    token, secret = "probe-token", "probe-secret"
    db.session.add(Source(code="hook", name="探针推送", kind="webhook", enabled=True,
                          config={"token": token, "secret": secret}, state={}))
    db.session.commit()
    client = app.test_client()

    def push(body: bytes, stamp: str | None = None):
        stamp = str(int(time.time())) if stamp is None else stamp
        sig = sign(secret, stamp, body) if stamp.isascii() else "sha256=0"
        return client.post("/api/v1/ingest", data=body, headers={
            "Authorization": f"Bearer {token}", "X-Opinion-Timestamp": stamp, "X-Opinion-Signature": sig,
            "Content-Type": "application/json"})

    for k, (name, overrides, expected) in enumerate(VALUES):
        base = 1000 * (k + 1)
        good = [item_json(base + i) for i in range(5)]
        bad = item_json(base + 5, overrides)
        bad_id = json.loads(bad)["id"] if name != "deep-200000" else str(base + 5)
        body = ('{"items": [' + ", ".join(good[:2] + [bad] + good[2:]) + "]}").encode("utf-8", "surrogatepass")
        try:
            resp = push(body)
            ok, detail = judge(stored("hook"), {str(base + i) for i in range(5)}, bad_id, expected)
            if resp.status_code != 200:
                ok, detail = False, f"HTTP {resp.status_code} {resp.get_data(as_text=True)[:200]}"
            elif expected == "refuse":
                answer = [i for i in resp.get_json()["items"] if i["index"] == 2][0]
                if answer["status"] != "rejected" or not answer.get("reason"):
                    ok, detail = False, f"no reason for the hostile item: {answer}"
        except Exception:  # noqa: BLE001 - a crash is what the probe looks for
            ok, detail = False, crashed()
        tally.add("webhook", name, ok, detail)

    body = ('{"items": [' + item_json(90000) + "]}").encode()
    for stamp in ["²", "¹²³", "1" * 400, "١٢٣", "-1", "1e9", " 1", "", "0x10", str(int(time.time())) + ".5"]:
        try:
            resp = push(body, stamp)
            ok = resp.status_code == 401 and resp.get_json()["code"] == "bad_timestamp"
            detail = f"HTTP {resp.status_code}"
        except Exception:  # noqa: BLE001
            ok, detail = False, crashed()
        tally.add("webhook", f"timestamp {stamp[:10]!r}", ok, detail)
    for name, raw in [("not-json", b"{items: ["), ("not-utf8", "{\"items\": []}".encode("utf-16")),
                      ("bare-deep", DEEP.encode()), ("nul-byte-body", b"\x00" * 100)]:
        try:
            resp = push(raw)
            ok, detail = resp.status_code < 500, f"HTTP {resp.status_code}"
        except Exception:  # noqa: BLE001
            ok, detail = False, crashed()
        tally.add("webhook", name, ok, detail)


def probe_import(app, tmp: Path, stored, tally: Tally) -> None:
    from opinion.pipeline.runs import import_file
    for k, (name, overrides, expected) in enumerate(VALUES):
        base = 1000 * (k + 1)
        lines = [item_json(base + i) for i in range(5)]
        lines.insert(2, item_json(base + 5, overrides))
        path = tmp / f"probe-{k}.jsonl"
        path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
        try:
            summary = import_file(app, str(path), source_code="imp", rejected_path=str(tmp / f"r{k}.csv"))
            ok, detail = judge(stored("imp"), {str(base + i) for i in range(5)}, str(base + 5), expected)
            if ok and expected == "refuse" and len(summary.report.rejected) != 1:
                ok, detail = False, f"rejected {summary.report.rejected}"
        except Exception:  # noqa: BLE001
            ok, detail = False, crashed()
        tally.add("import", f"jsonl {name}", ok, detail)

    serial = iter(range(500_000, 10**9, 1000))

    def csv_probe(name: str, bad_row: str, rows_after: int = 2) -> None:
        base = next(serial)
        good = [f"{base + i},{GOOD_TEXTS[i % 5]},2026-11-20T09:00:00+08:00,0" for i in range(5)]
        rows = ["id,text,created_at,reposts"] + good[:5 - rows_after] + [bad_row] + good[5 - rows_after:]
        path = tmp / f"probe-{base}.csv"
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        try:
            summary = import_file(app, str(path), source_code="imp", rejected_path=str(tmp / f"r{base}.csv"))
            ok, detail = judge(stored("imp"), {str(base + i) for i in range(5)}, None, "refuse")
            if ok and len(summary.report.rejected) != 1:
                ok, detail = False, f"rejected {summary.report.rejected}"
        except Exception:  # noqa: BLE001
            ok, detail = False, crashed()
        tally.add("import", f"csv {name}", ok, detail)

    when = "2026-11-20T09:00:00+08:00"
    csv_probe("field-140000", f'X1,"{"长" * 140_000}",{when},0')
    csv_probe("nul", f"X2,积水\x00严重,{when},0")
    csv_probe("unclosed-quote", f'X3,"引号没有闭合,{when},0')
    csv_probe("unclosed-quote-last", 'X4,"最后一行引号没有闭合', rows_after=0)
    csv_probe("reposts-2^40", f"X5,转发,{when},1099511627776")
    csv_probe("reposts-superscript", f"X6,转发,{when},²")
    csv_probe("year-1", "X7,元年,0001-01-01T00:00:00+08:00,0")
    csv_probe("no-text", "X9")


def probe_collector(app, db, stored, tally: Tally) -> None:
    from opinion.pipeline.runs import run_source
    from tests.collectors.fake_server import FakeServer, FakeWeibo
    from tests.factories import make_source
    at = datetime.now(timezone.utc) - timedelta(hours=1)
    hostile = [("nul", "积水\u0000严重", {}), ("surrogate", "积水\ud800", {}),
               ("reposts-2^40", "转发", {"reposts": 2**40}), ("likes-inf", "点赞", {"likes": float("inf")}),
               ("likes-nan", "点赞", {"likes": float("nan")}), ("followers-3e9", "粉丝", {"followers": 3e9}),
               ("text-100001", "长" * 100_001, {}), ("emoji", "积水😀\u202e反转", {"_accept": True})]
    with FakeServer() as server:
        weibo = FakeWeibo(server)
        source = make_source(db.session, "wb-probe", kind="weibo_api")
        source.config = {"base_url": weibo.base, "access_token": FakeWeibo.TOKEN, "count": 50}
        db.session.commit()
        for name, text, kw in hostile:
            accept = kw.pop("_accept", False)
            good = [weibo.add_mention(f"@区政府 {t} {name}", at=at)["idstr"] for t in GOOD_TEXTS]
            bad = weibo.add_mention(f"@区政府 {text}", at=at, **kw)["idstr"]
            try:
                line = run_source(app, db.session.merge(source))
                ok, detail = judge(stored("wb-probe"), set(good), bad, "accept" if accept else "refuse")
                detail = detail or line
            except Exception:  # noqa: BLE001
                ok, detail = False, crashed()
            tally.add("collector", name, ok, detail)
    for name, chunked, headers in [("drip-no-length", False, False), ("drip-chunked", True, False),
                                   ("drip-headers", False, True)]:
        ok, detail = drip_probe(app, db, chunked, headers)
        tally.add("collector", name, ok, detail)


def drip_probe(app, db, chunked: bool, headers: bool) -> tuple[bool, str]:
    """A feed dripping a byte every 0.1 s: the run must end within the deadline (2 s here) + 1 s."""
    from opinion.pipeline.runs import run_source
    from tests.factories import make_source
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        conn, _ = listener.accept()
        try:
            conn.recv(65536)
            head = (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n" + b"X-Pad: pppp\r\n" * 30 +
                    (b"Transfer-Encoding: chunked\r\n\r\n" if chunked else b"Connection: close\r\n\r\n"))
            for i in range(len(head) if headers else 0):
                if stop.is_set():
                    return
                conn.sendall(head[i:i + 1])
                time.sleep(0.1)
            conn.sendall(b"" if headers else head)
            for _ in range(100):
                if stop.is_set():
                    break
                conn.sendall(b"1\r\n<\r\n" if chunked else b"<")
                time.sleep(0.1)
        except OSError:
            pass
        finally:
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    source = make_source(db.session, f"drip-{int(chunked)}{int(headers)}", kind="rss")
    source.config = {"url": f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml", "timeout_total": 2}
    db.session.commit()
    started = time.monotonic()
    try:
        run_source(app, source)
        elapsed = time.monotonic() - started
        return elapsed < 3 and "下载超过" in (source.last_error or ""), f"{elapsed:.1f} s: {source.last_error}"
    finally:
        stop.set()
        listener.close()


if __name__ == "__main__":
    main()
