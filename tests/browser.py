"""What every browser test shares: Debian's Chromium driven by Playwright, the app served by
waitress on a free local port over a SQLite file, log-in, and where screenshots go."""
from __future__ import annotations

import shutil
import threading
from contextlib import contextmanager

import pytest

from tests.conftest import REPO
from tests.factories import PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="没有安装 Chromium（make test 会通过 scripts/install-browser 安装）")
SHOTS = REPO / "test-artifacts"


def make_app(tmp_path, **config):
    """An app on its own SQLite file with the district's units loaded."""
    from opinion import create_app
    from opinion.accounts.directory import sync_units
    from opinion.models import db
    # A one-second keep-alive lets an alert stream notice within a second that its browser is gone.
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'browser.db'}",
                      "MONITOR_STREAM_KEEPALIVE": 1, **config})
    with app.app_context():
        db.create_all()
        sync_units(db.session, app.extensions["district"])
        db.session.commit()
    return app


@contextmanager
def serve(app):
    """The app behind waitress on a free port; yields its base address."""
    from waitress import wasyncore
    from waitress.server import create_server
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    loop = threading.Thread(target=server.run, daemon=True)
    loop.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # A worker thread that ends its request (an alert stream) wakes the server's loop by
        # os.write-ing b"x" into its trigger pipe. Were the pipe closed first, that byte would land in
        # whatever reused the descriptor: once another test's PostgreSQL socket ("invalid frontend
        # message type 120"). So the workers finish before anything is closed, and if one will not,
        # the pipe stays open.
        server.task_dispatcher.shutdown(timeout=30)
        if server.task_dispatcher.threads:
            wasyncore.dispatcher.close(server)  # stop listening; leave the trigger to the live thread
        else:
            wasyncore.close_all(server._map)
            loop.join(timeout=5)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright
    SHOTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
        yield b
        b.close()


def login(page, base, user, password=PASSWORD):
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    with page.expect_navigation():  # the next step must act on the page after log-in
        page.click("button[type=submit]")
