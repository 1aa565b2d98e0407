"""Helpers for the case tests: a topic and a case opened at a given Beijing time."""
from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from opinion.cases import lifecycle as service
from opinion.models import Topic, Unit
from tests.conftest import at
from tests.factories import make_user

_keys = itertools.count(1)


def unit(session, code: str) -> Unit:
    return session.execute(select(Unit).where(Unit.code == code)).scalar_one()


def open_case(session, district, *, unit_code="jyj", priority="normal", start="2026-11-23 09:00",
              label="实验小学推迟开学"):
    topic = Topic(key=f"t-{next(_keys)}", label=label, first_seen_at=at(start), last_seen_at=at(start))
    session.add(topic)
    session.flush()
    case, _ = service.open_or_attach(session, district, topic, unit(session, unit_code),
                                     priority=priority, category="教育文体", reason="测试",
                                     now=at(start))
    session.commit()
    return case


@pytest.fixture
def people(session):
    """A spokesperson and a head for jyj and zjj, two monitors and two leaders."""
    return {
        "fyr": make_user(session, "jyj_fyr", "spokesperson", "jyj"),
        "fyr2": make_user(session, "jyj_fyr2", "spokesperson", "jyj"),
        "head": make_user(session, "jyj_head", "spokesperson", "jyj", is_unit_head=True),
        "zjj": make_user(session, "zjj_fyr", "spokesperson", "zjj"),
        "monitor": make_user(session, "monitor1", "monitor", "center"),
        "monitor2": make_user(session, "monitor2", "monitor", "center"),
        "leader": make_user(session, "leader", "leader", "jyj"),
        "leader2": make_user(session, "leader2", "leader"),
    }
