"""信息公开: what the district publishes about its answers, per unit and month.

The figures are the unit performance table's (opinion.reports.performance), so the public page
and the 考核 never disagree; the replies are the published ones only, every text masked as on the
public lookup page (opinion.cases.public.mask_personal). No case id, lookup code, staff name or
internal note leaves here.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from opinion.cases.public import mask_personal, without_lookup_line
from opinion.models import Case, Reply, Unit
from opinion.reports.performance import unit_performance
from opinion.settings.district import District

__all__ = ["month_bounds", "monthly_figures", "published_replies", "PublishedReply"]

MAX_QUERY = 50
MAX_SCAN = 5000  # a month's replies; the search filters what is shown, after masking


def month_bounds(year: int, month: int, tz: str) -> tuple[datetime, datetime]:
    """[first instant, first instant of the next month) in the district's zone."""
    zone = ZoneInfo(tz)
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start, end


def monthly_figures(session, district: District, start: datetime, end: datetime,
                    now: datetime | None = None) -> list[dict]:
    """One row per unit with cases received in the month: received, answered on time, resolved,
    satisfaction (rates 0..1 or None)."""
    rows = unit_performance(session, district, start, end, now=now)
    keep = ("unit_name", "accepted", "responded", "responded_on_time", "responded_on_time_rate", "resolved",
            "resolution_rate", "callbacks", "satisfaction_rate")
    return sorted(({k: r[k] for k in keep} for r in rows if r["accepted"]),
                  key=lambda r: (-r["accepted"], r["unit_name"]))


@dataclass(frozen=True)
class PublishedReply:
    at: datetime
    unit: str
    title: str
    text: str


def published_replies(session, start: datetime, end: datetime, *, query: str = "", page: int = 1,
                      per_page: int = 20) -> tuple[list[PublishedReply], int]:
    """The replies published in [start, end), newest first, those containing `query` in their
    text or their case's title; (one page, total)."""
    stmt = (select(Reply, Case.title, Unit.name).join(Case, Reply.case_id == Case.id)
            .join(Unit, Case.unit_id == Unit.id)
            .where(Reply.status == "published", Reply.published_at >= start, Reply.published_at < end))
    query = (query or "").strip()[:MAX_QUERY]
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(Reply.text.like(like, escape="\\") | Case.title.like(like, escape="\\"))
    rows = session.execute(stmt.order_by(Reply.published_at.desc(), Reply.id.desc()).limit(MAX_SCAN)).all()
    shown = [PublishedReply(r.published_at, unit, mask_personal(title),
                             mask_personal(without_lookup_line(r.text)))
             for r, title, unit in rows]
    if query:  # matched on what is shown, so a search cannot confirm a masked phone or ID number
        shown = [r for r in shown if query in r.text or query in r.title]
    return shown[(page - 1) * per_page: page * per_page], len(shown)
