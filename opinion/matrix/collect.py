"""Collecting each official account: its own posts and figures, through the existing collectors.

Weibo accounts are read with the Weibo collector's `statuses/user_timeline` (collectors.weibo);
the others (公众号, Douyin, a website column) through the feed they publish, with the RSS collector.
An account is due by the same rules as a source (opinion.ingest.schedule: interval, back-off of a
failing account, Retry-After), and the scheduler's one matrix job collects the due ones each minute
(with a broker it sends one `collect_account` task per due account instead, so workers read the
platforms in parallel, as they do sources).
Posts are stored once per account and platform id; a post seen again has its reposts, comments and
likes refreshed, which is what "figures updated" means for a post that keeps being shared.

For a Weibo account the comments under its recent posts are read too (`comments/show`), but only
who commented and when: the account's state keeps, per post, the times of netizens' comments and
of the account's own answers, which is all the "never answers comments" flag needs
(opinion.matrix.figures.reply_figures). A post is read again only when its comment count moved.
Feeds carry no comments, so an account read through RSS is never judged on them.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from collectors import CollectorError, NormalisedPost, RateLimited, SourceNotConfigured, make_collector
from opinion.ingest.schedule import is_due
from opinion.models import OfficialAccount, OfficialPost
from opinion.settings.district import MATRIX_DAYS_MAX

# A post older than this is not read again on each run: its figures have settled. The no-reply
# window may not be longer (the setting's upper bound is this, opinion.settings.district).
REFRESH_DAYS = MATRIX_DAYS_MAX["no_reply_days"]
# At most this many posts' comments are read per run (newest first); the rest wait for the next.
COMMENT_POSTS = 20
# Per post, the newest this many comment times are kept: enough to count a window's comments.
KEPT_TIMES = 100


def read_account(account: OfficialAccount, now: datetime) -> tuple[list[NormalisedPost], dict, list[str]]:
    """(posts, figures, warnings) from the account's platform; raises the collectors' errors."""
    config = dict(account.config or {})
    if config.get("demo"):  # seed-demo's accounts (opinion.demo.matrix): no platform behind them
        return [], {}, []
    if account.kind == "weibo_api":
        collector = make_collector("weibo_api", config, {})
        posts, figures = collector.timeline(config.get("uid"), config.get("screen_name") or account.handle,
                                            not_before=now - timedelta(days=REFRESH_DAYS))
        figures["comments"] = read_comments(collector, str(config.get("uid") or figures.get("uid") or ""),
                                            posts, dict((account.state or {}).get("comments") or {}))
        return posts, figures, collector.warnings
    config.setdefault("url", config.get("feed_url") or account.url)
    # A fresh state each run: the feed's ETag would hide the figures we re-read (feeds have none, but
    # a changed entry must still be seen).
    collector = make_collector("rss", config, {})
    return list(collector.collect(None)), {}, collector.warnings


def read_comments(collector, uid: str, posts: list[NormalisedPost], known: dict) -> dict:
    """{post id: {"n": comment count, "others": [ISO times], "answers": [ISO times]}} for the posts
    still read: a post whose count is unchanged keeps what was read before, one with new comments
    is read again (up to COMMENT_POSTS a run). A comment by the account itself (`uid`) is an answer.
    A refusal stops the reading for this run, with a warning; the posts are kept all the same."""
    if not uid:  # whose comment is an answer cannot be told: judge nothing rather than wrongly
        return known
    out, read = {}, 0
    for post in sorted(posts, key=lambda p: p.created_at or datetime.min.replace(tzinfo=timezone.utc), reverse=True):
        key = post.external_id[:128]
        before = known.get(key)
        if before is not None and before.get("n") == post.comments:
            out[key] = before
            continue
        if not post.comments or read >= COMMENT_POSTS:
            if before is not None:
                out[key] = before
            continue
        try:
            comments = collector.comments_on(key)
        except CollectorError as exc:
            collector.warnings.append(f"评论未读取：{exc}")
            read = COMMENT_POSTS
            if before is not None:
                out[key] = before
            continue
        read += 1
        times = lambda mine: sorted((c["at"].isoformat() for c in comments  # noqa: E731
                                     if c["at"] is not None and (c["user"] == uid) == mine), reverse=True)[:KEPT_TIMES]
        out[key] = {"n": post.comments, "others": times(False), "answers": times(True)}
    return out


def store_posts(session, account: OfficialAccount, posts: list[NormalisedPost], now: datetime) -> tuple[int, int]:
    """Insert the new posts, refresh the figures of those already stored; (added, updated)."""
    ids = [p.external_id[:128] for p in posts]
    known = {row.external_id: row for row in session.execute(
        select(OfficialPost).where(OfficialPost.account_id == account.id,
                                   OfficialPost.external_id.in_(ids))).scalars()} if ids else {}
    added = updated = 0
    for post in posts:
        key = post.external_id[:128]
        row = known.get(key)
        if row is None:
            row = OfficialPost(account_id=account.id, external_id=key, text=post.text or "", url=post.url,
                               created_at=post.created_at or now, collected_at=now, updated_at=now,
                               reposts=post.reposts, comments=post.comments, likes=post.likes)
            session.add(row)
            known[key] = row   # the same id twice in one answer is stored once
            added += 1
        elif (row.reposts, row.comments, row.likes) != (post.reposts, post.comments, post.likes):
            row.reposts, row.comments, row.likes = post.reposts, post.comments, post.likes
            row.updated_at = now
            updated += 1
    return added, updated


def collect_account(session, account: OfficialAccount, now: datetime) -> str:
    """One run for one account; records success or failure on the account (never raises for the
    platform's errors) and returns a line in Chinese saying what happened."""
    account.last_run_at = now
    name = f"{account.unit.name if account.unit else ''}「{account.handle}」"
    try:
        posts, figures, warnings = read_account(account, now)
    except RateLimited as exc:
        account.failure_count += 1
        account.status = "failing"
        account.last_error = str(exc)
        if exc.retry_after:
            account.state = {**(account.state or {}), "retry_at": (now + timedelta(seconds=exc.retry_after)).isoformat()}
        return f"{name} 采集被限流：{exc}"
    except (CollectorError, SourceNotConfigured) as exc:
        account.failure_count += 1
        account.status = "failing"
        account.last_error = str(exc)
        return f"{name} 采集失败：{exc}"
    added, updated = store_posts(session, account, posts, now)
    if figures.get("followers") is not None:
        account.followers = figures["followers"]
    if figures.get("posts") is not None:
        account.posts_total = figures["posts"]
    account.failure_count = 0
    account.status = "ok"
    account.last_success_at = now
    account.last_error = "；".join(warnings) or None
    account.state = {k: v for k, v in (account.state or {}).items() if k != "retry_at"}
    if "comments" in figures:
        account.state = {**account.state, "comments": figures["comments"]}
    return f"{name} 新增 {added} 条，更新 {updated} 条互动数"


def due_accounts(session, now: datetime) -> list[int]:
    """The ids of the enabled accounts due at `now`."""
    accounts = session.execute(select(OfficialAccount).where(OfficialAccount.enabled.is_(True))
                               .order_by(OfficialAccount.id)).scalars().all()
    return [a.id for a in accounts if is_due(a, now)]


def collect_if_due(session, account_id: int, now: datetime) -> str | None:
    """One account's run if it still exists and is still due (a second try of the same run, or
    a run sent twice, finds it done and does nothing); None when skipped."""
    account = session.get(OfficialAccount, account_id)
    if account is None or not is_due(account, now):
        return None
    return collect_account(session, account, now)


def collect_due(session, now: datetime) -> list[str]:
    """Collect every enabled account that is due at `now`; a line per account.

    Each account is committed before the next is fetched: a slow platform then never holds the
    database's write lock (SQLite's is the whole file) while it answers, and an account that
    fails later keeps the others' posts."""
    due = due_accounts(session, now)
    session.commit()
    lines = []
    for account_id in due:
        lines.append(collect_account(session, session.get(OfficialAccount, account_id), now))
        session.commit()
    return lines
