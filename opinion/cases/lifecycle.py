"""Cases (工单): one unit's duty to answer one topic, as an explicit state machine.

new → acknowledged (签收) → replied (首次回应) → resolved (办结) → verified (回访) → closed, plus
transferred_back (退回待定), reopened (不满意重办) and merged. `TRANSITIONS` is the whole machine:
every change of status goes through `transition`, which refuses anything not in the table with a
Chinese message and writes who, when, from, to and why to the audit log.

One open case per topic and unit: new posts on the topic attach to it. The assignee comes from the
unit's duty roster (opinion.cases.duty); the receiving unit owns the case (首单负责制) until the
monitoring centre accepts a transfer (opinion.cases.transfers).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Boolean, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from opinion import audit
from opinion.accounts.queries import unit_spokespersons
from opinion.cases.deadlines import resolve_deadline, set_deadlines
from opinion.cases.duty import pick_assignee
from opinion.cases.public import with_lookup_line
from opinion.errors import CaseStateError, ConflictError, PermissionDenied
from opinion.labels import CASE_STATUS_NAMES, LEVEL_NAMES, PRIORITY_NAMES, SATISFACTION_NAMES
from opinion.models import OPEN_CASE_STATUSES, Case, CaseCoUnit, Reply, Topic, Unit, User
from opinion.notify import notify
from opinion.routing.priority import higher
from opinion.settings.district import District

__all__ = ["TRANSITIONS", "transition", "open_or_attach", "open_case", "acknowledge", "add_reply", "resolve",
           "record_callback", "apply_callback", "close", "merge", "check_can_act", "check_version", "visible_cases",
           "pick_assignee"]

# action -> (statuses it may start from, status it leads to, the action's Chinese name)
TRANSITIONS: dict[str, tuple[frozenset[str], str, str]] = {
    "acknowledge": (frozenset({"new"}), "acknowledged", "签收"),
    # A unit that has asked to return a case does not answer the public for it until the centre
    # decides (its clocks still run under 首单负责制, so the centre decides quickly).
    "reply": (frozenset({"new", "acknowledged", "replied", "reopened"}), "replied", "回复"),
    "resolve": (frozenset({"replied"}), "resolved", "办结"),
    "transfer_back": (frozenset({"new", "acknowledged"}), "transferred_back", "申请退回"),
    "transfer_reassigned": (frozenset({"transferred_back", "new", "acknowledged", "reopened"}), "new", "改派"),
    "transfer_sent_back": (frozenset({"transferred_back"}), "acknowledged", "驳回退回"),  # or new/replied
    "verify": (frozenset({"resolved"}), "verified", "回访"),
    "reopen": (frozenset({"resolved"}), "reopened", "重新办理"),
    "close": (frozenset({"verified", "resolved"}), "closed", "关闭"),
    "merge": (frozenset(OPEN_CASE_STATUSES), "merged", "合并"),
}
# The audit action each transition writes (the others are "case.<action>").
_ACTION_EVENTS = {"acknowledge": "case.acknowledged", "reply": "case.replied", "resolve": "case.resolved",
                  "transfer_back": "case.transferred_back", "verify": "case.verified",
                  "reopen": "case.reopened", "close": "case.closed", "merge": "case.merged"}


def open_key(topic_id: int, unit_id: int) -> str:
    return f"{topic_id}:{unit_id}"


def transition(session, case: Case, action: str, user: User | None, now: datetime, *,
               reason: str | None = None, to: str | None = None, extra: dict | None = None) -> None:
    """Move `case` by `action` if the table allows it from its status; audit it; else refuse."""
    allowed, target, name = TRANSITIONS[action]
    if case.status not in allowed:
        raise CaseStateError(f"工单当前状态为“{CASE_STATUS_NAMES[case.status]}”，不能{name}")
    before, case.status = case.status, to or target
    if case.status not in OPEN_CASE_STATUSES:
        case.open_key = None
    elif case.open_key is None and case.topic_id is not None:
        claim_open_key(session, case)
    audit.record(session, _ACTION_EVENTS.get(action, f"case.{action}"), "case", case.id,
                 actor=user, at=now, reason=reason,
                 before={"status": before}, after={"status": case.status, **(extra or {})})


def claim_open_key(session, case: Case) -> None:
    """A case back in play takes its topic's slot again unless another open case holds it."""
    key = open_key(case.topic_id, case.unit_id)
    taken = session.execute(select(Case.id).where(Case.open_key == key, Case.id != case.id)).first()
    case.open_key = None if taken else key


