"""Personal API tokens (API 令牌): how a program reads /api/v1 as a person.

A token acts as its user, with that user's role and unit, so it sees what the user sees on the web
pages and can do no more. The secret is shown once when the token is made; only its SHA-256 is
stored, with the first characters kept in clear (`prefix`) so the owner can tell tokens apart.
A token stops working when it is revoked, when it expires, or when its user is deactivated.
Making and revoking a token are audited.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from opinion import audit
from opinion.errors import ApiTokenError, PermissionDenied
from opinion.models import ApiToken, User, utcnow

SECRET_PREFIX = "opn_"  # tells a personal token from a webhook source's token at a glance
PREFIX_LENGTH = 12      # "opn_" and 8 characters of the secret
MAX_DAYS = 3650
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most once a minute per token


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_token(session, user: User, name: str, *, days: int | None = None, actor: User | None = None,
                 now: datetime | None = None) -> tuple[ApiToken, str]:
    """Make a token for `user`; returns (token, secret). The secret is not stored: show it once.

    Raises ApiTokenError for an empty or over-long name, a period out of range or an inactive user.
    """
    now = now or utcnow()
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ApiTokenError("请填写令牌用途（不超过 100 字），例如“大屏展示”", "bad_name")
    if days is not None and not 1 <= days <= MAX_DAYS:
        raise ApiTokenError(f"有效天数应为 1–{MAX_DAYS} 天，或留空表示不过期", "bad_days")
    if not user.active:
        raise ApiTokenError(f"账号 {user.username} 已停用，不能创建令牌", "account_disabled")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=hash_secret(secret), prefix=secret[:PREFIX_LENGTH],
                     created_at=now, expires_at=now + timedelta(days=days) if days else None)
    session.add(token)
    session.flush()
    audit.record(session, "token.created", "api_token", token.id, actor=actor or user, at=now,
                 after={"user": user.username, "name": name, "prefix": token.prefix,
                        "expires_at": token.expires_at.isoformat() if token.expires_at else None})
    return token, secret


def revoke_token(session, token: ApiToken, actor: User | None = None, now: datetime | None = None) -> ApiToken:
    """Revoke a token from now on. Its owner or an admin may; `actor` None is the command line.

    Raises PermissionDenied for anyone else, ApiTokenError if it is already revoked.
    """
    now = now or utcnow()
    if actor is not None and actor.id != token.user_id and actor.role != "admin":
        raise PermissionDenied("只能吊销自己的令牌")
    if token.revoked_at is not None:
        raise ApiTokenError(f"令牌 {token.prefix}… 已于此前吊销", "token_revoked")
    token.revoked_at = now
    audit.record(session, "token.revoked", "api_token", token.id, actor=actor, at=now,
                 before={"revoked": False}, after={"revoked": True, "user": token.user.username,
                                                   "name": token.name, "prefix": token.prefix})
    return token


def authenticate(session, secret: str, now: datetime | None = None) -> ApiToken:
    """The live token for this secret, its last use noted (at most once a minute; the caller
    commits). The secret is looked up by its SHA-256, so what is compared is never the secret.

    Raises ApiTokenError: invalid_token, token_revoked, token_expired or account_disabled.
    """
    now = now or utcnow()
    digest = hash_secret(secret)
    token = session.execute(select(ApiToken).where(ApiToken.token_hash == digest)).scalar_one_or_none()
    if token is None:
        raise ApiTokenError("令牌无效：请使用“API 令牌”页面或 users token create 生成的个人令牌", "invalid_token")
    if token.revoked_at is not None:
        raise ApiTokenError("令牌已吊销", "token_revoked")
    if token.expires_at is not None and token.expires_at <= now:
        raise ApiTokenError("令牌已过期，请重新生成", "token_expired")
    if not token.user.active:
        raise ApiTokenError("令牌所属账号已停用", "account_disabled")
    if token.last_used_at is None or now - token.last_used_at >= TOUCH_EVERY:
        # One conditional UPDATE: two requests in the same minute write once, reads stay cheap.
        done = session.execute(update(ApiToken).where(
            ApiToken.id == token.id, or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY)
        ).values(last_used_at=now).execution_options(synchronize_session=False))
        if done.rowcount:
            set_committed_value(token, "last_used_at", now)
    return token


def tokens_of(session, user: User | None = None) -> list[ApiToken]:
    """A user's tokens (everyone's when `user` is None), live ones first, newest first."""
    query = select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    return session.execute(query).scalars().all()


def token_state(token: ApiToken, now: datetime | None = None) -> str:
    """在用, 已过期 or 已吊销, as the token page shows it."""
    if token.revoked_at is not None:
        return "已吊销"
    if token.expires_at is not None and token.expires_at <= (now or utcnow()):
        return "已过期"
    return "在用"
