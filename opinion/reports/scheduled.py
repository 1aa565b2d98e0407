"""What the scheduler makes for leaders: the daily brief each morning, the weekly summary on
Monday morning, the monthly and quarterly reports on the 1st, and a special report for every case the ladder takes to level 5 (专报批办).

Each function takes `now`, so a test (or a replay) decides what "this morning" is; making the
same report twice replaces it in the archive instead of listing it twice.
"""
from __future__ import annotations

import re
from datetime import datetime

from flask import current_app
from sqlalchemy import select

from opinion.labels import REPORT_KINDS
from opinion.models import Case, Instruction, Report
from opinion.notify import notify
from opinion.reports import periods
from opinion.reports.archive import generate_periodic, generate_special

_WHEN = re.compile(r"^\s*(?:(mon|tue|wed|thu|fri|sat|sun)\s+)?(\d{1,2}):(\d{2})\s*$", re.IGNORECASE)


def parse_schedule(text: str) -> dict:
    """'mon 07:30' or '07:30' → APScheduler cron fields; ValueError names the setting's format."""
    m = _WHEN.match(text or "")
    if not m or int(m.group(2)) > 23 or int(m.group(3)) > 59:
        raise ValueError(f"报告生成时间 “{text}” 无法识别，应写成 “07:30” 或 “mon 07:30”")
    fields = {"hour": int(m.group(2)), "minute": int(m.group(3))}
    if m.group(1):
        fields["day_of_week"] = m.group(1).lower()
    return fields


def periodic_due(session, kind: str, now: datetime) -> Report:
    """The report of the last complete period of `kind` before `now` (day, week, month, quarter):
    yesterday's brief each morning, last week's summary on Monday, last month's and quarter's on the 1st."""
    tz = current_app.config["TIMEZONE"]
    return generate_periodic(session, periods.last_complete(kind, now, tz), trigger="schedule", now=now)


def special_due(session, now: datetime) -> list[Report]:
    """A special report for each level-5 case that has none yet, and a fresh one where a leader
    has written an instruction (批示) since the archived copy was made."""
    reported = select(Report.case_id).where(Report.kind == "special", Report.case_id.is_not(None))
    new = session.execute(select(Case.id).where(Case.escalation_level >= 5, Case.id.not_in(reported))
                          .order_by(Case.id)).scalars().all()
    instructed = select(Instruction.id).where(Instruction.case_id == Report.case_id,
                                              Instruction.at > Report.generated_at).exists()
    stale = session.execute(select(Report.case_id).where(Report.kind == "special", instructed)
                            .order_by(Report.case_id)).scalars().all()
    made = []
    for case_id in dict.fromkeys([*new, *stale]):
        made.append(generate_special(session, case_id=case_id, trigger="ladder", now=now))
        # One report, one short write: the document was rendered before its row was written
        # (archive.store), and committing here ends the write before the next one renders, so a
        # web request never waits behind twenty PDFs.
        session.commit()
    return made


def mail_to_recipients(session, district, report: Report, base_url: str, now: datetime) -> int:
    """Queue an e-mail about a scheduled report to the addresses the admin set for its kind
    (report_recipients); sent by the notification delivery job, retried like every e-mail."""
    addresses = district.report_recipients.get(report.kind, [])
    if not addresses or report.status == "failed":
        return 0
    link = f"{base_url.rstrip('/')}/leader/reports/{report.id}/html" if base_url else "系统“舆情报告”页面"
    formats = "、".join(sorted((report.files or {}).keys())).upper() or "HTML"
    notify(session, addresses, report.title,
           f"{REPORT_KINDS.get(report.kind, '报告')}已生成：{report.title}。\n请登录后查看或下载（{formats}）：{link}",
           channels=("email",), now=now)
    return len(addresses)
