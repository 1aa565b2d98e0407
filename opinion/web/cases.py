"""The case page (工单详情) and its actions: the whole lifecycle, one POST route per action.

Who may see a case is decided in the query (opinion.cases.visible_cases): a spokesperson asking
for another unit's case gets 404, as if it did not exist. Every form carries the case version it
was rendered with; a change made on a stale page, or one that loses a race at commit
(StaleDataError), is refused with a conflict message and the page comes back with what the person
typed still in the form, so nothing is lost.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy.orm.exc import StaleDataError

from opinion.accounts.queries import active_units, unit_by_code
from opinion.cases import duty, supervision, survey, transfers
from opinion.cases import lifecycle as service
from opinion.cases.queries import case_records, mark_case_seen, transferred_away, visible_case
from opinion.errors import ConflictError, OpinionError
from opinion.interviews.questions import question_of_case
from opinion.labels import LEVEL_NAMES
from opinion.matrix.rumours import checks_on_case
from opinion.models import Case, CaseExtension, Unit, User, db, utcnow
from opinion.notify.queries import mark_read
from opinion.topics.queries import posts_with_waves
from opinion.topics.trends import sparkline_points, topic_timeline
from opinion.web.forms import commit_or_flash

bp = Blueprint("cases", __name__, url_prefix="/cases")
STALE = "该工单刚被他人修改，您的操作未保存。请查看最新状态后重新提交，您填写的内容已保留在表单中。"


def _get_visible(case_id: int) -> Case:
    return visible_case(db.session, current_user, case_id) or abort(404)


def public_base_url() -> str:
    """Where citizens reach this system (OPINION_PUBLIC_URL), for links sent to them."""
    return current_app.config.get("PUBLIC_URL") or request.host_url


def _district():
    return current_app.extensions["district"]


def _page(case: Case, draft: dict | None = None, status: int = 200):
    posts, copies, trend = [], {}, None
    if case.topic_id:
        posts, copies = posts_with_waves(db.session, case.topic_id)
        if case.topic:
            counts, slot = topic_timeline(db.session, case.topic_id, case.topic.first_seen_at,
                                          case.topic.last_seen_at)
            trend = {"points": sparkline_points(counts, 600, 60, 4), "counts": counts,
                     "hours": slot.total_seconds() / 3600}
    user = current_user
    lead = user.role in ("monitor", "admin") or (user.role == "spokesperson" and user.unit_id == case.unit_id)
    monitor = user.role in ("monitor", "admin")
    ctx = dict(
        case=case, posts=posts, copies=copies, trend=trend, draft=draft or {}, level_names=LEVEL_NAMES,
        can_act=user.role in ("spokesperson", "monitor", "admin") and case.is_open,
        can_lead=lead and case.is_open, is_monitor=monitor, is_leader=user.role == "leader",
        can_reassign_user=case.is_open and (monitor or (user.is_unit_head and user.unit_id == case.unit_id)),
        transfer=transfers.pending_transfer(db.session, case),
        transfer_due=transfers.transfer_deadline(_district(), case),
        extension_left=_district().extension_cap_working_days - case.extended_working_days,
        units=active_units(db.session) if monitor or lead else [],
        colleagues=duty.spokespersons(db.session, case.unit_id),
        merged_into=db.session.get(Case, case.merged_into_id) if case.merged_into_id else None,
        satisfaction_names=service.SATISFACTION_NAMES, rumour_checks=checks_on_case(db.session, case.id),
        interview_question=question_of_case(db.session, case.id),
        **case_records(db.session, case.id),
    )
    return render_template("case.html", **ctx), status


@bp.route("/<int:case_id>")
@login_required
def show(case_id: int):
    case = visible_case(db.session, current_user, case_id)
    if case is None:
        moved = transferred_away(db.session, current_user, case_id)
        if moved is None:
            abort(404)
        return render_template("case_moved.html", case_id=case_id, moved=moved,
                               title=db.session.get(Case, case_id).title)
    # Opening the case is reading it: the inbox stops marking it 未读 and its notifications are read.
    now = utcnow()
    mark_case_seen(db.session, current_user, case.id, now)
    mark_read(db.session, current_user, now, case_id=case.id)
    db.session.commit()
    return _page(case)


def _act(case_id: int, action, done):
    """Run `action(case)` for a POST; commit, or refuse with the reason and keep the input.
    `done` is the message, or what `action` returned when it is None (a decision says which)."""
    case = _get_visible(case_id)

    def checked():
        service.check_version(case, request.form.get("version"))
        return action(case)
    outcome = commit_or_flash(checked, stale=STALE)
    if not outcome:
        status = 409 if isinstance(outcome.error, (ConflictError, StaleDataError)) else 400
        return _page(_get_visible(case_id), draft=request.form.to_dict(), status=status)
    flash(done if done is not None else outcome.value, "info")
    return redirect(url_for("cases.show", case_id=case_id))


def _form(name: str) -> str:
    return request.form.get(name, "")


def _fields(*names: str) -> list[str]:
    return [_form(name) for name in names]


def _unit(field: str) -> Unit | None:
    value = request.form.get(field) or ""
    if not value:
        return None
    unit = unit_by_code(db.session, value)
    if unit is None:
        raise OpinionError(f"单位 “{value}” 不存在")
    return unit


def _required_unit(field: str) -> Unit:
    unit = _unit(field)
    if unit is None:
        raise OpinionError("请选择单位")
    return unit


def _case_ref(field: str) -> Case:
    try:
        other = db.session.get(Case, int(request.form.get(field, "")))
    except ValueError:
        other = None
    if other is None:
        raise OpinionError("请填写存在的目标工单编号")
    return other


def _action(rule: str, done: str | None = None):
    """Register `fn(case, **url_values)` as the case's POST action at /<case_id>/<rule>, run by _act;
    the endpoint is named after the function (cases.acknowledge …)."""
    def register(fn):
        def view(case_id: int, **values):
            return _act(case_id, lambda case: fn(case, **values), done)
        bp.add_url_rule(f"/<int:case_id>/{rule}", fn.__name__, login_required(view), methods=["POST"])
        return fn
    return register


@_action("acknowledge", "已签收")
def acknowledge(case):
    return service.acknowledge(db.session, case, current_user, utcnow())


@_action("reply", "回复已记录")
def reply(case):
    """The plain reply form, kept for clients that post here; the page uses the composer."""
    return service.add_reply(db.session, case, current_user, _form("text"), utcnow(),
                             external_url=request.form.get("url") or None)


@_action("resolve", "已办结，已生成群众满意度回访链接")
def resolve(case):
    return survey.resolve(db.session, _district(), case, current_user, _form("note"), utcnow(),
                          base_url=public_base_url())


@_action("callback", "回访结果已登记")
def callback(case):
    return service.record_callback(db.session, _district(), case, current_user,
                                   _form("satisfaction"), _form("note"), utcnow())


@_action("transfer", "已申请退回，等待监测中心决定（决定前仍由本单位负责）")
def transfer(case):
    return transfers.transfer_back(db.session, _district(), case, current_user, _form("reason"), utcnow(),
                                   suggested_unit=_unit("suggested_unit"))


@_action("transfer/decide")
def decide_transfer(case):
    if _form("decision") == "reassign":
        unit = _required_unit("to_unit")
        transfers.reassign_unit(db.session, _district(), case, current_user, unit, _form("note"), utcnow())
        return f"已同意退回，工单改派至{unit.name}"
    if _form("decision") == "send_back":
        transfers.send_back(db.session, case, current_user, _form("note"), utcnow())
        return f"已驳回退回申请，仍由{case.unit.name}办理"
    raise OpinionError("请选择改派或驳回")


@_action("reassign-unit", "已改派，已记录为分拨纠错")
def reassign_unit(case):
    return transfers.reassign_unit(db.session, _district(), case, current_user, _required_unit("to_unit"),
                                   _form("note"), utcnow())


@_action("assignee", "已改派承办人")
def assignee(case):
    person = db.session.get(User, int(_form("assignee"))) if _form("assignee").isdigit() else None
    if person is None:
        raise OpinionError("请选择承办人")
    duty.reassign(db.session, case, current_user, person, _form("reason"), utcnow())


@_action("co-unit", "已增加协办单位")
def co_unit(case):
    return transfers.add_co_unit(db.session, case, current_user, _required_unit("unit"), utcnow())


@_action("priority", "优先级已调整，时限已重新计算")
def priority(case):
    return supervision.change_priority(db.session, _district(), case, current_user, *_fields("priority", "reason"),
                                       utcnow())


@_action("extension", "延期申请已提交，等待监测员审批")
def extension(case):
    days, reason = _fields("days", "reason")
    return supervision.request_extension(db.session, _district(), case, current_user, days, reason, utcnow())


@_action("extension/<int:extension_id>")
def decide_extension(case, extension_id: int):
    request_ = db.session.get(CaseExtension, extension_id)
    if request_ is None or request_.case_id != case.id:
        abort(404)
    return supervision.decide_extension(db.session, _district(), request_, current_user,
                                        _form("decision") == "approve", _form("note"), utcnow())


@_action("instruction", "批示已发送至承办单位")
def instruction(case):
    return supervision.write_instruction(db.session, case, current_user, _form("text"), utcnow())


@_action("merge", "工单已合并")
def merge(case):
    return service.merge(db.session, case, _case_ref("into"), current_user, _form("reason"), utcnow())
