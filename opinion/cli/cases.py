"""Cases by hand: a `sla tick` of the escalation ladder."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.cli.times import time_or_now
from opinion.models import db
from opinion.sla.ladder import tick


@click.group("sla")
def sla_group():
    """Deadlines and the escalation ladder."""


@sla_group.command("tick")
@click.option("--now", "now_text", default=None, help="ISO time to tick at (default: now)")
@with_appcontext
def sla_tick_cmd(now_text):
    """Run the escalation ladder once at NOW; a second tick at the same time changes nothing."""
    fired = tick(db.session, current_app.extensions["district"], time_or_now(now_text))
    db.session.commit()
    click.echo(f"本次督办 {len(fired)} 项")
    for line in fired:
        click.echo(f"  {line}")


COMMANDS = (sla_group,)
