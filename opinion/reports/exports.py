"""Exports of cases and posts to CSV and Excel: one row per record with all its dates and figures.

The rows are read as plain columns (no ORM objects), `yield_per` batches at a time, and written
out as they come (opinion.spreadsheet.csv_chunks / xlsx_file), so 100,000 cases never sit in
memory at once (bench/bench_export.py measures it). The case filters are the inbox's own
(opinion.cases.queries.inbox_query), visibility included.
"""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from opinion.labels import CASE_STATUS_NAMES, PRIORITY_NAMES, SATISFACTION_NAMES
from opinion.models import OPEN_CASE_STATUSES, Case, Post, Source, Unit, User

__all__ = ["CASE_HEADER", "POST_HEADER", "case_rows", "post_rows"]

BATCH = 1000
CASE_HEADER = ["编号", "查询码", "标题", "分类", "优先级", "状态", "主办单位", "承办人", "督办级别", "立案时间",
               "签收时限", "签收时间", "首次回应时限", "首次回应时间", "办结时限", "办结时间", "关闭时间",
               "当前时限", "是否超时", "延期工作日", "重新办理次数", "回访结果"]
POST_HEADER = ["编号", "来源", "发布时间", "作者", "正文", "链接", "转发", "评论", "点赞", "情感", "分类", "承办单位",
               "优先级", "话题编号"]


def _fmt(value: datetime | None, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""


def case_rows(session, query, due, tz: str, now: datetime):
    """Rows for CASE_HEADER from an inbox_query select and its due expression, oldest case first."""
    zone = ZoneInfo(tz)
    cols = (Case.id, Case.lookup_code, Case.title, Case.category, Case.priority, Case.status, Unit.name, User.name,
            Case.escalation_level, Case.created_at, Case.acknowledge_due_at, Case.acknowledged_at,
            Case.respond_due_at, Case.first_response_at, Case.resolve_due_at, Case.resolved_at, Case.closed_at,
            due, Case.extended_working_days, Case.reopen_count, Case.satisfaction)
    stmt = (query.with_only_columns(*cols).select_from(Case).join(Unit, Case.unit_id == Unit.id)
            .outerjoin(User, Case.assignee_id == User.id).order_by(Case.id)
            .execution_options(yield_per=BATCH))
    for (cid, code, title, category, priority, status, unit, assignee, level, created, ack_due, acked, resp_due,
         responded, res_due, resolved, closed, next_due, extended, reopened, satisfaction) in session.execute(stmt):
        is_open = status in OPEN_CASE_STATUSES
        yield [cid, code, title, category or "", PRIORITY_NAMES.get(priority, priority),
               CASE_STATUS_NAMES.get(status, status), unit, assignee or "", level, _fmt(created, zone),
               _fmt(ack_due, zone), _fmt(acked, zone), _fmt(resp_due, zone), _fmt(responded, zone),
               _fmt(res_due, zone), _fmt(resolved, zone), _fmt(closed, zone), _fmt(next_due, zone) if is_open else "",
               "是" if is_open and next_due is not None and next_due < now else "否", extended, reopened,
               SATISFACTION_NAMES.get(satisfaction or "", "")]


def post_rows(session, tz: str, *, since: datetime | None = None, until: datetime | None = None,
              source_code: str | None = None, unit_id: int | None = None):
    """Rows for POST_HEADER: the original posts (copies left out) in [since, until), oldest first."""
    zone = ZoneInfo(tz)
    stmt = (select(Post.id, Source.name, Post.created_at, Post.author, Post.text, Post.url, Post.reposts,
                   Post.comments, Post.likes, Post.polarity, Post.category, Unit.name, Post.priority, Post.topic_id)
            .join(Source, Post.source_id == Source.id).outerjoin(Unit, Post.unit_id == Unit.id)
            .where(Post.duplicate_of_id.is_(None)))
    if since:
        stmt = stmt.where(Post.created_at >= since)
    if until:
        stmt = stmt.where(Post.created_at < until)
    if source_code:
        stmt = stmt.where(Source.code == source_code)
    if unit_id:
        stmt = stmt.where(Post.unit_id == unit_id)
    polarity = {"negative": "负面", "neutral": "中性", "positive": "正面"}
    for (pid, source, created, author, text, url, reposts, comments, likes, pol, category, unit, priority,
         topic) in session.execute(stmt.order_by(Post.id).execution_options(yield_per=BATCH)):
        yield [pid, source, _fmt(created, zone), author or "", text, url or "", reposts, comments, likes,
               polarity.get(pol or "", ""), category or "", unit or "", PRIORITY_NAMES.get(priority or "", ""),
               topic or ""]
