"""What leaders read: `report ...` makes a daily brief, a weekly summary or a special report;
`stats` counts what is in the system and each unit's response performance.

With --out the report is written to that file only; without it, it goes into the archive (every
format, or the one named) where the leader dashboard lists it.
"""
from __future__ import annotations

import json
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.cli.times import ISO_TIME, parse_time, time_or_now
from opinion.errors import OpinionError
from opinion.models import db
from opinion.reports import archive, periods
from opinion.reports.document import FORMATS, periodic_document, special_document
from opinion.reports.stats import full_stats


def _common(fn):
    fn = click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                      help="html、docx 或 pdf（默认按 --out 的扩展名；存档时默认三种都生成）")(fn)
    fn = click.option("--out", type=click.Path(dir_okay=False, writable=True), default=None,
                      help="写到这个文件（不写则存入报告存档）")(fn)
    fn = click.option("--now", "now_text", type=ISO_TIME, default=None, help="生成时刻（ISO 时间，默认现在），用于复现")(fn)
    return fn


@click.group("report")
def report_group():
    """Leaders' reports: daily brief, weekly summary, special report."""


@report_group.command("weekly")
@click.option("--week", default=None, help="ISO 周，如 2026-W47（默认上一个完整周）")
@_common
@with_appcontext
def weekly_cmd(week, fmt, out, now_text):
    """舆情周报 for one ISO week."""
    _run_period("week", week, fmt, out, now_text)


@report_group.command("daily")
@click.option("--date", "day", default=None, help="日期，如 2026-11-22（默认昨天）")
@_common
@with_appcontext
def daily_cmd(day, fmt, out, now_text):
    """舆情日报 for one calendar day (Beijing time)."""
    _run_period("day", day, fmt, out, now_text)


def _run_period(kind, text, fmt, out, now_text) -> None:
    now = time_or_now(now_text)
    _run(lambda: periods.parse_period(kind, text, now, current_app.config["TIMEZONE"]), fmt, out, now)


@report_group.command("special")
@click.option("--case", "case_id", type=int, default=None, help="工单编号")
@click.option("--topic", "topic_id", type=int, default=None, help="话题编号")
@_common
@with_appcontext
def special_cmd(case_id, topic_id, fmt, out, now_text):
    """舆情专报 on one case or one topic."""
    _run(None, fmt, out, time_or_now(now_text), case_id=case_id, topic_id=topic_id)


@report_group.command("list")
@with_appcontext
def list_cmd():
    """The archive, newest first."""
    for r in archive.archive(db.session):
        files = ", ".join(sorted(r.files or {})) or "无文件"
        click.echo(f"#{r.id} {r.kind:<7} {r.period:<12} {r.status:<7} {r.generated_at:%Y-%m-%d %H:%M}Z "
                   f"[{files}] {r.title}" + (f"  错误：{r.error}" if r.error else ""))


def _run(make_period, fmt, out, now, **special) -> None:
    district = current_app.extensions["district"]
    if out and fmt is None:
        fmt = Path(out).suffix.lstrip(".").lower()
        if fmt not in FORMATS:
            raise click.BadParameter(f"无法从文件名判断格式，请用 --format 指定 {'/'.join(FORMATS)}",
                                     param_hint="--format")
    try:
        if make_period is not None:
            document = periodic_document(db.session, district, make_period(), now)
        else:
            document = special_document(db.session, district, now=now, **special)
        if out:
            data = document.render(fmt)
            try:
                Path(out).write_bytes(data)
            except OSError as exc:
                raise click.ClickException(f"无法写入 {out}：{exc.strerror}") from exc
            click.echo(f"{document.title} → {out}")
            return
        report = archive.store(db.session, document, formats=[fmt] if fmt else None, now=now)
        db.session.commit()
    except OpinionError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{report.title}：已存档 #{report.id}（{report.status}）")
    for name, path in sorted(report.files.items()):
        click.echo(f"  {name}: {Path(current_app.instance_path) / path}")
    if report.error:
        click.echo(f"  未生成：{report.error}", err=True)


@click.command("stats")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.option("--since", type=ISO_TIME, default=None, help="统计起点（ISO 时间，不带时区按北京时间）")
@click.option("--until", type=ISO_TIME, default=None, help="统计终点，不含（默认现在）")
@click.option("--week", default=None, help="performance for an ISO week, e.g. 2026-W47")
@with_appcontext
def stats_cmd(as_json, since, until, week):
    """Counts of posts, topics, cases (by status and ladder level), alerts, sources, and each
    unit's response performance for a period (default: this week)."""
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


COMMANDS = (report_group, stats_cmd)
