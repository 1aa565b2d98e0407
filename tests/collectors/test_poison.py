"""One bad value never loses a batch: pushed, imported (JSON Lines, CSV) or found by the database.

Each poisoned batch holds good items and one bad one; on SQLite and PostgreSQL every good item is
stored and the bad one is named, with its reason in Chinese. Before issue 17 PostgreSQL answered 500
and stored none of them, on every retry.
"""
import csv
import json
import time

import pytest
from sqlalchemy import func, select

from opinion.models import Post, Source
from opinion.web.api.push import sign

TOKEN, SECRET = "hotline-token-1", "hotline-secret-1"
GOOD = [{"id": f"GD{n}", "text": text, "created_at": "2026-11-23T09:10:00+08:00"} for n, text in enumerate([
    "中山路下穿隧道积水严重，车辆无法通行", "锦绣社区垃圾三天没人清运", "北关路公交改线后老人出行不便",
    "南门口工地夜间施工噪音扰民", "区人民医院挂号排长队"])]

# (bad item, words its reason must contain)
POISONS = {
    "nul": ({"id": "BAD", "text": "积水\u0000严重"}, "空字符"),
    "surrogate": ({"id": "BAD", "text": "积水\ud800严重"}, "代理字符"),
    "reposts_2_40": ({"id": "BAD", "text": "转发很多", "reposts": 2**40}, "超出范围"),
    "followers_3e9": ({"id": "BAD", "text": "粉丝很多", "author_followers": 3e9}, "超出范围"),
    "likes_infinity": ({"id": "BAD", "text": "点赞无穷", "likes": float("inf")}, "应为整数"),
    "extra_infinity": ({"id": "BAD", "text": "附加字段无穷", "score": float("inf")}, "非有限数值"),
    "year_1": ({"id": "BAD", "text": "公元元年", "created_at": "0001-01-01T00:00:00+08:00"}, "早于 2000 年"),
    "deep_payload": ({"id": "BAD", "text": "嵌套", "extra": json.loads("[" * 100 + "]" * 100)}, "嵌套层数"),
    "nul_in_author": ({"id": "BAD", "text": "作者名有空字符", "author": "张\u0000三"}, "空字符"),
    "nul_in_id": ({"id": "BA\u0000D", "text": "编号有空字符"}, "空字符"),
}


def count(session):
    return session.execute(select(func.count()).select_from(Post)).scalar()


@pytest.fixture
def hotline(session):
    source = Source(code="hotline", name="12345 热线", kind="webhook", enabled=True,
                    config={"token": TOKEN, "secret": SECRET}, state={})
    session.add(source)
    session.commit()
    return source


def push_body(client, body: bytes, stamp: str | None = None):
    stamp = str(int(time.time())) if stamp is None else stamp
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Opinion-Timestamp": stamp,
               "X-Opinion-Signature": sign(SECRET, stamp, body) if stamp.isascii() else "sha256=0",
               "Content-Type": "application/json"}
    return client.post("/api/v1/ingest", data=body, headers=headers)


def json_body(items) -> bytes:
    # allow_nan: a sender's Infinity reaches us as the bare word, as Python's json writes it
    return json.dumps({"items": items}, ensure_ascii=True, allow_nan=True).encode("utf-8")


@pytest.mark.parametrize("poison", sorted(POISONS))
def test_webhook_stores_every_good_item_and_names_the_bad_one(client, session, hotline, poison):
    bad, words = POISONS[poison]
    items = GOOD[:3] + [bad] + GOOD[3:]
    resp = push_body(client, json_body(items))
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    out = resp.get_json()
    assert (out["accepted"], out["rejected"]) == (5, 1), out
    refused = [i for i in out["items"] if i["status"] == "rejected"]
    assert refused[0]["index"] == 3 and words in refused[0]["reason"], refused
    assert count(session) == 5


def test_webhook_a_200000_deep_item_is_refused_alone(client, session, hotline):
    deep = '{"id": "DEEP", "text": "深", "x": ' + "[" * 200_000 + "]" * 200_000 + "}"
    body = ('{"items": [' + ", ".join([json.dumps(g, ensure_ascii=False) for g in GOOD[:2]] + [deep] +
                                      [json.dumps(g, ensure_ascii=False) for g in GOOD[2:]]) + "]}").encode()
    out = push_body(client, body).get_json()
    assert (out["accepted"], out["rejected"]) == (5, 1), out
    assert out["items"][2]["id"] == "DEEP" and "嵌套层数" in out["items"][2]["reason"]
    assert count(session) == 5


