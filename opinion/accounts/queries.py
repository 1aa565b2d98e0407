"""What the pages read about units and people: units by code and in the orders the pages list
them, and user accounts (failed log-ins are counted in opinion.accounts.login).

Reading only; directory.py and the admin pages are what change units and accounts.
"""
from __future__ import annotations

from sqlalchemy import func, or_, select

from opinion.models import Unit, User


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


def users_page(session, *, q: str = "", role: str = "", unit: str = "", active: str = "",
               page: int = 1, per_page: int = 30) -> tuple[list[User], int]:
    """One page of accounts matching the admin's search (user name, name, phone or e-mail contains
    `q`; role; unit code; "1"/"0" for in use/deactivated), by role and then user name, and how many match."""
    query = select(User)
    if q:
        like = f"%{q.strip()}%"
        query = query.where(or_(User.username.ilike(like), User.name.ilike(like), User.phone.ilike(like),
                                User.email.ilike(like)))
    if role:
        query = query.where(User.role == role)
    if unit:
        query = query.join(Unit, User.unit_id == Unit.id).where(Unit.code == unit)
    if active in ("0", "1"):
        query = query.where(User.active.is_(active == "1"))
    total = session.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = session.execute(query.order_by(User.role, User.username)
                           .offset((max(page, 1) - 1) * per_page).limit(per_page)).scalars().all()
    return rows, total


def user_by_username(session, username: str) -> User | None:
    """The account with this user name, or None."""
    return session.execute(select(User).where(User.username == username)).scalar_one_or_none()


def unit_spokespersons(session, unit_id: int) -> list[User]:
    """The active spokespersons of a unit: who hears of its cases when nobody is assigned."""
    return session.execute(select(User).where(User.unit_id == unit_id, User.role == "spokesperson",
                                              User.active.is_(True)).order_by(User.id)).scalars().all()
