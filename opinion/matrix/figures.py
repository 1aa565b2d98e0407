"""The matrix page's figures: per account and per unit, posts this week and month, reach, the
silent accounts (僵尸号: no post in N days, N from the district settings) and the accounts that
never answer comments (从不回复评论: netizens commented on their posts in the last N days and the
account answered none; only accounts whose comments are collected, Weibo's, are judged).

"This week" starts on Monday and "this month" on the 1st, in the district's time zone, as the
weekly and monthly reports count. Reach is the followers the platform last reported plus the
reposts, comments and likes of the month's posts. Everything is computed at a given `now`, so the
page and the command line can replay a moment (`--now`).
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from opinion.models import OfficialAccount, OfficialPost, Topic, Unit

# A topic counts as hot for the "time to first statement" figure from this many posts.
HOT_TOPIC_POSTS = 5
STATEMENT_WINDOW_DAYS = 90


@dataclass
class AccountFigures:
    account: OfficialAccount
    posts_week: int = 0
    posts_month: int = 0
    interactions_month: int = 0   # reposts + comments + likes of the month's posts
    last_post_at: datetime | None = None
    silent_days: int | None = None  # days since the last post (since collection began if none)
    silent: bool = False
    comments_recent: int | None = None  # netizens' comments in the no-reply window (None: not collected)
    answers_recent: int | None = None   # the account's own answers in that window
    no_reply: bool = False


@dataclass
class UnitFigures:
    unit: Unit
    accounts: list[AccountFigures] = field(default_factory=list)
    statement_hours: float | None = None   # median, hot topic's start -> the unit's first statement
    topics_answered: int = 0
    topics_unanswered: int = 0

    @property
    def posts_week(self) -> int:
        return sum(a.posts_week for a in self.accounts)

    @property
    def posts_month(self) -> int:
        return sum(a.posts_month for a in self.accounts)

    @property
    def followers(self) -> int:
        return sum(a.account.followers or 0 for a in self.accounts)

    @property
    def interactions_month(self) -> int:
        return sum(a.interactions_month for a in self.accounts)

    @property
    def silent(self) -> int:
        return sum(1 for a in self.accounts if a.silent)

    @property
    def no_reply(self) -> int:
        return sum(1 for a in self.accounts if a.no_reply)


def period_starts(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """(Monday 00:00, the 1st 00:00) of `now`'s week and month in the zone, as UTC."""
    local = now.astimezone(ZoneInfo(tz))
    week = datetime.combine(local.date() - timedelta(days=local.weekday()), time(), ZoneInfo(tz))
    month = datetime.combine(local.date().replace(day=1), time(), ZoneInfo(tz))
    return week.astimezone(timezone.utc), month.astimezone(timezone.utc)


def is_silent(last_post_at: datetime | None, watched_since: datetime | None, now: datetime, days: int) -> tuple[bool, int | None]:
    """(silent, days quiet): quiet for `days` or more since the last post; an account with no post
    at all counts from when it was added to the matrix (a new account is not a 僵尸号 on day one)."""
    since = last_post_at or watched_since
    if since is None:
        return False, None
    quiet = (now - since).days
    return quiet >= days, quiet


def reply_figures(state: dict | None, now: datetime, days: int) -> tuple[int, int] | None:
    """(netizens' comments, the account's answers) in the `days` before `now`, from the comment
    times the collector keeps in the account's state; None when its comments are not collected."""
    kept = (state or {}).get("comments")
    if kept is None:
        return None
    start = now - timedelta(days=days)

    def count(field: str) -> int:
        return sum(1 for post in kept.values() for text in post.get(field, [])
                   if start <= datetime.fromisoformat(text) <= now)
    return count("others"), count("answers")


def account_figures(session, now: datetime, tz: str, silent_days: int,
                    unit_id: int | None = None, no_reply_days: int = 7) -> list[AccountFigures]:
    """Every enabled account's figures at `now` (a unit's only, with `unit_id`), by unit then platform."""
    week, month = period_starts(now, tz)
    query = select(OfficialAccount).join(Unit).where(OfficialAccount.enabled.is_(True))
    if unit_id is not None:
        query = query.where(OfficialAccount.unit_id == unit_id)
    accounts = session.execute(query.order_by(Unit.name, OfficialAccount.platform, OfficialAccount.handle)).scalars().all()
    ids = [a.id for a in accounts]
    if not ids:
        return []
    post = OfficialPost
    not_future = post.created_at <= now   # a replayed `now` does not see what came after it
    last = dict(session.execute(select(post.account_id, func.max(post.created_at))
                                .where(post.account_id.in_(ids), not_future).group_by(post.account_id)).all())
    month_rows = session.execute(
        select(post.account_id, func.count(post.id), func.sum(post.reposts + post.comments + post.likes))
        .where(post.account_id.in_(ids), post.created_at >= month, not_future).group_by(post.account_id)).all()
    per_month = {a: (n, int(i or 0)) for a, n, i in month_rows}
    per_week = dict(session.execute(select(post.account_id, func.count(post.id))
                                    .where(post.account_id.in_(ids), post.created_at >= week, not_future)
                                    .group_by(post.account_id)).all())
    out = []
    for account in accounts:
        last_at = last.get(account.id)
        if last_at is not None and last_at.tzinfo is None:
            last_at = last_at.replace(tzinfo=timezone.utc)
        silent, quiet = is_silent(last_at, account.created_at, now, silent_days)
        n_month, interactions = per_month.get(account.id, (0, 0))
        figures = AccountFigures(account, per_week.get(account.id, 0), n_month, interactions, last_at, quiet, silent)
        replies = reply_figures(account.state, now, no_reply_days)
        if replies is not None:
            figures.comments_recent, figures.answers_recent = replies
            figures.no_reply = replies[0] > 0 and replies[1] == 0
        out.append(figures)
    return out


