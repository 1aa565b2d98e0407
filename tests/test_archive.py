"""历史帖子归档: old posts nothing cites go to an archive file and out of the database; cited ones stay;
a crash between writing and deleting loses nothing; the admin's setting is checked."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from opinion.ingest import archive
from opinion.ingest.archive import archive_folder, archive_posts, months_before, read_archive
from opinion.models import Alert, Case, Post, RoutingCorrection, Setting, Topic, Unit
from tests.factories import PASSWORD, make_source, make_user

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=500)


def _post(session, source, ext, *, when=OLD, topic=None, duplicate_of=None):
    post = Post(source_id=source.id, external_id=ext, raw_text=f"帖子{ext}", text=f"帖子{ext}", created_at=when,
                topic_id=topic.id if topic else None, duplicate_of_id=duplicate_of.id if duplicate_of else None,
                tokens=["帖子"], polarity="negative")
    session.add(post)
    session.flush()
    return post


def _topic(session, key):
    topic = Topic(key=key, label=key, first_seen_at=OLD, last_seen_at=OLD)
    session.add(topic)
    session.flush()
    return topic


@pytest.fixture
def history(session):
    """Old posts, some cited (the names say how), and one recent post."""
    source = make_source(session)
    unit = session.execute(select(Unit)).scalars().first()
    cased, quiet = _topic(session, "cased"), _topic(session, "quiet")
    posts = {name: _post(session, source, name) for name in ("plain1", "plain2", "plain3", "alerted", "listed",
                                                             "corrected", "original")}
    posts["in_case"] = _post(session, source, "in_case", topic=cased)
    posts["in_quiet_topic"] = _post(session, source, "in_quiet_topic", topic=quiet)
    posts["copy_of_plain3"] = _post(session, source, "copy_of_plain3", duplicate_of=posts["plain3"])
    posts["recent_copy"] = _post(session, source, "recent_copy", when=NOW - timedelta(days=3),
                                 duplicate_of=posts["original"])
    posts["recent"] = _post(session, source, "recent", when=NOW - timedelta(days=3))
    session.add(Case(unit_id=unit.id, topic_id=cased.id, title="积水", acknowledge_due_at=OLD, respond_due_at=OLD,
                     resolve_due_at=OLD, created_at=OLD, updated_at=OLD))
    session.add(Alert(kind="sensitive", severity="warning", message="敏感词", dedup_key="a1", status="open",
                      post_id=posts["alerted"].id, created_at=OLD))
    session.add(Alert(kind="burst", severity="warning", message="突增", dedup_key="a2", status="open",
                      post_ids=[posts["listed"].id], created_at=OLD))
    session.add(RoutingCorrection(post_id=posts["corrected"].id, to_unit_id=unit.id, text="改派", at=OLD))
    session.commit()
    return posts


KEPT = {"alerted", "listed", "corrected", "original", "in_case", "recent_copy", "recent"}


def _left(session) -> set[str]:
    return set(session.execute(select(Post.external_id)).scalars())


def test_old_uncited_posts_are_archived_and_readable_cited_ones_kept(app, session, history, tmp_path):
    run = archive_posts(session, tmp_path / "archive", 12, NOW, batch=2)
    assert _left(session) == KEPT
    archived = {row["external_id"]: row for row in read_archive(tmp_path / "archive")}
    assert set(archived) == set(history) - KEPT and run.archived == len(archived)
    row = archived["in_quiet_topic"]
    assert row["text"] == "帖子in_quiet_topic" and row["tokens"] == ["帖子"]
    assert datetime.fromisoformat(row["created_at"]) == OLD
    again = archive_posts(session, tmp_path / "archive", 12, NOW)
    assert again.archived == 0 and "没有需要归档" in again.describe()


def test_a_crash_between_writing_and_deleting_loses_nothing(app, session, history, tmp_path, monkeypatch):
    folder = tmp_path / "archive"
    real_delete = archive.delete

    def crash(*args, **kwargs):
        raise OSError("进程在删除前中断")
    monkeypatch.setattr(archive, "delete", crash)
    with pytest.raises(OSError):
        archive_posts(session, folder, 12, NOW, batch=2)
    session.rollback()
    assert len(list(folder.glob("posts-*.jsonl.gz"))) == 1 and not list(folder.glob("*.part"))
    assert _left(session) == set(history)  # the batch written is still in the database
    monkeypatch.setattr(archive, "delete", real_delete)
    archive_posts(session, folder, 12, NOW, batch=2)
    assert _left(session) == KEPT
    ids = [row["id"] for row in read_archive(folder)]
    assert len(ids) == len(set(ids)) == len(set(history) - KEPT)


def test_months_before_counts_calendar_months():
    assert months_before(datetime(2026, 3, 31, 8, tzinfo=timezone.utc), 1) == datetime(2026, 2, 28, 8, tzinfo=timezone.utc)
    assert months_before(datetime(2026, 1, 15, tzinfo=timezone.utc), 12) == datetime(2025, 1, 15, tzinfo=timezone.utc)


def test_admin_sets_the_period_bad_values_refused_in_chinese(app, client, session, runner, history):
    make_user(session, "admin", "admin")
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    for bad, says in (("一年", "不是整数"), ("2", "3 到 120"), ("500", "3 到 120")):
        page = client.post("/admin/config/retention", data={"months": bad})
        assert page.status_code == 400 and says in page.get_data(as_text=True)
        assert bad in page.get_data(as_text=True)  # the input stays on the page
    assert session.get(Setting, "retention") is None
    assert "不归档" in runner.invoke(args=["archive-posts"]).output
    assert client.post("/admin/config/retention", data={"months": "12"}).status_code == 302
    assert app.extensions["district"].archive_after_months == 12
    refused = runner.invoke(args=["archive-posts", "--months", "1"])
    assert refused.exit_code != 0 and "3 到 120" in refused.output
    result = runner.invoke(args=["archive-posts"])
    assert result.exit_code == 0 and "已归档" in result.output
    assert _left(session) == KEPT
    assert session.execute(select(func.count()).select_from(Post)).scalar() == len(KEPT)
    assert len(list(read_archive(archive_folder(app)))) == len(set(history) - KEPT)


def test_the_monthly_job_archives_by_the_setting(app, session, history):
    from dataclasses import replace

    from opinion.jobs import archive_old_posts
    archive_old_posts(app, now=NOW)  # 0 months (the file's default): nothing happens
    assert _left(session) == set(history) and not archive_folder(app).exists()
    app.extensions["district"] = replace(app.extensions["district"], archive_after_months=12)
    archive_old_posts(app, now=NOW)
    assert _left(session) == KEPT
