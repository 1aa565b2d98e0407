"""The special-report job never holds SQLite's write lock while it renders (issue 18): people log
in while it makes a dozen reports, and not one log-in fails."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import select

from opinion import jobs
from opinion.models import Case, Report, Unit, db, utcnow
from tests.factories import PASSWORD, make_user

RENDER_SECONDS = 0.15
REPORTS = 12


def _sqlite_app(tmp_path, monkeypatch):
    monkeypatch.setenv("OPINION_INSTANCE_DIR", str(tmp_path / "instance"))
    # A short busy timeout stands for "longer than a person waits": on the old code the job held
    # the lock for every render after the first (about REPORTS × RENDER_SECONDS).
    monkeypatch.setattr("opinion.SQLITE_BUSY_TIMEOUT_MS", 400)
    from tests.browser import make_app
    app = make_app(tmp_path, WTF_CSRF_ENABLED=False, REPORT_FORMATS=["html"])
    return app


def _slow_render(self, fmt):
    time.sleep(RENDER_SECONDS)  # what a PDF costs, in small
    return f"<html>{self.title}</html>".encode()


def test_logins_succeed_while_special_reports_render(tmp_path, monkeypatch):
    app = _sqlite_app(tmp_path, monkeypatch)
    monkeypatch.setattr("opinion.reports.document.ReportDocument.render", _slow_render)
    now = utcnow()
    with app.app_context():
        unit = db.session.execute(select(Unit).where(Unit.code == "mzj")).scalar_one()
        make_user(db.session, "mzj_fyr", "spokesperson", "mzj")
        for n in range(REPORTS):
            db.session.add(Case(unit_id=unit.id, title=f"专报测试 {n}", escalation_level=5, special_report=True,
                                acknowledge_due_at=now - timedelta(days=3), respond_due_at=now - timedelta(days=2),
                                resolve_due_at=now - timedelta(days=1)))
        db.session.commit()
        db.engine.dispose()  # every connection from here on has the short timeout

    job = threading.Thread(target=jobs.special_reports, args=(app,))
    statuses = []
    job.start()
    client = app.test_client()
    while job.is_alive():
        response = client.post("/login", data={"username": "mzj_fyr", "password": PASSWORD})
        statuses.append(response.status_code)
        client.post("/logout")
    job.join()

    assert len(statuses) >= 5, "the job finished before the log-ins could meet it"
    assert set(statuses) == {302}, statuses
    with app.app_context():
        assert len(db.session.execute(select(Report)).scalars().all()) == REPORTS


def test_a_database_still_busy_gets_the_chinese_503_page(tmp_path, monkeypatch):
    app = _sqlite_app(tmp_path, monkeypatch)
    with app.app_context():
        make_user(db.session, "mzj_fyr", "spokesperson", "mzj")
    import sqlite3

    from sqlalchemy.exc import OperationalError

    def locked(*_a, **_kw):
        raise OperationalError("INSERT INTO audit_event", {}, sqlite3.OperationalError("database is locked"))
    monkeypatch.setattr("opinion.audit.record", locked)
    response = app.test_client().post("/login", data={"username": "mzj_fyr", "password": PASSWORD})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "系统繁忙，请稍后重试" in page and "Internal Server Error" not in page
