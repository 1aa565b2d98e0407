"""统一发布: a unit's statements from its own accounts (the spokesperson's list and draft form) and
their approval list (unit heads, monitors). The workflow itself is opinion.matrix.statements."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from opinion.errors import OpinionError, PublishError
from opinion.labels import PLATFORM_NAMES
from opinion.matrix import statements
from opinion.models import STATEMENT_KINDS, Case, OfficialAccount, RumourCheck, Topic, Unit, UnitStatement, db, utcnow
from opinion.web.auth import roles_required
from opinion.web.forms import commit_or_flash

bp = Blueprint("statements", __name__, url_prefix="/statements")


class StatementFormError(OpinionError):
    """A field of the draft form the author must fix; the message names it."""


def _unit_for_page() -> Unit | None:
    """A spokesperson sees their own unit; a monitor picks one (the first with an account by default)."""
    if current_user.role == "spokesperson":
        return db.session.get(Unit, current_user.unit_id) or abort(403)
    wanted = request.values.get("unit_id", type=int)
    if wanted:
        return db.session.get(Unit, wanted) or abort(404)
    first = db.session.execute(select(OfficialAccount.unit_id).order_by(OfficialAccount.id).limit(1)).scalar()
    return db.session.get(Unit, first) if first else None


def _page(unit: Unit, form: dict, findings=(), status: int = 200):
    accounts = db.session.execute(select(OfficialAccount).where(OfficialAccount.unit_id == unit.id)
                                  .order_by(OfficialAccount.id)).scalars().all()
    rows = db.session.execute(select(UnitStatement).join(OfficialAccount)
                              .where(OfficialAccount.unit_id == unit.id)
                              .order_by(UnitStatement.id.desc()).limit(100)).scalars().all()
    units = (db.session.execute(select(Unit).join(OfficialAccount, OfficialAccount.unit_id == Unit.id)
                                .distinct().order_by(Unit.id)).scalars().all()
             if current_user.role == "monitor" else [])
    # a published 辟谣 answering a rumour the unit has still to verify: the way back to its 核实 form
    to_verify = dict(db.session.execute(select(RumourCheck.topic_id, RumourCheck.id).where(
        RumourCheck.unit_id == unit.id, RumourCheck.status == "pending")).all())
    return render_template("statements.html", unit=unit, units=units, accounts=accounts, rows=rows, form=form,
                           findings=findings, KINDS=STATEMENT_KINDS, to_verify=to_verify,
                           PLATFORM_NAMES=PLATFORM_NAMES), status


@bp.route("/")
@roles_required("spokesperson", "monitor")
def index():
    unit = _unit_for_page()
    if unit is None:
        flash("还没有任何单位登记政务账号：请系统管理员先在“政务矩阵”中登记账号，再起草发布稿", "error")
        return redirect(url_for("matrix.index"))
    editing = db.session.get(UnitStatement, request.args.get("edit", type=int) or 0)
    if editing is not None and editing.account.unit_id == unit.id and editing.status in ("draft", "rejected"):
        local = editing.scheduled_at.astimezone(ZoneInfo(current_app.extensions["district"].timezone)) \
            if editing.scheduled_at else None
        return _page(unit, {"statement_id": str(editing.id), "account_id": str(editing.account_id),
                            "kind": editing.kind, "text": editing.text, "topic_id": str(editing.topic_id or ""),
                            "case_id": str(editing.case_id or ""),
                            "scheduled_at": local.strftime("%Y-%m-%dT%H:%M") if local else ""})
    return _page(unit, {"kind": request.args.get("kind", "situation"), "topic_id": request.args.get("topic_id", "")})


def _local(text: str) -> datetime | None:
    if not text.strip():
        return None
    try:
        local = datetime.strptime(text.strip(), "%Y-%m-%dT%H:%M")
    except ValueError:
        raise StatementFormError("“定时发布”时间格式不对，请用日期时间选择器填写，或留空立即发布") from None
    return local.replace(tzinfo=ZoneInfo(current_app.extensions["district"].timezone))


def _linked(model, field: str, label: str) -> int | None:
    text = request.form.get(field, "").strip().lstrip("#")
    if not text:
        return None
    if not text.isdigit() or db.session.get(model, int(text)) is None:
        raise StatementFormError(f"{label} “{text}” 不存在，请核对编号或留空")
    return int(text)


@bp.route("/", methods=["POST"])
@roles_required("spokesperson", "monitor")
def draft():
    district, now = current_app.extensions["district"], utcnow()
    account = db.session.get(OfficialAccount, request.form.get("account_id", type=int) or 0)
    if account is None:
        flash("请选择发布账号；本单位还没有账号时，请管理员先在政务矩阵中登记", "error")
        return redirect(url_for("statements.index"))
    existing = db.session.get(UnitStatement, request.form.get("statement_id", type=int) or 0)
    outcome = {}

    def save():
        statement = statements.save_draft(
            db.session, current_user, account, request.form.get("kind", ""), request.form.get("text", ""), now,
            statement=existing, topic_id=_linked(Topic, "topic_id", "话题"), case_id=_linked(Case, "case_id", "工单"),
            scheduled_at=_local(request.form.get("scheduled_at", "")))
        if request.form.get("action") == "submit":
            outcome["result"] = statements.submit(db.session, district, statement, current_user, now,
                                                  confirmed=bool(request.form.get("confirmed")))
        return statement
    done = commit_or_flash(save, prefix="未保存：")
    result = outcome.get("result")
    if done.error is None and (result is None or result.status != "blocked"):
        flash("已提交审核，审核通过后发布" if result else "草稿已保存", "info")
        return redirect(url_for("statements.index", unit_id=account.unit_id))
    form = {**request.form, "statement_id": str(done.value.id) if done.value else ""}
    if result is not None:
        flash("未提交：请先修改下列问题" + ("" if any(f.severity == "error" for f in result.findings)
                                           else "，或勾选“已核对”后再提交"), "error")
    return _page(account.unit, form, result.findings if result else (), 400)


@bp.route("/approvals")
@roles_required("spokesperson", "monitor")
def approvals():
    query = select(UnitStatement).where(UnitStatement.status.in_(("pending_approval", "failed")))
    if current_user.role != "monitor":
        if not current_user.is_unit_head:
            abort(403)
        query = query.join(OfficialAccount).where(OfficialAccount.unit_id == current_user.unit_id)
    rows = db.session.execute(query.order_by(UnitStatement.id)).scalars().all()
    district = current_app.extensions["district"]
    return render_template("statement_approvals.html", rows=rows,
                           can_approve=lambda u, s: statements.can_approve(u, s, district.statement_approval),
                           channel=statements.channel,
                           check=lambda s: statements.check_statement(district, s.kind, s.text))


def _statement(statement_id: int) -> UnitStatement:
    return db.session.get(UnitStatement, statement_id) or abort(404)


@bp.route("/<int:statement_id>/approve", methods=["POST"])
@roles_required("spokesperson", "monitor")
def approve(statement_id: int):
    statement, district = _statement(statement_id), current_app.extensions["district"]
    link = request.form.get("link", "").strip() or None
    if statement.status == "failed" and not statements.can_approve(current_user, statement,
                                                                   district.statement_approval):
        flash("只有本单位负责人或舆情监测员可以重新发布", "error")
        return redirect(url_for("statements.approvals"))
    if statement.status == "failed":  # approved before; the channel refused: try again
        action = lambda: statements.publish(db.session, district, statement, utcnow(), link=link,  # noqa: E731
                                            actor=current_user)
    else:
        action = lambda: statements.approve(db.session, district, statement, current_user, utcnow(),  # noqa: E731
                                            link=link)
    if commit_or_flash(action, keep=(PublishError,), prefix="未发布：").error is None:
        flash("已发布" if statement.status == "published" else "已批准，将按定时发布", "info")
    return redirect(url_for("statements.approvals"))


@bp.route("/<int:statement_id>/reject", methods=["POST"])
@roles_required("spokesperson", "monitor")
def reject(statement_id: int):
    statement, rule = _statement(statement_id), current_app.extensions["district"].statement_approval
    if commit_or_flash(lambda: statements.reject(db.session, statement, current_user, request.form.get("note", ""),
                                                 utcnow(), rule=rule), prefix="未退回：").error is None:
        flash("已退回起草人修改", "info")
    return redirect(url_for("statements.approvals"))