@pytest.mark.parametrize("stamp", ["²", "¹²³", "1" * 400, "١٢٣"])
def test_webhook_odd_timestamps_are_refused_not_500(client, session, hotline, stamp):
    resp = push_body(client, json_body(GOOD), stamp=stamp)
    assert resp.status_code == 401 and resp.get_json()["code"] == "bad_timestamp"
    assert "时间戳" in resp.get_json()["error"] and count(session) == 0


def test_database_refusal_is_retried_item_by_item(client, session, hotline, monkeypatch):
    """What validation lets through and the database refuses: only that item is refused."""
    import opinion.ingest.store as store
    monkeypatch.setattr(store, "validate", lambda item, now: item)  # as if validation missed it
    items = GOOD[:2] + [{"id": "BAD", "text": "公元元年", "created_at": "0001-01-01T00:00:00+08:00"}] + GOOD[2:]
    out = push_body(client, json_body(items)).get_json()
    assert (out["accepted"], out["rejected"]) == (5, 1), out
    assert out["items"][2]["status"] == "rejected" and "数据库拒收" in out["items"][2]["reason"]
    assert count(session) == 5
    again = push_body(client, json_body(items)).get_json()  # the sender's retry stores nothing twice
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 5, 1) and count(session) == 5


def read_rejected(path):
    with path.open(encoding="utf-8-sig") as f:
        return {r[0]: r[1] for r in list(csv.reader(f))[1:]}


def test_jsonl_import_with_poisoned_lines(runner, session, tmp_path):
    lines = [json.dumps(g, ensure_ascii=False) for g in GOOD]
    bad_lines = {  # line number -> (line, words)
        2: (json.dumps(POISONS["nul"][0] | {"id": "B1"}), "空字符"),
        4: (json.dumps(POISONS["surrogate"][0] | {"id": "B2"}), "代理字符"),
        6: (json.dumps(POISONS["followers_3e9"][0] | {"id": "B3"}), "超出范围"),
        8: ('{"id": "B4", "text": "无穷", "reposts": Infinity}', "应为整数"),
        9: ('{"id": "B5", "text": "很大", "likes": 1e400}', "应为整数"),
        10: (json.dumps(POISONS["year_1"][0] | {"id": "B6"}), "早于 2000 年"),
        11: ('{"id": "B7", "text": "深", "x": ' + "[" * 200_000 + "]" * 200_000 + "}", "嵌套"),
    }
    for n in sorted(bad_lines):
        lines.insert(n - 1, bad_lines[n][0])
    path = tmp_path / "poisoned.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rejected = tmp_path / "rejected.csv"
    result = runner.invoke(args=["import", str(path), "--rejected", str(rejected)])
    assert result.exit_code == 0, result.output
    assert "共 12 行" in result.output and "新增 5 条" in result.output and "拒收 7 条" in result.output
    reasons = read_rejected(rejected)
    assert set(reasons) == {str(n) for n in bad_lines}
    for n, (_, words) in bad_lines.items():
        assert words in reasons[str(n)], (n, reasons[str(n)])
    assert count(session) == 5


