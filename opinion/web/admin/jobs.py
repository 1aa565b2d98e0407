"""系统管理 — 失败任务: queued tasks that failed their last retry (only with a broker; without one,
tasks run in process and their failures are in the scheduler's log and on the source page)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from opinion.models import db
from opinion.tasks.queue import TASK_NAMES, recent_failures


def add_routes(bp: Blueprint) -> None:
    bp.add_url_rule("/failed-jobs", view_func=failed_jobs)


def failed_jobs():
    return render_template("admin/failed_jobs.html", jobs=recent_failures(db.session), TASK_NAMES=TASK_NAMES,
                           queued=bool(current_app.config.get("BROKER_URL")))
