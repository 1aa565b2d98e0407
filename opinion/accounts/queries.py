"""What the pages read about units and people: units by code and in the orders the pages list
them, user accounts, and the failed log-ins that lock an address out of an account.

Reading only; directory.py and the admin pages are what change units and accounts.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

from opinion.models import AuditEvent, Unit, User


def unit_by_code(session, code: str) -> Unit | None:
    """The unit with this code (active or not), or None."""
    return session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()


def active_units(session, *, centre: bool = True) -> list[Unit]:
    """The units in use, by kind and then in the district file's order; `centre=False` leaves out
    the monitoring centre (a console choosing where to send a case)."""
    query = select(Unit).where(Unit.active.is_(True))
    if not centre:
        query = query.where(Unit.kind != "centre")
    return session.execute(query.order_by(Unit.kind, Unit.id)).scalars().all()


def all_units(session) -> list[Unit]:
    """Every unit, the ones in use first, for the admin's list."""
    return session.execute(select(Unit).order_by(Unit.active.desc(), Unit.kind, Unit.id)).scalars().all()


def roster_units(session) -> list[Unit]:
    """The units that keep a duty roster: all but the monitoring centre, in the district file's order."""
    return session.execute(select(Unit).where(Unit.kind != "centre").order_by(Unit.id)).scalars().all()


def all_users(session) -> list[User]:
    """Every account, by role and then user name."""
    return session.execute(select(User).order_by(User.role, User.username)).scalars().all()


def user_by_username(session, username: str) -> User | None:
    """The account with this user name, or None."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def failed_logins(session, account: str, address: str, since: datetime) -> int:
    """Failed log-ins to `account` from `address` since the given time that no successful log-in
    from there has cleared, counted from the audit log (so the count holds across workers)."""
    mine = (AuditEvent.actor == account, AuditEvent.reason == address, AuditEvent.at >= since)
    last_login = session.execute(select(func.max(AuditEvent.at))
                                 .where(AuditEvent.action == "user.login", *mine)).scalar()
    failures = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "user.login_failed", *mine)
    if last_login is not None:
        failures = failures.where(AuditEvent.at > last_login)
    return session.execute(failures).scalar()


def unit_spokespersons(session, unit_id: int) -> list[User]:
    """The active spokespersons of a unit: who hears of its cases when nobody is assigned."""
    return session.execute(select(User).where(User.unit_id == unit_id, User.role == "spokesperson",
                                              User.active.is_(True)).order_by(User.id)).scalars().all()
