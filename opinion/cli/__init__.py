"""The command line. Each command wraps a plain function; `python -m opinion --help` lists them.

The commands are registered on the app's CLI, so `python -m opinion X` and
`flask --app opinion X` are the same thing (Flask-Migrate adds `db upgrade` and friends).
"""
from __future__ import annotations

import functools
import json
import sys
from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from opinion.errors import OpinionError


def _create_app():
    import os

    from config import CONFIGS
    from opinion import create_app
    env = os.environ.get("OPINION_ENV") or "default"
    if env not in CONFIGS:
        raise click.ClickException(f"OPINION_ENV={env} 无效，应为 {'、'.join(CONFIGS)} 之一")
    try:
        return create_app(env)
    except RuntimeError as exc:  # production without its database or secret key
        raise click.ClickException(str(exc)) from exc


def main() -> None:
    FlaskGroup(create_app=_create_app, add_default_commands=False,
               help="政务微博与网络舆情回应系统 — 命令行").main(prog_name="python -m opinion")


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    t = datetime.fromisoformat(value)
    if t.tzinfo is None:
        from zoneinfo import ZoneInfo
        t = t.replace(tzinfo=ZoneInfo(current_app.config["TIMEZONE"]))
    return t.astimezone(timezone.utc)


def register(app) -> None:
    for command in (run_cmd, web_cmd, scheduler_cmd, seed_demo_cmd, import_cmd, analyze_cmd,
                    stats_cmd, collect_cmd, train_group, eval_group, sla_group, backup_cmd):
        app.cli.add_command(command)
    from opinion.cases.templates import templates_group
    app.cli.add_command(templates_group)
    from opinion.cli.alerts import alerts_group, notify_group
    app.cli.add_command(alerts_group)
    app.cli.add_command(notify_group)
    from opinion.ingest.sources import source_group
    app.cli.add_command(source_group)
    from opinion.cli.reports import report_group
    app.cli.add_command(report_group)
    from opinion.accounts.directory import users_group
    app.cli.add_command(users_group)


@click.command("run")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@with_appcontext
def run_cmd(host, port):
    """Web and scheduler together, for one machine (the demo)."""
    from opinion.jobs import start_scheduler
    from opinion.server import serve
    _load_units()
    start_scheduler(current_app._get_current_object(), blocking=False)
    serve(current_app._get_current_object(), host, port)


@click.command("web")
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@with_appcontext
def web_cmd(host, port):
    """The web application only (run exactly one `scheduler` beside it)."""
    from opinion.server import serve
    _load_units()
    serve(current_app._get_current_object(), host, port)


@click.command("scheduler")
@with_appcontext
def scheduler_cmd():
    """The one scheduler process: collection, the SLA tick, topic upkeep."""
    from opinion.jobs import start_scheduler
    _load_units()
    start_scheduler(current_app._get_current_object(), blocking=True)


def _load_units() -> None:
    """The district's units into the database before serving: a case is opened only for a unit
    that is there, so a fresh install must not wait for someone to open the admin pages."""
    from opinion.accounts.directory import load_units
    try:
        load_units(current_app._get_current_object())
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("seed-demo")
@click.option("--posts", default=900, show_default=True, help="how many demo posts to generate")
@click.option("--days", default=21, show_default=True, help="spread over the last N days")
@with_appcontext
def seed_demo_cmd(posts, days):
    """Load the district, demo users and a realistic stream of posts (idempotent)."""
    from opinion.demo.seed import seed_demo
    seed_demo(current_app._get_current_object(), n_posts=posts, days=days, echo=click.echo)


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", "source_code", default="import", show_default=True,
              help="source code the posts belong to (created if missing)")
@click.option("--format", "fmt", type=click.Choice(["auto", "jsonl", "csv", "xlsx"]), default="auto")
@click.option("--map", "mapping", multiple=True, metavar="FIELD=COLUMN",
              help="column mapping, e.g. --map text=内容 --map id=编号")
@click.option("--batch", default=200, show_default=True)
@click.option("--rejected", "rejected_path", default=None, type=click.Path(dir_okay=False),
              help="where to write rejected rows with reasons (default: instance/imports/FILE.rejected.csv)")
