"""历史帖子归档: the retention policy that keeps the post table from growing without end.

An admin sets how many months posts are kept (系统管理 → 历史帖子归档, district `retention`). Older
posts that nothing cites are written to gzip JSON Lines files under instance/archive/ and then
deleted, a batch at a time. Cited, and so never archived: a post whose topic has a case, a report,
a rumour check, a unit statement, an alert or a routing correction; a post an alert or a routing
correction names; an original that a kept copy points to (a copy goes before its original).

Each batch's file is written to a temporary name, synced and renamed before the batch is deleted,
so a crash at any point loses nothing: at worst the batch is still in the database and is written
again by the next run, and read_archive gives every post once.
"""
from __future__ import annotations

import gzip
import json
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import aliased

from opinion.models import Alert, Case, Post, Report, RoutingCorrection, RumourCheck, UnitStatement, utcnow

BATCH = 5000


@dataclass
class ArchiveRun:
    cutoff: datetime
    archived: int = 0
    files: list[Path] = field(default_factory=list)

    def describe(self) -> str:
        if not self.archived:
            return f"没有需要归档的帖子（{self.cutoff:%Y-%m-%d} 之前且未被引用的帖子）"
        return (f"已归档 {self.archived} 条 {self.cutoff:%Y-%m-%d} 之前且未被引用的帖子，"
                f"写入 {len(self.files)} 个文件：{self.files[0].parent}")


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day if shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    following = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (following - date(year, month + 1, 1)).days
    return moment.replace(year=year, month=month + 1, day=min(moment.day, last_day))


def _uncited(cutoff: datetime):
    """Posts older than cutoff that nothing cites (module docstring)."""
    copy = aliased(Post)
    topic_cited = or_(*[exists().where(model.topic_id == Post.topic_id)
                        for model in (Case, Report, RumourCheck, UnitStatement, Alert, RoutingCorrection)])
    return [Post.created_at < cutoff,
            or_(Post.topic_id.is_(None), ~topic_cited),
            ~exists().where(Alert.post_id == Post.id),
            ~exists().where(RoutingCorrection.post_id == Post.id),
            ~exists().where(copy.duplicate_of_id == Post.id)]


def _alert_post_ids(session) -> set[int]:
    """The posts an alert lists as its evidence (a JSON list, which SQL cannot join on everywhere)."""
    ids: set[int] = set()
    for post_ids in session.execute(select(Alert.post_ids).where(Alert.post_ids.is_not(None))).scalars():
        ids.update(int(i) for i in post_ids or [])
    return ids


def _row(post: Post) -> dict:
    out = {}
    for column in Post.__table__.columns:
        value = getattr(post, column.key)
        out[column.key] = value.isoformat() if isinstance(value, datetime) else value
    return out


def _write(folder: Path, name: str, rows: list[dict]) -> Path:
    """The batch's file, complete on disk before it has its name."""
    final, partial = folder / name, folder / (name + ".part")
    with open(partial, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb") as out:
            for row in rows:
                out.write((json.dumps(row, ensure_ascii=False) + "\n").encode())
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, final)
    return final


def archive_posts(session, folder: Path, months: int, now: datetime | None = None,
                  batch: int = BATCH) -> ArchiveRun:
    """Archive then delete the posts older than `months` months that nothing cites; commits a batch
    at a time. Passes repeat until one archives nothing (an original goes once its copies have)."""
    now = now or utcnow()
    run = ArchiveRun(cutoff=months_before(now, months))
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S")
    cited = _alert_post_ids(session)
    while True:
        before, last_id = run.archived, 0
        while True:
            posts = session.execute(select(Post).where(Post.id > last_id, *_uncited(run.cutoff))
                                    .order_by(Post.id).limit(batch)).scalars().all()
            if not posts:
                break
            last_id = posts[-1].id
            rows = [_row(p) for p in posts if p.id not in cited]
            if not rows:
                continue
            run.files.append(_write(folder, f"posts-{stamp}-{len(run.files) + 1:05d}.jsonl.gz", rows))
            session.execute(delete(Post).where(Post.id.in_([r["id"] for r in rows])))
            session.commit()
            run.archived += len(rows)
        if run.archived == before:
            return run


def archive_folder(app) -> Path:
    return Path(app.config.get("ARCHIVE_DIR") or Path(app.instance_path) / "archive")


def apply_retention(app, session, now: datetime | None = None, months: int | None = None) -> ArchiveRun | None:
    """Archive by the admin's setting (or `months`); None when posts are kept for ever (0)."""
    months = app.extensions["district"].archive_after_months if months is None else months
    if not months:
        return None
    return archive_posts(session, archive_folder(app), months, now)


def read_archive(folder: Path):
    """Every archived post once (a batch written twice after a crash is read once), as a dict."""
    seen: set[int] = set()
    for path in sorted(Path(folder).glob("posts-*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as lines:
            for line in lines:
                row = json.loads(line)
                if row["id"] not in seen:
                    seen.add(row["id"])
                    yield row
