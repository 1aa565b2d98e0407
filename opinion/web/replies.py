"""The reply composer's pages: submit, live check, edit lock, and the approval queue (回复审核).

The composer itself is a partial (templates/_composer.html) that the case page includes; its data
come from the `reply_composer(case)` template global defined here, so the case view needs no change.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask import session as web_session
from flask_login import current_user, login_required

from opinion.cases import replies as service
from opinion.cases.queries import approval_queue, first_post, pending_reply, visible_case
from opinion.errors import EditLockedError, OpinionError, PublishError
from opinion.models import Case, Reply, db, utcnow
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("replies", __name__, url_prefix="/replies")
ACTORS = ("spokesperson", "monitor", "admin")
CONFLICT = "该工单刚被他人修改，回复未发送，内容已保留。请核对工单最新状态后重新发送。"


def _tz() -> str:
    return current_app.config["TIMEZONE"]


def _district():
    return current_app.extensions["district"]


def _get_case(case_id: int) -> Case:
    return visible_case(db.session, current_user, case_id) or abort(404)


def _unsent_key(case_id: int) -> str:
    return f"composer_text_{case_id}"


@bp.app_template_global()
def reply_composer(case: Case) -> dict:
    """Everything the composer partial shows for the current user on this case."""
    now = utcnow()
    session = db.session
    values = service.placeholder_values(session, case, now, _tz())
    draft = service.draft_of(session, case, current_user)
    text = web_session.pop(_unsent_key(case.id), None) or (draft.text if draft else "")
    lock = service.current_lock(session, case, now)
    collector, post = service.reply_channel(session, case)
    limit = getattr(collector, "max_reply_chars", None) if collector is not None else None
    pending = [r for r in case.replies if r.status == "pending_approval"]
    rendered = [(t.id, t.title, service.render(t.body, values)) for t in service.templates_for(session, case)]
    return {
        "can_compose": current_user.role in ACTORS and case.is_open,
        # Each template says whether it fits this case's channel once filled in (a 129-character
        # skeleton is 208 characters filled, and Weibo takes 140).
        "templates": [(i, title, body, limit is None or len(body) <= limit) for i, title, body in rendered],
        "limit": limit, "channel_name": post.source.name if post is not None else None,
        "draft": draft, "text": text,
        "findings": service.check_reply(_district(), text) if text else [],
        "locked_by": lock.user if lock is not None and lock.user_id != current_user.id else None,
        "locked_until": lock.expires_at if lock is not None else None,
        "has_channel": collector is not None,
        "approval_reason": service.approval_reason(session, _district(), case, text),
        "pending": pending,
        "can_approve": {r.id: service.can_approve(current_user, r) for r in pending},
    }


@bp.route("/cases/<int:case_id>/submit", methods=["POST"])
@login_required
def submit(case_id: int):
    case = _get_case(case_id)
    text = request.form.get("text", "")
    template_id = request.form.get("template_id", type=int)
    link = request.form.get("link", "").strip() or None

    def send():
        if request.form.get("action") == "draft":
            service.acquire_lock(db.session, case, current_user, utcnow(), _tz())
            service.save_draft(db.session, case, current_user, text, utcnow(), template_id=template_id, link=link)
            return None
        return service.submit(db.session, _district(), case, current_user, text, utcnow(),
                              template_id=template_id, link=link, tz=_tz(),
                              confirmed=request.form.get("confirmed") == "1",
                              split=request.form.get("split") == "1")
    if request.form.get("action") == "send" and request.form.get("preview_ok") != "1":
        preview = _preview(case, text, template_id, link)
        if preview is not None:
            return preview
    sent = commit_or_flash(send, stale=CONFLICT)
    if not sent:  # locked by another person, case closed or changed
        web_session[_unsent_key(case_id)] = text[:20000]  # shown again in the composer
        return redirect(url_for("cases.show", case_id=case_id, _anchor="composer"))
    outcome = sent.value
    if outcome is None:
        flash("草稿已保存", "info")
        return redirect(url_for("cases.show", case_id=case_id, _anchor="composer"))
    if outcome.status == "published":
        flash("回复已发布" + ("（已通过原渠道回复网友）" if outcome.reply.channel != "elsewhere" else "（已记录发布链接）"), "info")
    elif outcome.status == "pending_approval":
        flash(f"回复已提交审核：{outcome.reason}", "info")
    else:
        errors = [f.message for f in outcome.findings if f.severity == "error"]
        flash("未发送，草稿已保存。" + ("；".join(errors) if errors else "请核对下列提示后勾选“我已核对”再发送"),
              "error")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="composer"))


def _preview(case: Case, text: str, template_id: int | None, link: str | None):
    """Before a reply goes straight to the public, show exactly what will be posted and where,
    and ask to confirm. None where the submission will not publish at once (the check blocks it,
    or it goes to approval first): those outcomes say so themselves."""
    findings = service.check_reply(_district(), text)
    confirmed = request.form.get("confirmed") == "1"
    if any(f.severity == "error" for f in findings) or (findings and not confirmed):
        return None
    if service.approval_reason(db.session, _district(), case, text):
        return None
    limit, channel = service.channel_limit(db.session, case)
    split = request.form.get("split") == "1"
    too_long = bool(limit and len(text.strip()) > limit)
    parts = service.split_reply(text, limit) if too_long and split else [text.strip()]
    # Keep the text as a draft now: the person may leave the preview and come back.
    try:
        service.acquire_lock(db.session, case, current_user, utcnow(), _tz())
        service.save_draft(db.session, case, current_user, text, utcnow(), template_id=template_id, link=link)
        db.session.commit()
    except OpinionError:  # locked by someone else: the ordinary submission says so
        db.session.rollback()
        return None
    return render_template("reply_preview.html", case=case, text=text, parts=parts, limit=limit,
                           channel=channel, too_long=too_long and not split, split=split, link=link,
                           template_id=template_id, confirmed=confirmed,
                           split_count=len(service.split_reply(text, limit)) if too_long else 1)


@bp.route("/cases/<int:case_id>/shorten", methods=["POST"])
@login_required
def shorten(case_id: int):
    """Turn a reply too long for its channel into a short one that links to the full answer."""
    case = _get_case(case_id)
    text, full_link = request.form.get("text", ""), request.form.get("full_link", "").strip()
    limit, _ = service.channel_limit(db.session, case)
    if not full_link.lower().startswith(("http://", "https://")):
        flash("请填写以 http:// 或 https:// 开头的全文链接（如单位网站上发布的完整答复）", "error")
        web_session[_unsent_key(case_id)] = text[:20000]
        return redirect(url_for("cases.show", case_id=case_id, _anchor="composer"))
    try:
        short = service.short_reply(text, limit or len(text), full_link)
    except OpinionError as exc:
        flash(str(exc), "error")
        web_session[_unsent_key(case_id)] = text[:20000]
        return redirect(url_for("cases.show", case_id=case_id, _anchor="composer"))
    web_session[_unsent_key(case_id)] = short
    flash(f"已改为 {len(short)} 字的短回复并附全文链接，请核对后发送", "info")
    return redirect(url_for("cases.show", case_id=case_id, _anchor="composer"))


@bp.route("/cases/<int:case_id>/check", methods=["POST"])
@login_required
def check(case_id: int):
    """The same check the submission runs, for the composer's live hints."""
    case = _get_case(case_id)
    text = (request.get_json(silent=True) or {}).get("text", "")
    findings = service.check_reply(_district(), text)
    return jsonify(findings=[f.to_dict() for f in findings],
                   approval=service.approval_reason(db.session, _district(), case, text))


