"""Cases by hand: a `sla tick` of the escalation ladder, and the reply `templates` (口径库)."""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.cases.templates import TEMPLATES_FILE, learn_templates, load_templates
from opinion.cli.times import ISO_TIME, time_or_now
from opinion.errors import ImportFileError
from opinion.jobs import ladder_pass
from opinion.models import db


@click.group("sla")
def sla_group():
    """Deadlines and the escalation ladder."""


@sla_group.command("tick")
@click.option("--now", "now_text", type=ISO_TIME, default=None, help="按这个时刻计算（ISO 时间，默认现在），用于复现")
@with_appcontext
def sla_tick_cmd(now_text):
    """Run the escalation ladder once at NOW; a second tick at the same time changes nothing."""
    fired = ladder_pass(db.session, current_app.extensions["district"], time_or_now(now_text))
    db.session.commit()
    click.echo(f"本次督办 {len(fired)} 项")
    for line in fired:
        click.echo(f"  {line}")


@click.group("templates")
def templates_group():
    """Reply templates (口径库)."""


@templates_group.command("learn")
@click.option("--data", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV of messages and published replies (subject, text, reply)")
@click.option("--out", default=str(TEMPLATES_FILE), show_default=True, type=click.Path(dir_okay=False))
def learn_cmd(data, out):
    """Learn per-category reply templates from real published replies."""
    try:
        doc = learn_templates(data)
    except ImportFileError as exc:
        raise click.ClickException(str(exc)) from exc
    Path(out).write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    for t in doc["templates"]:
        click.echo(f"{t['title']}（{t['learned_from']} 条）")
    click.echo(f"已写入 {out}")


@templates_group.command("load")
@click.option("--file", "path", default=str(TEMPLATES_FILE), show_default=True,
              type=click.Path(exists=True, dir_okay=False))
@with_appcontext
def load_cmd(path):
    """Add the learned templates to the 口径库 (those already there are left alone)."""
    added, kept = load_templates(db.session, path)
    db.session.commit()
    click.echo(f"口径库：新增 {added} 条，已有 {kept} 条")


COMMANDS = (sla_group, templates_group)
