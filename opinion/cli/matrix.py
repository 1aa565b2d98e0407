"""`python -m opinion matrix collect|check`: the 政务微博矩阵 by hand — collect the accounts that are
due, list the silent ones (僵尸号) and those never answering comments — with `--now` to replay a moment."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from opinion.cli.times import ISO_TIME, time_or_now
from opinion.labels import PLATFORM_NAMES
from opinion.matrix.collect import collect_due
from opinion.matrix.figures import account_figures
from opinion.models import db


@click.group("matrix")
def matrix_group():
    """政务微博矩阵：采集各单位政务账号，列出僵尸号。"""


@matrix_group.command("collect")
@click.option("--now", "now_text", type=ISO_TIME, default=None, help="按这个时刻计算（ISO 时间，默认现在），用于复现")
@with_appcontext
def collect_cmd(now_text):
    """Collect every account that is due now (as the scheduler does each minute)."""
    lines = collect_due(db.session, time_or_now(now_text))
    db.session.commit()
    click.echo(f"政务账号采集完成：{len(lines)} 个账号")
    for line in lines:
        click.echo(f"  {line}")


@matrix_group.command("check")
@click.option("--now", "now_text", type=ISO_TIME, default=None, help="按这个时刻计算（ISO 时间，默认现在），用于复现")
@with_appcontext
def check_cmd(now_text):
    """List the silent accounts (no post in the district's 僵尸号 days) and those that answered
    none of their comments in the no-reply days; exit status 0 either way."""
    district = current_app.extensions["district"]
    figures = account_figures(db.session, time_or_now(now_text), district.timezone, district.matrix_silent_days,
                              no_reply_days=district.matrix_no_reply_days)
    rows = [r for r in figures if r.silent]
    click.echo(f"僵尸号（{district.matrix_silent_days} 天未发布）：{len(rows)} 个")
    for r in rows:
        click.echo(f"  {r.account.unit.name} {PLATFORM_NAMES.get(r.account.platform, r.account.platform)}"
                   f"「{r.account.handle}」 已 {r.silent_days} 天未发布")
    rows = [r for r in figures if r.no_reply]
    click.echo(f"从不回复评论（{district.matrix_no_reply_days} 天内有评论、未回复一条）：{len(rows)} 个")
    for r in rows:
        click.echo(f"  {r.account.unit.name} {PLATFORM_NAMES.get(r.account.platform, r.account.platform)}"
                   f"「{r.account.handle}」 收到评论 {r.comments_recent} 条，回复 0 条")


COMMANDS = (matrix_group,)
