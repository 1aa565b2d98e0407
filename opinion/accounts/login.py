"""Checking a password at log-in so that neither parallel guesses nor timing tell an attacker more.

Guessing: each check is claimed in the database before the password is compared (one conditional
UPDATE, the same on SQLite and PostgreSQL), so 30 attempts sent at once still get exactly
MAX_CHECKS comparisons per account and address in a window; counting afterwards from the audit log
let every request that read "4 so far" go ahead.

Timing: comparing a password costs a deliberately slow hash; an unknown user name costs a
dummy one of the same kind, so the answer takes as long as for a real account.
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from functools import lru_cache

from sqlalchemy import case, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from opinion.models import LoginThrottle, User, utcnow

MAX_CHECKS, WINDOW_SECONDS = 5, 900


def claim_check(session, account: str, address: str) -> bool:
    """Take one of the window's password checks for `account` from `address`, committed at once
    (so a parallel request sees it); False when none is left: refuse without checking."""
    now = utcnow()
    _ensure_row(session, account, address, now)
    expired = LoginThrottle.window_start < now - timedelta(seconds=WINDOW_SECONDS)
    # Both SET expressions read the row as it was: an expired window restarts at this check.
    claimed = session.execute(
        update(LoginThrottle)
        .where(LoginThrottle.account == account, LoginThrottle.address == address,
               (LoginThrottle.checks < MAX_CHECKS) | expired)
        .values(checks=case((expired, 1), else_=LoginThrottle.checks + 1),
                window_start=case((expired, now), else_=LoginThrottle.window_start))
        .execution_options(synchronize_session=False))
    session.commit()
    return claimed.rowcount == 1


def clear_checks(session, account: str, address: str) -> None:
    """A successful log-in from this address gives its account a fresh window (not committed)."""
    session.execute(delete(LoginThrottle).where(LoginThrottle.account == account,
                                                LoginThrottle.address == address)
                    .execution_options(synchronize_session=False))


def _ensure_row(session, account: str, address: str, now) -> None:
    values = {"account": account, "address": address, "checks": 0, "window_start": now}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(LoginThrottle)
        session.execute(insert.values(**values).on_conflict_do_nothing(index_elements=["account", "address"]))
        return
    try:
        with session.begin_nested():
            session.add(LoginThrottle(**values))
    except IntegrityError:
        pass  # another request made the row first


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """A hash of a random password made with the same method as real ones (so it costs the same)."""
    return generate_password_hash(secrets.token_urlsafe(16))


def password_matches(user: User | None, password: str) -> bool:
    """Whether `password` is this user's; for no user, False after the same work as a real check."""
    if user is None:
        check_password_hash(_dummy_hash(), password)
        return False
    return user.check_password(password)