@bp.route("/cases/<int:case_id>/lock", methods=["POST"])
@login_required
def lock(case_id: int):
    """Take or renew the edit lock while the person types; 409 with the holder's name if taken."""
    case = _get_case(case_id)
    if current_user.role not in ACTORS:
        abort(403)
    try:
        held = service.acquire_lock(db.session, case, current_user, utcnow(), _tz())
        db.session.commit()
    except EditLockedError as exc:
        db.session.rollback()
        return jsonify(ok=False, message=str(exc)), 409
    return jsonify(ok=True, expires_at=held.expires_at.isoformat())


@bp.route("/cases/<int:case_id>/cancel", methods=["POST"])
@login_required
def cancel(case_id: int):
    """Stop composing: the lock is released (the draft, if saved, stays)."""
    case = _get_case(case_id)
    service.release_lock(db.session, case, current_user)
    db.session.commit()
    flash("已退出撰写，其他人现在可以回复此工单", "info")
    return redirect(url_for("cases.show", case_id=case_id))


@bp.route("/approvals")
@roles_required("monitor", "spokesperson")
def approvals():
    if current_user.role == "spokesperson" and not current_user.is_unit_head:
        abort(403)
    rows = approval_queue(db.session, current_user)
    # What each reply answers, so the approver reads the citizen's words beside the answer.
    channels = {r.id: service.reply_channel(db.session, r.case) for r in rows}
    answered = {r.id: channels[r.id][1] or first_post(db.session, r.case) for r in rows}
    return render_template("approvals.html", rows=rows, can_approve=service.can_approve, answered=answered,
                           channel_of=lambda r: channels[r.id][0] is not None,
                           check=lambda r: service.check_reply(_district(), r.text))


def _pending(reply_id: int) -> Reply:
    return pending_reply(db.session, current_user, reply_id) or abort(404)


@bp.route("/<int:reply_id>/approve", methods=["POST"])
@roles_required("monitor", "spokesperson")
def approve(reply_id: int):
    reply = _pending(reply_id)
    # A channel that fails to publish keeps the approval and says why, to retry.
    if commit_or_flash(lambda: service.approve(db.session, reply, current_user, utcnow(),
                                               link=request.form.get("link", "").strip() or None),
                       stale=CONFLICT, keep=(PublishError,)):
        flash(f"已批准并发布：工单 #{reply.case_id}", "info")
    return redirect(url_for("replies.approvals"))


@bp.route("/<int:reply_id>/withdraw", methods=["POST"])
@login_required
def withdraw(reply_id: int):
    """The author pulls a pending reply back into the composer."""
    reply = db.get_or_404(Reply, reply_id)
    if commit_or_flash(lambda: service.withdraw(db.session, reply, current_user, utcnow())):
        flash("已撤回，回复已回到草稿，可修改后重新提交", "info")
    return redirect(url_for("cases.show", case_id=reply.case_id, _anchor="composer"))


@bp.route("/<int:reply_id>/reject", methods=["POST"])
@roles_required("monitor", "spokesperson")
def reject(reply_id: int):
    reply = _pending(reply_id)
    if commit_or_flash(lambda: service.reject(db.session, reply, current_user, request.form.get("note", ""),
                                              utcnow())):
        flash(f"已退回：工单 #{reply.case_id}", "info")
    return redirect(url_for("replies.approvals"))
