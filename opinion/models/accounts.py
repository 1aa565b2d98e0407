"""Units (departments, street offices, the centre) and the people who log in, with their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from opinion.models.base import UTCDateTime, db, utcnow

__all__ = ["ROLES", "Unit", "User", "ApiToken", "LoginThrottle"]

ROLES = ("spokesperson", "monitor", "leader", "admin")


class Unit(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # department | street | centre
    keywords: Mapped[list] = mapped_column(JSON, default=list)
    places: Mapped[list] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"  # "user" is reserved in PostgreSQL
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    is_unit_head: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))  # alert and ladder e-mails
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when an administrator gives the password (a new account, a reset): only its owner should
    # know it, so the next log-in asks for a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of every session's user id (get_id): raising it ends every session made before, which a
    # signed cookie alone cannot do (a copied cookie would work until it expires).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Two-step log-in (两步验证, opinion.accounts.two_factor): the authenticator app's secret, when
    # it was switched on, the last time step a code was accepted for (a code works once), and the
    # SHA-256 of each unused recovery code, space-separated (text, so one conditional UPDATE can
    # take a code on SQLite and PostgreSQL alike).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    recovery_codes: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[Unit | None] = relationship()

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Every session of this account stops working at its next request."""
        self.session_version = (self.session_version or 0) + 1

    def get_id(self) -> str:  # what Flask-Login keeps in the session; load_user checks the version
        return f"{self.id}.{self.session_version or 0}"

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.active


class ApiToken(db.Model):
    """A personal API token (API 令牌): a program reading /api/v1 as this user, with their role and unit.

    Only the SHA-256 of the secret is kept; the secret is shown once, when the token is made.
    `prefix` (the secret's first characters) lets the owner tell their tokens apart.
    """

    __tablename__ = "api_token"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_api_token_token_hash"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))  # 用途: what the token is for
    token_hash: Mapped[str] = mapped_column(String(64))
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    user: Mapped[User] = relationship()


class LoginThrottle(db.Model):
    """Password checks for one account name from one address in the current window.

    A check is claimed by one conditional UPDATE (checks = checks + 1 while under the limit) before
    the password is compared, so parallel attempts cannot all read "4" and all go ahead: exactly
    the limit are checked, the rest refused. Unknown account names get a row too, like known ones.
    """

    __tablename__ = "login_throttle"
    __table_args__ = (UniqueConstraint("account", "address", name="uq_login_throttle_account_address"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(80))
    checks: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