def open_or_attach(session, district: District, topic: Topic, unit: Unit, *, priority: str,
                   category: str | None, reason: str, now: datetime,
                   open_cases: dict | None = None) -> tuple[Case, bool]:
    """Return the topic's open case for `unit`, opening one if there is none; the bool says
    whether it is new. A more urgent post raises the case's priority and its deadlines.
    `open_cases`: the open cases one ingest batch has looked up (by open key), so a batch asks the
    database once per topic and unit, not once per post."""
    key = open_key(topic.id, unit.id)
    if open_cases is not None and key in open_cases:
        case = open_cases[key]
    else:
        case = session.execute(select(Case).where(Case.open_key == key)).scalar_one_or_none()
    if case is not None:
        if open_cases is not None:
            open_cases[key] = case
        raised = higher(priority, case.priority)
        if raised != case.priority:
            before = {"priority": case.priority}
            case.priority = raised
            set_deadlines(case, district)
            audit.record(session, "case.priority_raised", "case", case.id, before=before,
                         after={"priority": raised}, reason="新帖子触发更高优先级", at=now)
        return case, False
    case = open_case(session, district, unit, title=topic.label or "未命名话题", priority=priority,
                     category=category, reason=reason, now=now, topic=topic)
    if open_cases is not None:
        open_cases[key] = case
    return case, True


def open_case(session, district: District, unit: Unit, *, title: str, priority: str, category: str | None,
              reason: str, now: datetime, topic: Topic | None = None) -> Case:
    """A new case for `unit`, with its deadlines, its assignee from the duty roster, audited and
    announced. Without a topic it is a matter raised outside the posts (an interview question)."""
    case = Case(topic_id=topic.id if topic else None, unit_id=unit.id,
                open_key=open_key(topic.id, unit.id) if topic else None,
                title=title[:200], category=category, priority=priority,
                status="new", routing_reason=reason, created_at=now, updated_at=now)
    set_deadlines(case, district)
    case.assignee = pick_assignee(session, unit, priority=priority, now=now)
    session.add(case)
    session.flush()
    audit.record(session, "case.opened", "case", case.id, at=now, reason=reason,
                 after={"unit": unit.code, "priority": priority,
                        "assignee": case.assignee.username if case.assignee else None})
    notify(session, [case.assignee] if case.assignee else unit_spokespersons(session, unit.id),
           f"【新工单】#{case.id}「{case.title}」",
           f"{unit.name}收到一件{PRIORITY_NAMES.get(priority, priority)}工单，请及时签收。", case=case,
           kind="case_assigned", now=now)
    return case


def follow_topic_merge(session, keep: Topic, gone: Topic, user: User | None, now: datetime) -> list[int]:
    """A monitor (or the upkeep job) merged topic `gone` into `keep`: its cases follow. A case
    that held its unit's open slot on `gone` takes the slot on `keep`, unless that unit already has
    an open case there; then it stays open beside it, for a person to merge (合并工单 on the case
    page): closing a case is a person's decision. Returns the ids of the cases moved."""
    moved = []
    for case in session.execute(select(Case).where(Case.topic_id == gone.id).order_by(Case.id)).scalars():
        case.topic_id, had_slot, case.open_key = keep.id, case.open_key is not None, None
        if had_slot:
            session.flush()  # free the old slot before the new one is claimed
            claim_open_key(session, case)
        holder = None
        if had_slot and case.open_key is None:
            holder = session.execute(select(Case.id).where(Case.topic_id == keep.id, Case.unit_id == case.unit_id,
                                                           Case.open_key.is_not(None))).scalar()
        audit.record(session, "case.topic_merged", "case", case.id, actor=user, at=now,
                     before={"topic": gone.id}, after={"topic": keep.id},
                     reason=f"所属话题 #{gone.id} 并入 #{keep.id}"
                            + (f"；该单位在此话题已有工单 #{holder}，可在工单页合并" if holder else ""))
        moved.append(case.id)
    return moved


def record_escalation(session, case: Case, level: int, reason: str, notified: list[str], channel,
                      now: datetime) -> None:
    """The ladder raised `case` to `level` (2-5): level 3 marks it for supervision (现场督办), level 5
    for a special report (专报批办). Audited with who was told and how."""
    audit.record(session, "case.escalated", "case", case.id, at=now, before={"level": case.escalation_level},
                 after={"level": level, "notified": notified, "channel": channel},
                 reason=f"{LEVEL_NAMES[level]}：{reason}")
    case.escalation_level = level
    case.supervised = case.supervised or level >= 3
    case.special_report = case.special_report or level >= 5


