"""`python -m opinion alerts check|list` and `notify deliver`: the scheduler's alert and delivery
passes by hand, for operators and for replaying a moment (`--now`)."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.cli.times import ISO_TIME, time_or_now
from opinion.labels import RULE_NAMES, SEVERITY_NAMES
from opinion.models import db, utcnow
from opinion.notify.delivery import deliver_pending


@click.group("alerts")
def alerts_group():
    """Alert rules: evaluate now, list the live alerts."""


@alerts_group.command("check")
@click.option("--now", "now_text", type=ISO_TIME, default=None, help="按这个时刻计算（ISO 时间，默认现在），用于复现")
@with_appcontext
def check_cmd(now_text):
    """Run every alert rule once; prints the alerts raised and cleared."""
    # lazy: the rules use the burst test of opinion.topics.hot, which loads scipy
    from opinion.alerts.engine import evaluate_all
    lines = evaluate_all(db.session, current_app._get_current_object(), time_or_now(now_text))
    db.session.commit()
    click.echo(f"预警规则评估完成：{len(lines)} 项变化")
    for line in lines:
        click.echo(f"  {line}")


@alerts_group.command("list")
@with_appcontext
def list_cmd():
    """The open and acknowledged alerts, newest first."""
    # lazy: the rules use the burst test of opinion.topics.hot, which loads scipy
    from opinion.alerts.engine import live_alerts
    alerts = live_alerts(db.session)
    for a in alerts:
        state = "已确认" if a.status == "acknowledged" else "待处理"
        click.echo(f"#{a.id} [{SEVERITY_NAMES.get(a.severity, a.severity)}] {RULE_NAMES.get(a.kind, a.kind)}"
                   f" {state}：{a.message}")
    click.echo(f"共 {len(alerts)} 条未解除预警")


@click.group("notify")
def notify_group():
    """Notifications: send what is queued."""


@notify_group.command("deliver")
@with_appcontext
def deliver_cmd():
    """Send the pending e-mail, webhook and SMS notifications that are due."""
    counts = deliver_pending(db.session, current_app._get_current_object(), utcnow())
    click.echo(f"已发送 {counts['sent']}，待重试 {counts['retry']}，放弃 {counts['failed']}")


COMMANDS = (alerts_group, notify_group)
