"""The people of an interview (an admin, a monitor, the 住建局's spokesperson as the leader's office,
another unit's spokesperson) and one interview of the 住建局 scheduled two hours from now."""
from datetime import timedelta

import pytest
from sqlalchemy import select

from opinion.interviews import live
from opinion.models import Unit, utcnow
from tests.factories import make_user


def unit_of(session, code: str) -> Unit:
    return session.execute(select(Unit).where(Unit.code == code)).scalar_one()


@pytest.fixture
def people(session):
    return {"monitor": make_user(session, "monitor1", "monitor", "center"),
            "admin": make_user(session, "admin1", "admin"),
            "office": make_user(session, "zjj_fyr", "spokesperson", "zjj"),
            "other": make_user(session, "jyj_fyr", "spokesperson", "jyj")}


@pytest.fixture
def interview(session, people):
    now = utcnow()
    made = live.schedule(session, people["admin"], unit_of(session, "zjj"), "王建国", "局长", "老旧小区改造和加装电梯",
                         now + timedelta(hours=2), now)
    session.commit()
    return made
