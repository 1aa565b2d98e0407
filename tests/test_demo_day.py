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
