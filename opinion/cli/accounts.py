"""`users` (create, list, set-password) and `users token` (personal API tokens): accounts from the
server's console, where a new install makes its first administrator."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy import select

from opinion import audit
from opinion.accounts import two_factor
from opinion.accounts.directory import ensure_user, load_units, password_problem
from opinion.accounts.tokens import create_token, revoke_token, token_state, tokens_of
from opinion.errors import OpinionError
from opinion.labels import ROLE_NAMES
from opinion.models import ROLES, ApiToken, Unit, User, db


@click.group("users")
def users_group():
    """User accounts: create, list, set a password; their personal API tokens."""


@users_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="the person's name (姓名)")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--unit", "unit_code", default=None, help="unit code (a spokesperson's is required)")
@click.option("--head", is_flag=True, help="the unit's head (负责人): approvals and ladder step 3–4")
@click.option("--phone", default=None)
@click.option("--email", default=None)
@click.option("--temporary", is_flag=True, help="the person must change the password at first log-in")
@click.password_option(prompt="密码", confirmation_prompt="再次输入密码")
@with_appcontext
def user_create_cmd(username, name, role, unit_code, head, phone, email, temporary, password):
    """Make an account, e.g. the first administrator of a new install."""
    try:
        load_units(current_app._get_current_object())
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    unit = None
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
        if unit is None:
            raise click.ClickException(f"没有代码为 {unit_code} 的单位（见辖区配置文件）")
    if role == "spokesperson" and unit is None:
        raise click.ClickException("新闻发言人必须属于一个单位：请用 --unit 指定")
    problem = password_problem(password, username)
    if problem:
        raise click.ClickException(problem)
    try:
        user, created = ensure_user(db.session, username, name, role, password, unit, head)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    if not created:
        raise click.ClickException(f"用户名 {username} 已存在（改密码用 users set-password）")
    user.phone, user.email, user.must_change_password = phone, email, temporary
    db.session.commit()
    click.echo(f"已创建账号 {username}（{ROLE_NAMES[role]}{'，' + unit.name if unit else ''}）"
               + ("，首次登录须修改密码" if temporary else ""))


@users_group.command("list")
@with_appcontext
def user_list_cmd():
    """Every account: user name, name, role, unit, state."""
    for u in db.session.execute(select(User).order_by(User.role, User.username)).scalars():
        state = "停用" if not u.active else ("待改密码" if u.must_change_password else "正常")
        click.echo(f"{u.username:<20} {u.name:<10} {ROLE_NAMES.get(u.role, u.role):<6} "
                   f"{u.unit.name if u.unit else '—':<12} {state}")


@users_group.command("set-password")
@click.argument("username")
@click.option("--temporary", is_flag=True, help="the person must change it at the next log-in")
@click.password_option(prompt="新密码", confirmation_prompt="再次输入新密码")
@with_appcontext
def user_password_cmd(username, temporary, password):
    """Set USERNAME's password from the server's console (an administrator who is locked out)."""
    user = _user(username)
    problem = password_problem(password, username)
    if problem:
        raise click.ClickException(problem)
    user.set_password(password)
    user.must_change_password = temporary
    audit.record(db.session, "user.password_reset", "user", user.id, reason="服务器命令行")
    db.session.commit()
    click.echo(f"已设置 {username} 的密码" + ("，下次登录须修改" if temporary else ""))


@users_group.command("reset-two-factor")
@click.argument("username")
@with_appcontext
def user_reset_two_factor_cmd(username):
    """Switch off USERNAME's two-step log-in (phone and recovery codes lost); they set it up again."""
    user = _user(username)
    if not user.totp_enabled_at:
        raise click.ClickException(f"{username} 没有启用两步验证")
    two_factor.disable(user)
    user.end_sessions()
    audit.record(db.session, "user.two_factor_reset", "user", user.id, reason="服务器命令行")
    db.session.commit()
    click.echo(f"已重置 {username} 的两步验证：下次登录只需密码，随后须重新设置")


@users_group.group("token")
def token_group():
    """Personal API tokens for /api/v1 (the 'API 令牌' page does the same in the browser)."""


@token_group.command("create")
@click.argument("username")
@click.option("--name", required=True, help="what the token is for (用途), e.g. 大屏展示")
@click.option("--days", default=None, type=int, help="expires after N days (default: never)")
@with_appcontext
def token_create_cmd(username, name, days):
    """Make a token that acts as USERNAME; the token is printed once and never again."""
    user = _user(username)
    try:
        token, secret = create_token(db.session, user, name, days=days)
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    until = token.expires_at.astimezone(_zone()).strftime("%Y-%m-%d %H:%M") if token.expires_at else "不过期"
    click.echo(f"已为 {user.username} 创建令牌 #{token.id}（{token.name}，有效期至 {until}）。"
               "令牌只显示这一次，请立即妥善保存：", err=True)
    click.echo(secret)


@token_group.command("revoke")
@click.argument("token_id", type=int)
@with_appcontext
def token_revoke_cmd(token_id):
    """Revoke token number TOKEN_ID (see `users token list`); calls with it get 401 from now on."""
    token = db.session.get(ApiToken, token_id)
    if token is None:
        raise click.ClickException(f"没有编号为 {token_id} 的令牌")
    try:
        revoke_token(db.session, token)
    except OpinionError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"已吊销令牌 #{token.id}（{token.prefix}…，{token.user.username}，{token.name}）")


@token_group.command("list")
@click.argument("username", required=False)
@with_appcontext
def token_list_cmd(username):
    """Every token (or USERNAME's): number, prefix, owner, purpose, state, last use."""
    user = _user(username) if username else None
    when = lambda t: t.astimezone(_zone()).strftime("%Y-%m-%d %H:%M") if t else "—"
    for t in tokens_of(db.session, user):
        click.echo(f"#{t.id:<4} {t.prefix}…  {t.user.username:<16} {token_state(t):<4} {t.name}"
                   f"  创建 {when(t.created_at)}  最近使用 {when(t.last_used_at)}  到期 {when(t.expires_at)}")


def _user(username: str) -> User:
    """The account named `username`; a ClickException (exit 1) when there is none."""
    user = db.session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"没有用户名为 {username} 的账号")
    return user


def _zone():
    return ZoneInfo(current_app.config["TIMEZONE"])


COMMANDS = (users_group,)