def test_csv_import_long_field_nul_and_unclosed_quote(runner, session, tmp_path):
    rows = ["id,text,created_at"]
    rows += [f"{g['id']},{g['text']},{g['created_at']}" for g in GOOD[:2]]
    rows.append(f'LONG,"{"长" * 140_000}",2026-11-23T09:10:00+08:00')         # line 4: 140,000 characters
    rows.append("NUL,积水\x00严重,2026-11-23T09:10:00+08:00")                     # line 5
    rows += [f"{g['id']},{g['text']},{g['created_at']}" for g in GOOD[2:4]]      # lines 6, 7
    rows.append('OPEN,"引号没有闭合,2026-11-23T09:10:00+08:00')                   # line 8
    rows += [f"{g['id']},{g['text']},{g['created_at']}" for g in GOOD[4:]]       # line 9
    rows += ["AFTER1,城东菜市场占道经营,2026-11-23T09:10:00+08:00",                # lines 10-13
             "AFTER2,夜市油烟扰民,2026-11-23T09:10:00+08:00",
             "AFTER3,小区电梯三天停运,2026-11-23T09:10:00+08:00",
             "AFTER4,路灯不亮,2026-11-23T09:10:00+08:00",
             'LAST,"最后一行引号也没有闭合']                                            # line 14
    path = tmp_path / "poisoned.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    rejected = tmp_path / "rejected.csv"
    result = runner.invoke(args=["import", str(path), "--rejected", str(rejected)])
    assert result.exit_code == 0, result.output
    assert "共 13 行" in result.output and "新增 9 条" in result.output and "拒收 4 条" in result.output, result.output
    reasons = read_rejected(rejected)
    assert set(reasons) == {"4", "5", "8", "14"}, reasons
    assert "引号未闭合" in reasons["14"]
    assert "正文过长" in reasons["4"] and "空字符" in reasons["5"] and "引号未闭合" in reasons["8"]
    stored = set(session.execute(select(Post.external_id)).scalars())
    assert stored == {g["id"] for g in GOOD} | {"AFTER1", "AFTER2", "AFTER3", "AFTER4"}


def test_a_collector_batch_with_bad_items_stores_the_good_ones(app, session, weibo):
    """Same rule for collectors: a Weibo page with a NUL, a lone surrogate, a 2**40 repost count,
    Infinity and 3e9 followers stores the good posts and names the bad ones on the source."""
    from datetime import datetime, timedelta, timezone

    from opinion.pipeline.runs import run_source
    from tests.collectors.fake_server import FakeWeibo
    from tests.factories import make_source
    source = make_source(session, "wb", kind="weibo_api")
    source.config = {"base_url": weibo.base, "access_token": FakeWeibo.TOKEN, "count": 50}
    session.commit()
    at = datetime.now(timezone.utc) - timedelta(hours=1)
    for g in GOOD:
        weibo.add_mention("@区政府 " + g["text"], at=at)
    bad = [weibo.add_mention("@区政府 积水\u0000严重", at=at), weibo.add_mention("@区政府 积水\ud800", at=at),
           weibo.add_mention("@区政府 转发很多", at=at, reposts=2**40),
           weibo.add_mention("@区政府 点赞无穷", at=at, likes=float("inf")),
           weibo.add_mention("@区政府 粉丝很多", at=at, followers=3e9)]
    line = run_source(app, source)
    assert source.status == "ok", line
    assert "新增 5" in line and "拒收 5" in line, line
    reasons = dict(source.state["last_run"]["rejected"])
    assert set(reasons) == {m["idstr"] for m in bad}
    assert "空字符" in reasons[bad[0]["idstr"]] and "代理字符" in reasons[bad[1]["idstr"]]
    assert "超出范围" in reasons[bad[2]["idstr"]] and "非有限数值" in reasons[bad[3]["idstr"]]
    assert "超出范围" in reasons[bad[4]["idstr"]]
    assert count(session) == 5


def test_csv_a_real_multiline_field_is_kept(runner, session, tmp_path):
    path = tmp_path / "multiline.csv"
    path.write_text('id,text,created_at\nM1,"第一行\n第二行，隧道积水",2026-11-23T09:10:00+08:00\n'
                    "M2,路灯不亮,2026-11-23T09:10:00+08:00\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path), "--rejected", str(tmp_path / "r.csv")])
    assert "新增 2 条" in result.output and "拒收 0 条" in result.output, result.output
    post = session.execute(select(Post).where(Post.external_id == "M1")).scalar_one()
    assert post.raw_text == "第一行\n第二行，隧道积水"


def test_jsonl_a_raw_line_separator_inside_a_string_is_not_a_new_line(runner, session, tmp_path):
    """U+2028, U+0085 and \\x1c are legal raw inside JSON strings; str.splitlines() cut there."""
    path = tmp_path / "separators.jsonl"
    lines = [json.dumps({"id": f"S{i}", "text": f"隧道积水{sep}车辆熄火"}, ensure_ascii=False)
             for i, sep in enumerate(["\u2028", "\u2029", "\x85", "\x1c", "\x0c"])]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    result = runner.invoke(args=["import", str(path), "--rejected", str(tmp_path / "r.csv")])
    assert "共 5 行" in result.output and "新增 5 条" in result.output and "拒收 0 条" in result.output, result.output
    assert count(session) == 5