def unit_figures(accounts: list[AccountFigures]) -> list[UnitFigures]:
    """The accounts grouped by unit, the units with a silent account first, then by month's posts."""
    by_unit: dict[int, UnitFigures] = {}
    grouped = defaultdict(list)
    for figures in accounts:
        grouped[figures.account.unit_id].append(figures)
        by_unit.setdefault(figures.account.unit_id, UnitFigures(figures.account.unit))
    for unit_id, rows in grouped.items():
        by_unit[unit_id].accounts = rows
    return sorted(by_unit.values(), key=lambda u: (-u.silent, -u.no_reply, -u.posts_month, u.unit.name))


def period_matrix(session, start: datetime, end: datetime, now: datetime, tz: str, silent_days: int,
                  no_reply_days: int = 7) -> list[dict]:
    """The weekly report's matrix section: per unit, its accounts, posts published in [start, end),
    followers, the period posts' interactions, and its accounts silent or never answering comments
    at the end of the period (or at `now` if earlier). Plain dicts, as the report writers read
    every figure. Empty when no account is registered, and the report then leaves the section out."""
    at = min(now, end)
    accounts = account_figures(session, at, tz, silent_days, no_reply_days=no_reply_days)
    if not accounts:
        return []
    post = OfficialPost
    rows = session.execute(
        select(post.account_id, func.count(post.id), func.sum(post.reposts + post.comments + post.likes))
        .where(post.created_at >= start, post.created_at < end).group_by(post.account_id)).all()
    in_period = {a: (n, int(i or 0)) for a, n, i in rows}
    out = []
    for unit in unit_figures(accounts):
        counts = [in_period.get(a.account.id, (0, 0)) for a in unit.accounts]
        out.append({"unit_name": unit.unit.name, "accounts": len(unit.accounts),
                    "posts": sum(n for n, _ in counts), "interactions": sum(i for _, i in counts),
                    "followers": unit.followers,
                    "silent": [a.account.handle for a in unit.accounts if a.silent],
                    "no_reply": [a.account.handle for a in unit.accounts if a.no_reply]})
    return sorted(out, key=lambda u: (-len(u["silent"]), -len(u["no_reply"]), u["posts"], u["unit_name"]))


def first_statements(session, now: datetime, unit_ids: list[int] | None = None) -> dict[int, list[float | None]]:
    """Per unit, for each hot topic it is responsible for (started in the last 90 days, at least
    HOT_TOPIC_POSTS posts): the hours from the topic's first post to the first post of one of the
    unit's accounts that names one of the topic's keywords, or None if the unit has said nothing.

    A keyword match is the link until a statement is linked to its topic when it is published
    (issue 22, item 2); a unit's post that speaks of the matter in other words is not seen."""
    query = select(Topic).where(Topic.unit_id.is_not(None), Topic.status != "merged",
                                Topic.post_count >= HOT_TOPIC_POSTS, Topic.first_seen_at <= now,
                                Topic.first_seen_at >= now - timedelta(days=STATEMENT_WINDOW_DAYS))
    if unit_ids is not None:
        query = query.where(Topic.unit_id.in_(unit_ids))
    topics = session.execute(query).scalars().all()
    if not topics:
        return {}
    earliest = min(t.first_seen_at for t in topics)
    posts = defaultdict(list)
    for unit_id, created_at, text in session.execute(
            select(OfficialAccount.unit_id, OfficialPost.created_at, OfficialPost.text)
            .join(OfficialAccount, OfficialPost.account_id == OfficialAccount.id)
            .where(OfficialPost.created_at >= earliest, OfficialPost.created_at <= now,
                   OfficialAccount.unit_id.in_({t.unit_id for t in topics}))
            .order_by(OfficialPost.created_at)).all():
        posts[unit_id].append((created_at, text or ""))
    out: dict[int, list[float | None]] = defaultdict(list)
    for topic in topics:
        words = [w for w in (topic.keywords or []) if len(w) >= 2]
        first = next((at for at, text in posts[topic.unit_id]
                      if at >= topic.first_seen_at and any(w in text for w in words)), None)
        out[topic.unit_id].append(None if first is None else (first - topic.first_seen_at).total_seconds() / 3600)
    return out


def add_statement_delays(session, units: list[UnitFigures], now: datetime) -> None:
    """Fill each unit's median time to first statement and its answered/unanswered hot topics."""
    delays = first_statements(session, now, [u.unit.id for u in units])
    for unit in units:
        got = delays.get(unit.unit.id, [])
        answered = sorted(d for d in got if d is not None)
        unit.topics_answered, unit.topics_unanswered = len(answered), len(got) - len(answered)
        unit.statement_hours = statistics.median(answered) if answered else None
