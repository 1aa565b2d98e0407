"""The case page (工单详情) and its actions: acknowledge and reply.

Who may see a case is decided in the query (opinion.cases.visible_cases): a spokesperson asking
for another unit's case gets 404, as if it did not exist.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from opinion import cases as service
from opinion.errors import OpinionError
from opinion.models import AuditEvent, Case, Post, db, utcnow

bp = Blueprint("cases", __name__, url_prefix="/cases")


def _get_visible(case_id: int) -> Case:
    case = db.session.execute(service.visible_cases(current_user).where(Case.id == case_id)
                              ).scalar_one_or_none()
    if case is None:
        abort(404)
    return case


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int):
    case = _get_visible(case_id)
    posts = db.session.execute(select(Post).where(Post.topic_id == case.topic_id)
                               .order_by(Post.created_at.desc()).limit(100)).scalars().all()
    history = db.session.execute(select(AuditEvent).where(AuditEvent.object_type == "case",
                                                          AuditEvent.object_id == case.id)
                                 .order_by(AuditEvent.at)).scalars().all()
    can_act = current_user.role in ("spokesperson", "monitor", "admin") and case.is_open
    return render_template("case.html", case=case, posts=posts, history=history, can_act=can_act)


@bp.route("/<int:case_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(case_id: int):
    return _act(case_id, lambda case: service.acknowledge(db.session, case, current_user, utcnow()),
                "已签收")


@bp.route("/<int:case_id>/reply", methods=["POST"])
@login_required
def reply(case_id: int):
    text = request.form.get("text", "")
    return _act(case_id, lambda case: service.add_reply(db.session, case, current_user, text, utcnow(),
                                                        external_url=request.form.get("url") or None),
                "回复已记录")


@bp.route("/<int:case_id>/resolve", methods=["POST"])
@login_required
def resolve(case_id: int):
    note = request.form.get("note", "")
    return _act(case_id, lambda case: service.resolve(db.session, case, current_user, note, utcnow()),
                "已办结")


def _act(case_id: int, action, done: str):
    case = _get_visible(case_id)
    try:
        action(case)
        db.session.commit()
        flash(done, "info")
    except OpinionError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(url_for("cases.show", case_id=case_id))
