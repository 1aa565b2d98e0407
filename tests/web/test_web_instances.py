"""The web app under gunicorn with several worker processes, stateless: a session made on one
worker is honoured by every other, and the live alert stream of each worker shows an alert that
another process wrote (the stream reads the database, not process memory)."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opinion.models import Alert
from tests.conftest import REPO
from tests.factories import PASSWORD, make_user


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def test_two_gunicorn_workers_share_sessions_and_the_alert_stream(app, session, tmp_path):
    requests = pytest.importorskip("requests")
    pytest.importorskip("gunicorn")
    make_user(session, "monitor1", "monitor", "center")
    port = _free_port()
    env = {**os.environ, "OPINION_ENV": "default", "SECRET_KEY": "same-on-every-instance",
           "OPINION_DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "OPINION_INSTANCE_DIR": app.instance_path,
           "OPINION_PORT": str(port), "OPINION_WEB_WORKERS": "2", "OPINION_MONITOR_STREAM_SECONDS": "0.5",
           "OPINION_ACCESS_LOG": ""}
    log = tmp_path / "gunicorn.log"
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"], cwd=REPO, env=env,
                              stdout=subprocess.DEVNULL, stderr=log.open("w"))
    base = f"http://127.0.0.1:{port}"
    try:
        browser = requests.Session()
        start = time.monotonic()
        while True:
            try:
                page = browser.get(base + "/login", timeout=60)
                break
            except (requests.ConnectionError, requests.Timeout):
                assert server.poll() is None and time.monotonic() - start < 120, log.read_text()
                time.sleep(0.5)
        assert len(_children(server.pid)) == 2
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = browser.post(base + "/login", data={"username": "monitor1", "password": PASSWORD,
                                                     "csrf_token": token}, timeout=10)
        assert answer.ok and "/login" not in answer.url
        # Written by this process, a third one: every worker's stream must show it.
        alert = Alert(kind="negative_surge", severity="critical", message="跨实例预警：积水", dedup_key="x:1")
        session.add(alert)
        session.commit()
        for _ in range(8):  # the two workers take turns on new connections
            fresh = requests.Session()
            fresh.cookies.update(browser.cookies)
            stream = fresh.get(base + "/monitor/stream?after=0", timeout=20)
            assert stream.status_code == 200, "a session cookie made on one worker must work on every worker"
            assert f"id: {alert.id}\nevent: alert" in stream.text and "跨实例预警" in stream.text
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