@with_appcontext
def import_cmd(file, source_code, fmt, mapping, batch, rejected_path):
    """Import posts from a JSON Lines, CSV or Excel (.xlsx) file; a second run stores nothing new."""
    from opinion.pipeline.runs import import_file
    try:
        summary = import_file(current_app._get_current_object(), file, source_code=source_code,
                              fmt=fmt, mapping=dict(m.split("=", 1) for m in mapping), batch=batch,
                              rejected_path=rejected_path)
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.describe())


@click.command("analyze")
@click.argument("input", type=click.File("rb"), default="-")
@click.option("--batch", default=500, show_default=True)
@click.option("--engine", default=None, help="sentiment engine: domain (default) or snownlp")
@click.option("--stream", is_flag=True,
              help="print each batch at once; a topic merged later then keeps its old id on the lines already out")
def analyze_cmd(input, batch, engine, stream):
    """Analyse JSON Lines posts to JSON Lines, touching no database (PRODUCT.md contract)."""
    from opinion.analyze import analyze_stream
    analyze_stream(input, sys.stdout, batch=batch, engine=engine, stream=stream)


@click.command("backup")
@click.option("--out", "out_dir", default=None, type=click.Path(file_okay=False),
              help="folder (default: OPINION_BACKUP_DIR or instance/backups)")
@click.option("--keep", default=None, type=click.IntRange(min=1), help="copies kept (default: OPINION_BACKUP_KEEP, 14)")
@with_appcontext
def backup_cmd(out_dir, keep):
    """Copy the database now (SQLite: a consistent snapshot; PostgreSQL: pg_dump); the scheduler
    does it every night at OPINION_BACKUP_AT."""
    from opinion.backup import backup_database
    try:
        path = backup_database(current_app._get_current_object(), out_dir, keep)
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"已备份到 {path}（{path.stat().st_size / 1e6:.1f} MB）")


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--since", default=None, help="performance period start (ISO time, Beijing if no zone)")
@click.option("--until", default=None, help="performance period end, exclusive (default: now)")
@click.option("--week", default=None, help="performance for an ISO week, e.g. 2026-W47")
@with_appcontext
def stats_cmd(as_json, since, until, week):
    """Counts of posts, topics, cases (by status and ladder level), alerts, sources, and each
    unit's response performance for a period (default: this week)."""
    from opinion.models import db
    from opinion.reports.stats import full_stats
    try:
        stats = full_stats(db.session, current_app.extensions["district"], since=parse_time(since),
                           until=parse_time(until), week=week)
    except (ValueError, OpinionError) as exc:
        raise click.BadParameter(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(stats, ensure_ascii=False, indent=2, default=str))
        return
    click.echo(f"帖子 {stats['posts']['total']}（分析失败 {stats['posts']['analysis_failed']}）"
               f" · 话题 {stats['topics']['total']} · 工单 {stats['cases']['total']}"
               f"（未结 {stats['cases']['open']}） · 预警 {stats['alerts']['total']}"
               f" · 数据源 {stats['sources']['total']}")


@click.command("collect")
@click.argument("source", required=False)
@click.option("--once", is_flag=True, help="collect now, once, and exit")
@with_appcontext
def collect_cmd(source, once):
    """Collect from every enabled source (or one), now."""
    from opinion.pipeline.runs import collect_sources
    for line in collect_sources(current_app._get_current_object(), only=source):
        click.echo(line)


@click.group("sla")
def sla_group():
    """Deadlines and the escalation ladder."""


@sla_group.command("tick")
@click.option("--now", "now_text", default=None, help="ISO time to tick at (default: now)")
@with_appcontext
def sla_tick_cmd(now_text):
    """Run the escalation ladder once at NOW; a second tick at the same time changes nothing."""
    from opinion.jobs import ladder_pass
    from opinion.models import db, utcnow
    fired = ladder_pass(db.session, current_app.extensions["district"], parse_time(now_text) or utcnow())
    db.session.commit()
    click.echo(f"本次督办 {len(fired)} 项")
    for line in fired:
        click.echo(f"  {line}")


@click.group("train")
def train_group():
    """Train the models the pipeline ships with."""


@click.group("eval")
def eval_group():
    """Measure the shipped models on labelled data."""


