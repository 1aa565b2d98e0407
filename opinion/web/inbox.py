"""发言人工作台: a spokesperson's queue of their unit's cases, the most urgent deadline first.

Which cases are listed is decided in the query (opinion.cases.visible_cases: the unit's own cases and
those it co-handles), so no filter or page number can show another unit's work.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from opinion.cases.lifecycle import visible_cases
from opinion.labels import PRIORITY_NAMES
from opinion.models import OPEN_CASE_STATUSES, Case, Reply, db, utcnow
from opinion.web.auth import roles_required

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
PAGE = 50
STATUS_FILTERS = {"open": "全部待办", "new": "待签收", "acknowledged": "已签收", "replied": "已回应",
                  "reopened": "重新办理", "transferred_back": "退回待定", "done": "已办结/关闭"}


def next_due():
    """The deadline a case is racing now: acknowledge, then respond, then resolve."""
    return sql_case((Case.acknowledged_at.is_(None), Case.acknowledge_due_at),
                    (Case.first_response_at.is_(None), Case.respond_due_at),
                    else_=Case.resolve_due_at)


def inbox_query(user, *, status: str = "open", priority: str = "", overdue: bool = False,
                mine: bool = False, now=None):
    """The user's visible cases with the filters applied; (select, due expression)."""
    due = next_due()
    query = visible_cases(user).add_columns(due.label("due"))
    if status == "open":
        query = query.where(Case.status.in_(OPEN_CASE_STATUSES))
    elif status == "done":
        query = query.where(Case.status.not_in(OPEN_CASE_STATUSES))
    elif status != "all":  # "all": no status filter (the API offers it)
        query = query.where(Case.status == status)
    if priority in PRIORITY_NAMES:
        query = query.where(Case.priority == priority)
    if overdue:
        query = query.where(due < (now or utcnow()), Case.status.in_(OPEN_CASE_STATUSES))
    if mine:
        query = query.where(Case.assignee_id == user.id)
    return query, due


@bp.route("/")
@roles_required("spokesperson")
def index():
    now = utcnow()
    args = request.args
    status = args.get("status", "open") if args.get("status") in STATUS_FILTERS else "open"
    filters = {"status": status, "priority": args.get("priority", ""),
               "overdue": args.get("overdue") == "1", "mine": args.get("mine") == "1"}
    page = max(args.get("page", 1, type=int), 1)
    query, due = inbox_query(current_user, now=now, **filters)
    total = db.session.execute(query.with_only_columns(func.count())).scalar()
    rows = db.session.execute(query.options(selectinload(Case.assignee)).order_by(due, Case.id)
                              .limit(PAGE).offset((page - 1) * PAGE)).all()
    # The counters are over all the open cases, whatever the filters, in one pass.
    counters = db.session.execute(visible_cases(current_user).where(Case.status.in_(OPEN_CASE_STATUSES))
                                  .with_only_columns(
        func.count(), func.sum(sql_case((due < now, 1), else_=0)),
        func.sum(sql_case((Case.status == "new", 1), else_=0)),
        func.sum(sql_case((Case.assignee_id == current_user.id, 1), else_=0)),
        func.sum(sql_case((Case.priority == "urgent", 1), else_=0)))).one()
    counts = dict(zip(("open", "overdue", "new", "mine", "urgent"), (int(c or 0) for c in counters)))
    # Cases on this page with a reply waiting for approval: one look-up for the page's ids.
    awaiting = set(db.session.execute(select(Reply.case_id).where(
        Reply.case_id.in_([c.id for c, _ in rows]), Reply.status == "pending_approval")).scalars())
    return render_template("inbox.html", rows=rows, counts=counts, now=now, filters=filters, page=page,
                           awaiting=awaiting,
                           pages=max((total + PAGE - 1) // PAGE, 1), total=total, STATUS_FILTERS=STATUS_FILTERS,
                           query_args={k: v for k, v in args.items() if k != "page"})