def record_reminder(session, case: Case, key: str, reason: str, notified: list[str], now: datetime) -> None:
    """Level 1 (电子催办) reminded the assignee about the running deadline; `key` names the deadline
    and the fraction, so the same reminder is never sent twice."""
    audit.record(session, "case.reminded", "case", case.id, at=now, reason=f"{LEVEL_NAMES[1]}：{reason}",
                 after={"key": key, "level": 1, "notified": notified})
    case.escalation_level = max(case.escalation_level, 1)


def check_can_act(user: User, case: Case) -> None:
    """Spokespersons act on their own unit's cases (lead or co-handling); monitors on any;
    leaders only read."""
    if user.role not in ("spokesperson", "monitor", "admin"):
        raise PermissionDenied("您的角色只能查看，不能办理工单")
    if user.role == "spokesperson" and user.unit_id != case.unit_id \
            and user.unit_id not in {c.unit_id for c in case.co_units}:
        raise PermissionDenied("该工单不属于您的单位")


def check_lead(user: User, case: Case) -> None:
    """Acknowledge, resolve, transfer and extension are the lead unit's (主办) to do."""
    check_can_act(user, case)
    if user.role == "spokesperson" and user.unit_id != case.unit_id:
        raise PermissionDenied("协办单位只能回复，签收、办结、退回和延期由主办单位办理")


def check_monitor(user: User, what: str) -> None:
    if user.role not in ("monitor", "admin"):
        raise PermissionDenied(f"只有舆情监测员可以{what}")


def check_version(case: Case, seen_version: int | str | None) -> None:
    """Refuse a change made on a stale page: someone else changed the case after it was shown."""
    if seen_version in (None, ""):
        return
    try:
        seen = int(seen_version)
    except (TypeError, ValueError):
        raise ConflictError("页面版本信息无效，请刷新后重试") from None
    if seen != case.version:
        raise ConflictError("该工单已被他人修改（可能是其他监测员刚刚处理过），您的操作未保存。"
                            "请查看最新状态后重新提交，您填写的内容已保留在表单中。")


def acknowledge(session, case: Case, user: User, now: datetime) -> None:
    check_lead(user, case)
    transition(session, case, "acknowledge", user, now)
    case.acknowledged_at = now
    if case.assignee_id is None and user.role == "spokesperson":
        case.assignee_id = user.id


def add_reply(session, case: Case, user: User, text: str, now: datetime, *,
              channel: str = "web", external_url: str | None = None,
              reply: Reply | None = None) -> Reply:
    """Record a published reply; the first one stops the first-response clock (and counts as 签收
    too). `reply` is a composer draft being published (opinion.cases.replies): it becomes the reply."""
    check_can_act(user, case)
    text = (text or "").strip()
    if not text:
        raise CaseStateError("回复内容不能为空")
    if len(text) > 5000:
        raise CaseStateError("回复内容过长（最多 5000 字）")
    if not case.is_open:
        raise CaseStateError("工单已办结或关闭，不能再回复")
    if reply is None:
        reply = Reply(case=case, author_id=user.id, created_at=now)
        session.add(reply)
    text = with_lookup_line(text, case)  # the citizen follows the matter up with it (查询码)
    reply.text, reply.channel, reply.external_url = text, channel, external_url
    reply.status, reply.published_at = "published", now
    if case.acknowledged_at is None:
        case.acknowledged_at = now
    if case.first_response_at is None:
        case.first_response_at = now
    session.flush()
    transition(session, case, "reply", user, now, extra={"reply_id": reply.id, "channel": channel})
    return reply


class in_list(FunctionElement):
    """column IN (subquery), written on PostgreSQL as column = ANY(ARRAY(subquery)): the list is then
    worked out first and an index answers it inside an OR, where IN (subquery) makes PostgreSQL
    read the whole table (the inbox at 500,000 cases: 100 ms a statement against 28 ms)."""
    type = Boolean()
    name = "in_list"
    inherit_cache = True


@compiles(in_list)
def _in_list(element, compiler, **kw):
    column, subquery = element.clauses
    return f"({compiler.process(column, **kw)} IN {compiler.process(subquery, **kw)})"


@compiles(in_list, "postgresql")
def _in_list_postgresql(element, compiler, **kw):
    column, subquery = element.clauses
    return f"({compiler.process(column, **kw)} = ANY(ARRAY{compiler.process(subquery, **kw)}))"


