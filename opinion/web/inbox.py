"""发言人工作台: a spokesperson's queue of their unit's cases, the most urgent deadline first.

Which cases are listed is decided in the query (opinion.cases.visible_cases: the unit's own cases and
those it co-handles), so no filter or page number can show another unit's work.
"""
from __future__ import annotations

from flask import Blueprint, render_template, request
from flask_login import current_user
from sqlalchemy.orm import selectinload

from opinion.cases.queries import awaiting_approval, inbox_counts, inbox_page, seen_case_ids
from opinion.labels import LEVEL_NAMES
from opinion.models import Case, db, utcnow
from opinion.web.auth import roles_required

bp = Blueprint("inbox", __name__, url_prefix="/inbox")
PAGE = 50
STATUS_FILTERS = {"open": "全部待办", "new": "待签收", "acknowledged": "已签收", "replied": "已回应",
                  "reopened": "重新办理", "transferred_back": "退回待定", "done": "已办结/关闭"}


@bp.route("/")
@roles_required("spokesperson")
def index():
    now = utcnow()
    args = request.args
    status = args.get("status", "open") if args.get("status") in STATUS_FILTERS else "open"
    filters = {"status": status, "priority": args.get("priority", ""),
               "overdue": args.get("overdue") == "1", "mine": args.get("mine") == "1"}
    page = max(args.get("page", 1, type=int), 1)
    rows, total = inbox_page(db.session, current_user, page=page, per_page=PAGE,
                             loads=(selectinload(Case.assignee),), now=now, **filters)
    return render_template("inbox.html", rows=rows, counts=inbox_counts(db.session, current_user, now), now=now,
                           filters=filters, page=page, awaiting=awaiting_approval(db.session, [c.id for c, _ in rows]),
                           seen=seen_case_ids(db.session, current_user, [c.id for c, _ in rows]),
                           LEVEL_NAMES=LEVEL_NAMES,
                           pages=max((total + PAGE - 1) // PAGE, 1), total=total, STATUS_FILTERS=STATUS_FILTERS,
                           query_args={k: v for k, v in args.items() if k != "page"},
                           filters_args={k: v for k, v in args.items() if k in ("status", "priority", "overdue", "mine")})
