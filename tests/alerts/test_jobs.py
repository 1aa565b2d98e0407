"""The scheduler's alert and delivery jobs, and the commands that run the same passes by hand."""
from datetime import timedelta

from sqlalchemy import select

from opinion.jobs import alert_rules, deliver_notifications
from opinion.models import Alert, Case, Notification, Unit, utcnow
from opinion.notify import notify
from tests.factories import make_user


def _overdue_case(session):
    now = utcnow()
    unit = session.execute(select(Unit).where(Unit.code == "slj")).scalar_one()
    session.add(Case(unit_id=unit.id, title="积水", priority="urgent", status="new",
                     acknowledge_due_at=now - timedelta(hours=1), respond_due_at=now + timedelta(hours=5),
                     resolve_due_at=now + timedelta(days=1), created_at=now - timedelta(hours=2)))
    session.commit()


def test_alert_job_raises_and_commits(app, session):
    make_user(session, "monitor1", "monitor")
    _overdue_case(session)
    alert_rules(app)
    session.expire_all()
    [alert] = session.execute(select(Alert).where(Alert.kind == "case_overdue")).scalars().all()
    assert alert.severity == "critical"  # urgent case: critical by the default district file
    assert session.execute(select(Notification).where(Notification.alert_id == alert.id)).scalars().first()


def test_delivery_job_records_failure_without_raising(app, session):
    notify(session, ["http://127.0.0.1:9/robot"], "主题", "正文", channels=("webhook",))
    session.commit()
    app.config["NOTIFY_TIMEOUT"] = 2
    deliver_notifications(app)
    session.expire_all()
    row = session.execute(select(Notification)).scalar_one()
    assert row.status == "pending" and row.attempts == 1 and "无法连接" in row.error


def test_commands(app, session, runner):
    make_user(session, "monitor1", "monitor")
    _overdue_case(session)
    result = runner.invoke(args=["alerts", "check"])
    assert result.exit_code == 0 and "工单超时" in result.output
    result = runner.invoke(args=["alerts", "list"])
    assert "签收已超时" in result.output and "共 1 条未解除预警" in result.output
    result = runner.invoke(args=["notify", "deliver"])
    assert result.exit_code == 0 and "已发送 0" in result.output
