"""The command line. Each command wraps a plain function; `python -m opinion --help` lists them.

One module per stage or area: processes (run, web, scheduler, backup), ingest (import, collect,
source), analysis (analyze, train, eval), cases (sla, templates), alerts (alerts, notify),
reports (report, stats), matrix (matrix collect|check), accounts (users), demo (seed-demo); times reads every time option.
The commands are registered on the app's CLI, so `python -m opinion X` and
`flask --app opinion X` are the same thing (Flask-Migrate adds `db upgrade` and friends).
"""
from __future__ import annotations

import os
from collections.abc import Callable

import click
from flask import Flask
from flask.cli import FlaskGroup

from config import CONFIGS
from opinion.cli import accounts, alerts, analysis, cases, demo, ingest, matrix, processes, reports

STAGES = (processes, ingest, analysis, cases, alerts, reports, matrix, accounts, demo)


def main(create_app: Callable[[str], Flask]) -> None:
    """Run `python -m opinion` on the app that `create_app` (opinion.create_app) builds.

    The factory is passed in rather than imported so that the package and its command line do not
    import each other: create_app registers the commands, the command line builds the app."""
    FlaskGroup(create_app=lambda: _create_app(create_app), add_default_commands=False,
               help="政务微博与网络舆情回应系统 — 命令行").main(prog_name="python -m opinion")


def _create_app(create_app: Callable[[str], Flask]) -> Flask:
    env = os.environ.get("OPINION_ENV") or "default"
    if env not in CONFIGS:
        raise click.ClickException(f"OPINION_ENV={env} 无效，应为 {'、'.join(CONFIGS)} 之一")
    try:
        return create_app(env)
    except RuntimeError as exc:  # production without its database or secret key
        raise click.ClickException(str(exc)) from exc


def register(app: Flask) -> None:
    """Add every stage's commands to the app's command line (create_app calls this)."""
    for stage in STAGES:
        for command in stage.COMMANDS:
            app.cli.add_command(command)