def led_or_co_handled(unit_id: int):
    """The cases a unit leads or co-handles (case_co_unit)."""
    co = select(CaseCoUnit.case_id).where(CaseCoUnit.unit_id == unit_id).scalar_subquery()
    return or_(Case.unit_id == unit_id, in_list(Case.id, co))


def visible_cases(user: User):
    """A select of the cases this user may see, enforced in the query itself."""
    query = select(Case)
    if user.role == "spokesperson":
        query = query.where(led_or_co_handled(user.unit_id))
    return query


def resolve(session, case: Case, user: User, note: str, now: datetime) -> None:
    """办结: the matter is dealt with. Needs a public reply first and a note of what was done."""
    check_lead(user, case)
    note = (note or "").strip()
    if case.status != "replied":
        raise CaseStateError("工单须先签收并首次回应，才能办结")
    if not note:
        raise CaseStateError("办结须填写办理结果说明")
    transition(session, case, "resolve", user, now, reason=note[:2000])
    case.resolved_at, case.resolution_note = now, note[:2000]


def record_callback(session, district: District, case: Case, user: User, satisfaction: str,
                    note: str, now: datetime) -> None:
    """回访: the citizen's verdict. 满意/基本满意 verifies the case (it closes on the next tick);
    不满意 reopens it with a new resolve deadline counted from now."""
    check_monitor(user, "登记回访结果")
    note = (note or "").strip()
    if satisfaction == "unsatisfied" and not note:
        raise CaseStateError("群众不满意时须记录不满意的原因")
    apply_callback(session, district, case, user, satisfaction, note, now)


def apply_callback(session, district: District, case: Case, user: User | None, satisfaction: str,
                   note: str, now: datetime, *, channel: str = "phone") -> None:
    """The callback's effects, whoever recorded it: a monitor after a phone call, or the citizen
    on the survey page (`user` None, `channel` "survey")."""
    if satisfaction not in SATISFACTION_NAMES:
        raise CaseStateError("请选择回访结果：满意、基本满意或不满意")
    verdict = SATISFACTION_NAMES[satisfaction]
    if satisfaction != "unsatisfied":
        transition(session, case, "verify", user, now, reason=note or verdict,
                   extra={"satisfaction": satisfaction, "channel": channel})
        case.satisfaction, case.verified_at = satisfaction, now
        return
    transition(session, case, "reopen", user, now, reason=f"回访{verdict}：{note or '（群众未填写原因）'}",
               extra={"satisfaction": satisfaction, "channel": channel})
    case.satisfaction, case.verified_at = satisfaction, now
    case.reopened_at, case.reopen_count = now, case.reopen_count + 1
    case.resolved_at = None
    case.escalation_level = 0  # the ladder starts again against the new deadline
    case.resolve_due_at = resolve_deadline(district, case)


def close(session, case: Case, now: datetime, reason: str, user: User | None = None) -> None:
    transition(session, case, "close", user, now, reason=reason)
    case.closed_at = now


def close_finished(session, district: District, now: datetime) -> list[str]:
    """Close verified cases, and resolved ones whose callback went unanswered for the configured
    number of days (callback_no_answer_days)."""
    lines = []
    limit = now - timedelta(days=district.callback_no_answer_days)
    for case in session.execute(select(Case).where(or_(
            Case.status == "verified", (Case.status == "resolved") & (Case.resolved_at <= limit)))
            .order_by(Case.id)).scalars():
        if case.status == "verified":
            close(session, case, now, f"回访{SATISFACTION_NAMES.get(case.satisfaction, '')}，自动关闭")
        else:
            close(session, case, now, f"回访 {district.callback_no_answer_days} 天无应答，自动关闭")
        lines.append(f"#{case.id} 已关闭")
    return lines


def merge(session, case: Case, into: Case, user: User, reason: str, now: datetime) -> None:
    """Fold a duplicate case into another open one; its topic's posts stay visible on both."""
    check_monitor(user, "合并工单")
    if into.id == case.id:
        raise CaseStateError("不能把工单合并到它自己")
    if not into.is_open:
        raise CaseStateError(f"目标工单 #{into.id} 已办结或关闭，不能合并进去")
    reason = (reason or "").strip()
    if not reason:
        raise CaseStateError("合并工单须说明原因")
    transition(session, case, "merge", user, now, reason=reason, extra={"into": into.id})
    case.merged_into_id, case.closed_at = into.id, now
    audit.record(session, "case.merged", "case", into.id, actor=user, at=now, reason=reason,
                 after={"absorbed": case.id})
