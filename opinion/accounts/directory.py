"""Units and people: bringing the district file's units into the database, and user accounts
(for the pages and for the `users` commands, which make the first administrator of a new install)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import OperationalError, ProgrammingError

from opinion import audit
from opinion.errors import OpinionError
from opinion.models import ROLES, Unit, User, db
from opinion.settings.district import District

MIN_PASSWORD = 8
PASSWORD_RULE = f"密码至少 {MIN_PASSWORD} 位，须同时包含字母和数字，且不能与用户名相同"


def password_problem(password: str, username: str = "") -> str | None:
    """What is wrong with a new password (the rule, in words), or None."""
    if (len(password) < MIN_PASSWORD or not any(c.isdigit() for c in password)
            or not any(c.isalpha() for c in password) or password.lower() == username.lower()):
        return PASSWORD_RULE
    return None


def sync_units(session, district: District) -> tuple[int, int]:
    """Create or update units by code from the district file; returns (created, updated).
    Running it twice changes nothing the second time."""
    existing = {u.code: u for u in session.execute(select(Unit)).scalars()}
    created = updated = 0
    for spec in district.units:
        values = {"name": spec.name, "kind": spec.kind, "keywords": spec.keywords, "places": spec.places}
        unit = existing.get(spec.code)
        if unit is None:
            unit = Unit(code=spec.code, active=True, **values)
            session.add(unit)
            session.flush()
            audit.record(session, "unit.created", "unit", unit.id, after={"code": spec.code, **values})
            created += 1
        elif any(getattr(unit, k) != v for k, v in values.items()):
            before = {k: getattr(unit, k) for k in values}
            for k, v in values.items():
                setattr(unit, k, v)
            audit.record(session, "unit.updated", "unit", unit.id, before=before, after=values)
            updated += 1
    return created, updated


def load_units(app) -> tuple[int, int]:
    """The district's units (file and admin overrides) into the database, committed."""
    try:
        counts = sync_units(db.session, app.extensions["district"])
        db.session.commit()
    except (OperationalError, ProgrammingError) as exc:
        db.session.rollback()
        raise OpinionError("数据库还没有建表：请先运行 python -m opinion db upgrade") from exc
    return counts


def ensure_user(session, username: str, name: str, role: str, password: str,
                unit: Unit | None = None, is_unit_head: bool = False) -> tuple[User, bool]:
    """The user with this name, created if missing (an existing user's password is left alone)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role}")
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None:
        return user, False
    user = User(username=username, name=name, role=role, unit=unit, is_unit_head=is_unit_head,
                active=True)
    user.set_password(password)
    session.add(user)
    session.flush()
    audit.record(session, "user.created", "user", user.id,
                 after={"username": username, "role": role, "unit": unit.code if unit else None})
    return user, True

