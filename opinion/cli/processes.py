"""The processes an install runs: `run` (web and scheduler together), `web`, `scheduler`, `worker`
(with a broker, README "Scale-out"); and `backup`."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.accounts.directory import load_units
from opinion.backup import backup_database
from opinion.errors import OpinionError
from opinion.server import serve


def _address_options(fn):
    """--host and --port, for the commands that serve the web application."""
    fn = click.option("--port", default=None, type=int)(fn)
    fn = click.option("--host", default=None)(fn)
    return fn


@click.command("run")
@_address_options
@with_appcontext
def run_cmd(host, port):
    """Web and scheduler together, for one machine (the demo)."""
    # lazy: APScheduler loads only in the processes that schedule
    from opinion.jobs import run_in_background
    _load_units()
    run_in_background(current_app._get_current_object(), lambda line: click.echo(line, err=True))
    serve(current_app._get_current_object(), host, port)


@click.command("web")
@_address_options
@with_appcontext
def web_cmd(host, port):
    """The web application only (run exactly one `scheduler` beside it)."""
    _load_units()
    serve(current_app._get_current_object(), host, port)


@click.command("scheduler")
@with_appcontext
def scheduler_cmd():
    """The scheduler: collection, the SLA tick, topic upkeep, reports. Start two for availability:
    one holds the scheduler lock and acts, the other waits and takes over within a minute."""
    # lazy: APScheduler loads only in the processes that schedule
    from opinion.jobs import run_exclusively
    _load_units()
    try:
        run_exclusively(current_app._get_current_object(), lambda line: click.echo(line, err=True))
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("worker")
@click.option("--threads", default=2, type=click.IntRange(min=1), help="并行任务的线程数（默认 2）")
@with_appcontext
def worker_cmd(threads):
    """A task worker (needs OPINION_BROKER_URL): collection, reports, notifications, retraining in
    parallel; the ingest queue on exactly one worker at a time. Start as many as the load needs."""
    # lazy: Dramatiq and the pipeline load only in the processes that work
    from opinion.jobs import run_worker
    _load_units()
    try:
        run_worker(current_app._get_current_object(), lambda line: click.echo(line, err=True), threads)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc


def _load_units() -> None:
    """The district's units into the database before serving: a case is opened only for a unit
    that is there, so a fresh install must not wait for someone to open the admin pages."""
    try:
        load_units(current_app._get_current_object())
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("backup")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="folder (default: OPINION_BACKUP_DIR or instance/backups)")
@click.option("--keep", default=None, type=click.IntRange(min=1), help="copies kept (default: OPINION_BACKUP_KEEP, 14)")
@with_appcontext
def backup_cmd(out_dir, keep):
    """Copy the database now (SQLite: a consistent snapshot; PostgreSQL: pg_dump); the scheduler
    does it every night at OPINION_BACKUP_AT."""
    try:
        path = backup_database(current_app._get_current_object(), out_dir, keep)
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已备份到 {path}（{path.stat().st_size / 1e6:.1f} MB）")


COMMANDS = (run_cmd, web_cmd, scheduler_cmd, worker_cmd, backup_cmd)
