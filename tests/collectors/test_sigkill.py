"""A run killed with SIGKILL halfway and run again stores every item exactly once.

Not KeyboardInterrupt, which lets `finally` blocks and rollbacks run: a real SIGKILL of an `import`
subprocess and of a `collect` subprocess, at a moment when some batches are committed and others are
not. Each batch is one transaction, so what was committed stays, nothing is half written, and the
second run adds exactly what is missing (unique source + external id).
"""
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from sqlalchemy import create_engine, text

from tests.collectors.fake_server import Reply
from tests.conftest import REPO
from tests.factories import make_source

PLACES = ["中山路", "北关路", "锦绣社区", "南门口", "城东菜市场", "人民公园", "滨江大道", "新华小区"]
PROBLEMS = ["积水严重", "垃圾无人清运", "路灯不亮", "施工噪音扰民", "占道经营", "井盖缺失", "公交改线不便"]


def texts(n: int) -> list[str]:
    return [f"{PLACES[i % len(PLACES)]}{PROBLEMS[i % len(PROBLEMS)]}，第 {i} 号反映，请尽快处理" for i in range(n)]


def counts(url: str, source_code: str) -> tuple[int, int]:
    """(posts, distinct external ids) of a source, read on a connection of its own."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text(
                "SELECT count(*), count(DISTINCT p.external_id) FROM post p JOIN source s ON s.id = p.source_id "
                "WHERE s.code = :code"), {"code": source_code}).one())
    except Exception:  # noqa: BLE001 - the source row may not be there yet
        return 0, 0
    finally:
        engine.dispose()


def start(app, tmp_path, *args) -> subprocess.Popen:
    env = {**os.environ, "OPINION_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "OPINION_INSTANCE_DIR": str(tmp_path / "instance"), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "opinion", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def kill_midway(proc: subprocess.Popen, url: str, code: str, total: int, timeout: float = 240) -> int:
    """SIGKILL `proc` once some but not all items are committed; returns the count left behind."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored, _ = counts(url, code)
        if 0 < stored < total:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            assert proc.returncode == -signal.SIGKILL
            return counts(url, code)[0]
        if proc.poll() is not None:
            pytest.fail(f"the run ended before it could be killed midway ({stored}/{total}): "
                        f"{proc.stdout.read().decode(errors='replace')[-2000:]}")
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no batch was committed in time")


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=400)
    assert proc.returncode == 0, out.decode(errors="replace")[-3000:]
    return out.decode(errors="replace")


def test_import_killed_with_sigkill_then_rerun_stores_each_line_once(app, tmp_path):
    total, batch = 400, 40
    path = tmp_path / "history.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"H{i}", "text": t, "created_at": "2026-11-20T09:00:00+08:00"},
                                         ensure_ascii=False) for i, t in enumerate(texts(total))) + "\n",
                    encoding="utf-8")
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    args = ["import", str(path), "--source", "history", "--batch", str(batch),
            "--rejected", str(tmp_path / "rejected.csv")]
    left = kill_midway(start(app, tmp_path, *args), url, "history", total)
    assert 0 < left < total and left % batch == 0, left  # whole batches or nothing
    out = finish(start(app, tmp_path, *args))
    assert f"新增 {total - left} 条，重复 {left} 条" in out, out
    assert counts(url, "history") == (total, total)


def test_collect_killed_with_sigkill_then_rerun_stores_each_item_once(app, session, server, tmp_path):
    from opinion.pipeline.runs import BATCH
    total = BATCH * 3
    now = datetime.now(timezone.utc) - timedelta(hours=2)
    items = "".join(f"<item><title>{t[:10]}</title><guid>https://news.example/{i}</guid>"
                    f"<link>https://news.example/{i}</link><description>{t}</description>"
                    f"<pubDate>{format_datetime(now - timedelta(seconds=i))}</pubDate></item>"
                    for i, t in enumerate(texts(total)))
    server.routes["/feed.xml"] = Reply(200, (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                                             f"<title>区新闻</title>{items}</channel></rss>").encode("utf-8"),
                                       {"Content-Type": "application/rss+xml"})
    source = make_source(session, "news", kind="rss")
    source.config = {"url": server.base + "/feed.xml"}
    session.commit()
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    left = kill_midway(start(app, tmp_path, "collect", "news", "--once"), url, "news", total)
    assert 0 < left < total and left % BATCH == 0, left
    out = finish(start(app, tmp_path, "collect", "news", "--once"))
    assert f"新增 {total - left}" in out and f"重复 {left}" in out, out
    assert counts(url, "news") == (total, total)