def _user_errors(fn):
    """A data file the command cannot use (a missing column, too few examples of a class, an
    unreadable file) is the user's to fix: its message, not a traceback."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except (ValueError, KeyError, OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"{type(exc).__name__}: {exc}") from exc
    return wrapper


def _data_options(fn):
    fn = _user_errors(fn)
    fn = click.option("--data", "data", required=True, multiple=True,
                      type=click.Path(exists=True), help="labelled CSV or JSON Lines file")(fn)
    fn = click.option("--text-col", default="text", show_default=True)(fn)
    fn = click.option("--label-col", default=None, help="label column (default per model)")(fn)
    return fn


@train_group.command("sentiment")
@_data_options
@click.option("--out", default=None, help="model folder (default: the shipped model's)")
def train_sentiment_cmd(data, text_col, label_col, out):
    """Train the sentiment model from labelled posts (e.g. ../shared/data/weibo-emotion/train.csv)."""
    from opinion.nlp import train
    report = train.train_sentiment(data[0], out, text_col=text_col, label_col=label_col or "polarity")
    click.echo(train.format_report(report))


@train_group.command("emotion")
@_data_options
@click.option("--out", default=None)
@click.option("--unlabelled", multiple=True, type=click.Path(exists=True),
              help="unlabelled posts for the character vectors: JSON Lines/CSV files with a text "
                   "field, or folders of .jsonl; default: weibo-stream/ and weibo-topics/ beside "
                   "the data file's folder")
def train_emotion_cmd(data, text_col, label_col, out, unlabelled):
    """Train the seven-class emotion model."""
    from opinion.nlp import train
    report = train.train_emotion(data[0], out, text_col=text_col, label_col=label_col or "emotion",
                                 unlabelled=list(unlabelled) or None)
    click.echo(train.format_report(report))


@train_group.command("routing")
@_data_options
@click.option("--out", default=None)
@click.option("--with-corrections", is_flag=True,
              help="add the monitors' reassignments as examples; writes to the instance folder")
@with_appcontext
def train_routing_cmd(data, text_col, label_col, out, with_corrections):
    """Train the category classifier (e.g. ../shared/data/gov-messages/train.csv)."""
    from opinion.routing import train
    if with_corrections:
        from opinion.routing.retrain import retrain_with_corrections
        report = retrain_with_corrections(current_app._get_current_object(), list(data), text_col,
                                          label_col or "category", out, progress=True)
        click.echo(f"改派记录 {report['corrections']} 条（每条计 {report['extra'] // max(report['corrections'], 1)} 次），"
                   f"记住 {report['remembered']} 条改派决定（相似内容直接派往同一单位）")
    else:
        report = train.train_routing(list(data), out, text_col=text_col, label_col=label_col or "category")
    click.echo(train.format_report(report))


def _eval_text_model(kind: str, default_label: str, help_text: str) -> None:
    @eval_group.command(kind, help=help_text)
    @_data_options
    @click.option("--model", default=None)
    def command(data, text_col, label_col, model):
        from opinion.nlp import train
        click.echo(train.format_report(train.evaluate(kind, data[0], text_col=text_col,
                                                      label_col=label_col or default_label,
                                                      model_path=model)))


_eval_text_model("sentiment", "polarity", "Accuracy, macro-F1, ROC AUC, confusion matrix and throughput of `sentiment`.")
_eval_text_model("emotion", "emotion", "Accuracy, macro-F1, confusion matrix and throughput of `emotion`.")


@eval_group.command("routing")
@_data_options
@click.option("--model", default=None)
def eval_routing_cmd(data, text_col, label_col, model):
    """Macro-F1 and confusion matrix of `category`."""
    from opinion.routing import train
    click.echo(train.format_report(train.evaluate_routing(list(data), text_col=text_col,
                                                          label_col=label_col or "category",
                                                          model_path=model)))


@eval_group.command("topics")
@click.option("--data", required=True, type=click.Path(exists=True),
              help="a day file (JSON Lines, CSV, JSON, Excel) or a folder of them")
@click.option("--text-col", default="text", show_default=True)
@click.option("--label-col", default="topic", show_default=True, help="the topic (hashtag) each post belongs to")
@click.option("--seed", default=0, show_default=True, help="the arrival order's shuffle")
@_user_errors
def eval_topics_cmd(data, text_col, label_col, seed):
    """ARI, NMI, purity, coverage and number of topics against hashtag labels."""
    from opinion.topics import evaluate
    click.echo(evaluate.format_report(evaluate.evaluate_topics(data, seed=seed, text_col=text_col,
                                                               label_col=label_col)))
