"""The demo opens on an ordinary Monday: most cases fresh or on time, one or two escalations, no
wall of red alerts, and work in the inbox of every spokesperson the README names."""
from sqlalchemy import func, select

from opinion.alerts.engine import evaluate_all
from opinion.cases.queries import inbox_page
from opinion.demo.seed import NAMED_UNITS
from opinion.models import OPEN_CASE_STATUSES, Alert, Case, User, utcnow


def test_the_demo_looks_like_an_ordinary_monday(app, runner, session):
    result = runner.invoke(args=["seed-demo", "--posts", "300", "--days", "10"])
    assert result.exit_code == 0, result.output
    now = utcnow()
    cases = session.execute(select(Case)).scalars().all()
    open_cases = [c for c in cases if c.status in OPEN_CASE_STATUSES]
    escalated = [c for c in open_cases if c.escalation_level >= 2]
    overdue = [c for c in open_cases if c.resolve_due_at <= now
               or (c.acknowledged_at is None and c.acknowledge_due_at <= now)
               or (c.first_response_at is None and c.respond_due_at <= now)]
    assert len(cases) >= 20
    assert 1 <= len(escalated) <= 2, [(c.id, c.escalation_level, c.status, c.created_at, c.acknowledged_at, c.first_response_at, c.reopen_count, c.assignee_id) for c in escalated]
    assert not any(c.escalation_level >= 5 for c in cases)
    assert len(overdue) <= 3, len(overdue)
    resolved = [c for c in cases if c.resolved_at is not None]
    assert len(resolved) >= len(cases) // 3  # most of the past weeks' work is done
    evaluate_all(session, app, now)
    session.commit()
    red = session.execute(select(func.count()).select_from(Alert).where(
        Alert.status == "open", Alert.severity == "critical")).scalar()
    live = session.execute(select(func.count()).select_from(Alert).where(Alert.status == "open")).scalar()
    assert red <= 2 and live <= 10, (red, live)
    readme = open("README.md", encoding="utf-8").read()
    for code in NAMED_UNITS:
        name = f"{code}_fyr"
        assert name in result.output
        user = session.execute(select(User).where(User.username == name)).scalar_one()
        rows, total = inbox_page(session, user, page=1, per_page=20)
        assert total >= 1, f"{name} 的工作台是空的"
    assert "zs_fyr" in readme


def test_the_demo_fills_the_matrix_with_statements_and_a_refutation(app, runner, session):
    """Every unit has an account, a few are silent, one never answers comments; a 情况通报 answers
    a hot topic and a 辟谣 refutes another, with posts on both sides of it to compare."""
    from opinion.matrix import rumours
    from opinion.matrix.figures import account_figures
    from opinion.models import OfficialAccount, OfficialPost, RumourCheck, Topic, Unit, UnitStatement
    result = runner.invoke(args=["seed-demo", "--posts", "200", "--days", "7"])
    assert result.exit_code == 0, result.output
    district, now = app.extensions["district"], utcnow()
    units = session.execute(select(Unit).where(Unit.active.is_(True))).scalars().all()
    accounts = session.execute(select(OfficialAccount)).scalars().all()
    assert {a.unit_id for a in accounts} == {u.id for u in units}
    rows = account_figures(session, now, district.timezone, district.matrix_silent_days,
                           no_reply_days=district.matrix_no_reply_days)
    silent = [r for r in rows if r.silent]
    mute = [r for r in rows if r.no_reply]
    assert 2 <= len(silent) < len(rows) / 2
    assert len(mute) == 1 and mute[0].comments_recent >= 3 and not mute[0].silent
    assert sum(1 for r in rows if r.answers_recent) >= 3   # the others do answer

    published = session.execute(select(UnitStatement).where(UnitStatement.status == "published")).scalars().all()
    kinds = {s.kind: s for s in published}
    assert set(kinds) == {"situation", "rumour"} and all(s.approver.is_unit_head for s in published)
    situation, refutation = kinds["situation"], kinds["rumour"]
    hot = session.get(Topic, situation.topic_id)
    assert hot.post_count >= 5 and hot.unit_id == situation.account.unit_id
    # the matrix has the unit's post at the statement's link and time
    post = session.execute(select(OfficialPost).where(OfficialPost.url == situation.published_url)).scalar_one()
    assert post.created_at == situation.published_at and post.account.unit_id == hot.unit_id

    check = session.execute(select(RumourCheck)).scalar_one()
    assert (check.topic_id, check.verdict, check.refutation_at) == (refutation.topic_id, "false", refutation.published_at)
    figures = rumours.before_after(session, check.topic_id, check.refutation_at, now)
    assert figures["before_posts"] >= 1 and figures["after_posts"] >= 2
    assert rumours.refutation_statement(session, check).id == refutation.id
    assert "情况通报 1 篇" in result.output and "辟谣 1 篇" in result.output and "1 个从不回复评论" in result.output
