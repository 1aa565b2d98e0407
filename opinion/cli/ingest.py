"""Getting posts in: `import` a file, `collect` now, and the `source` commands that manage sources."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from opinion.errors import OpinionError, SourceConfigError
from opinion.ingest.archive import apply_retention
from opinion.ingest.schedule import jitter_seconds
from opinion.ingest.sources import create_source, describe_health, get_source, has_switch, masked, set_enabled
from opinion.labels import SOURCE_KIND_NAMES
from opinion.models import Source, db
from opinion.settings.district import parse_archive_months


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
    # lazy: the pipeline loads NumPy, SciPy and simhash with the stages
    from opinion.pipeline.runs import import_file
    try:
        summary = import_file(current_app._get_current_object(), file, source_code=source_code,
                              fmt=fmt, mapping=dict(m.split("=", 1) for m in mapping), batch=batch,
                              rejected_path=rejected_path)
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(summary.describe())


@click.command("collect")
@click.argument("source", required=False)
@click.option("--once", is_flag=True, help="collect now, once, and exit")
@with_appcontext
def collect_cmd(source, once):
    """Collect from every enabled source (or one), now."""
    # lazy: the pipeline loads NumPy, SciPy and simhash with the stages
    from opinion.pipeline.runs import collect_sources
    for line in collect_sources(current_app._get_current_object(), only=source):
        click.echo(line)


@click.group("source")
def source_group():
    """Data sources: add, list, enable, disable, show."""


def _fail(exc: Exception):
    raise click.ClickException(str(exc)) from exc


@source_group.command("add")
@click.argument("code")
@click.option("--kind", required=True, type=click.Choice(list(SOURCE_KIND_NAMES)), help="channel type")
@click.option("--name", required=True, help="display name (Chinese)")
@click.option("--url", default=None, help="feed URL (rss)")
@click.option("--interval", "interval_seconds", default=None, help="seconds between runs (default 600)")
@click.option("--jitter", "jitter_seconds", default=None, help="random seconds added to each run")
@click.option("--expected-hours", "expected_period_hours", default=None,
              help="alert when nothing new arrives for this many hours")
@click.option("--access-token", default=None, help="Weibo open API access token (weibo_api)")
@click.option("--base-url", default=None, help="API base URL (weibo_api; default https://api.weibo.com/2)")
@click.option("--disabled", is_flag=True, help="add it switched off")
@with_appcontext
def add_cmd(code, kind, disabled, **options):
    """Add a source; it is collected on its schedule by the scheduler process."""
    try:
        source, notes = create_source({"code": code, "kind": kind, "enabled": "0" if disabled else "1", **options})
    except SourceConfigError as exc:
        _fail(exc)
    click.echo(f"已添加数据源 {source.code}（{SOURCE_KIND_NAMES[source.kind]}，{'停用' if disabled else '启用'}）")
    for note in notes:
        click.echo(f"  {note}")


@source_group.command("list")
@with_appcontext
def list_cmd():
    """Every source with its status, last success and items today."""
    sources = db.session.execute(select(Source).order_by(Source.code)).scalars().all()
    if not sources:
        click.echo("还没有数据源。用 python -m opinion source add 添加。")
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    for h in describe_health(sources):
        s = h.source
        last = s.last_success_at.astimezone(tz).strftime("%m-%d %H:%M") if s.last_success_at else "—"
        switch = ("启用" if s.enabled else "停用") if has_switch(s) else "—"
        click.echo(f"{s.code:<20} {SOURCE_KIND_NAMES.get(s.kind, s.kind):<12} {switch}  "
                   f"{h.status_name:<4} 上次成功 {last}  今日 {h.items_today} 条  下次 {h.next_run}"
                   + (f"\n{'':<20} 错误：{s.last_error}" if s.last_error else ""))


def _toggle(code: str, enabled: bool) -> None:
    try:
        source = get_source(code)
    except SourceConfigError as exc:
        _fail(exc)
    if not has_switch(source):
        _fail(SourceConfigError(f"“{source.name}”由人工录入或文件导入，随时可用，无需启用或停用"))
    set_enabled(source, enabled)
    click.echo(f"{source.code}：已{'启用' if enabled else '停用'}")


@source_group.command("enable")
@click.argument("code")
@with_appcontext
def enable_cmd(code):
    """Switch a source on (its back-off is reset)."""
    _toggle(code, True)


@source_group.command("disable")
@click.argument("code")
@with_appcontext
def disable_cmd(code):
    """Switch a source off; what it collected stays."""
    _toggle(code, False)


@source_group.command("show")
@click.argument("code")
@with_appcontext
def show_cmd(code):
    """One source in detail: settings (secrets hidden), health, the last run's problems."""
    try:
        source = get_source(code)
    except SourceConfigError as exc:
        _fail(exc)
    h = describe_health([source])[0]
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    when = lambda t: t.astimezone(tz).strftime("%Y-%m-%d %H:%M") if t else "—"
    click.echo(f"{source.code}  {source.name}（{SOURCE_KIND_NAMES.get(source.kind, source.kind)}）")
    click.echo(f"  状态：{h.status_name}{'' if source.enabled or not has_switch(source) else '（已停用）'}  上次成功：{when(source.last_success_at)}"
               f"  上次运行：{when(source.last_run_at)}  今日采集：{h.items_today} 条  下次：{h.next_run}")
    click.echo(f"  间隔：{source.interval_seconds} 秒，抖动 {jitter_seconds(source)} 秒；连续失败 {source.failure_count or 0} 次")
    if source.last_error:
        click.echo(f"  最近错误：{source.last_error}")
    run = h.last_run
    if run:
        click.echo(f"  上次结果：新增 {run.get('new', 0)}，重复 {run.get('duplicate', 0)}，拒收 {run.get('rejected_count', 0)}")
        for ref, reason in run.get("rejected", [])[:10]:
            click.echo(f"    拒收 {ref}：{reason}")
        for warning in run.get("warnings", [])[:10]:
            click.echo(f"    注意：{warning}")
    for key, value in masked(source.config).items():
        click.echo(f"  {key} = {value}")


@click.command("archive-posts")
@click.option("--months", type=int, default=None,
              help="archive posts older than this many months (default: the admin's setting, 历史帖子归档)")
@with_appcontext
def archive_posts_cmd(months):
    """Archive old posts that no case, topic evidence or report cites (gzip JSON Lines under
    instance/archive/), then delete them from the database. Safe to run again after a failure."""
    if months is not None:
        try:
            parse_archive_months("--months", {"archive_after_months": months})
        except OpinionError as exc:
            raise click.ClickException(str(exc).split(": ", 1)[-1]) from exc
    run = apply_retention(current_app._get_current_object(), db.session, months=months)
    click.echo("未设置历史帖子归档期限（系统管理 → 历史帖子归档），不归档" if run is None else run.describe())


COMMANDS = (import_cmd, collect_cmd, source_group, archive_posts_cmd)
