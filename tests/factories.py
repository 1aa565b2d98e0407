"""Test factories in the make_x(session, **overrides) style."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from collectors.base import NormalisedPost
from opinion.accounts.directory import ensure_user
from opinion.models import Source, Unit

PASSWORD = "correct horse"


def make_source(session, code: str = "test", kind: str = "file") -> Source:
    source = session.execute(select(Source).where(Source.code == code)).scalar_one_or_none()
    if source is None:
        source = Source(code=code, name=f"测试源 {code}", kind=kind, enabled=True, config={}, state={})
        session.add(source)
        session.commit()
    return source


def make_user(session, username: str, role: str, unit_code: str | None = None, **kw):
    unit = session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one() if unit_code else None
    user, _ = ensure_user(session, username, username, role, PASSWORD, unit, **kw)
    session.commit()
    return user


def make_item(ext: str, text: str, minutes_ago: int = 10, **kw) -> NormalisedPost:
    created = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    return NormalisedPost(external_id=ext, text=text, created_at=created, **kw)


def login(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})
