"""A case to answer: two posts about a flooded underpass, routed to the water bureau (slj)."""
import pytest
from sqlalchemy import select

from opinion.models import Case
from opinion.pipeline.batch import ingest
from tests.factories import make_item, make_source, make_user
from tests.replies import fake_channel


@pytest.fixture
def people(session):
    return {name: make_user(session, name, role, unit, **kw) for name, role, unit, kw in [
        ("slj_fyr", "spokesperson", "slj", {}), ("slj_fyr2", "spokesperson", "slj", {}),
        ("slj_head", "spokesperson", "slj", {"is_unit_head": True}),
        ("jyj_head", "spokesperson", "jyj", {"is_unit_head": True}),
        ("monitor1", "monitor", "center", {}), ("leader", "leader", None, {})]}


def _case(app, session, source_kind: str) -> Case:
    ingest(session, app, make_source(session, code=source_kind, kind=source_kind), [
        make_item("a", "中山路下穿隧道积水半米深，车子熄火在里面", author="江边老王", minutes_ago=200),
        make_item("b", "中山路隧道又积水了，每次下雨都变成河", author="市民乙", minutes_ago=100)])
    session.commit()
    return session.execute(select(Case)).scalar_one()


@pytest.fixture
def case(app, session, people):
    """A case whose posts came from a file import: no channel to reply through."""
    return _case(app, session, "file")


@pytest.fixture
def channel_case(app, session, people, monkeypatch):
    """A case whose posts came from a source that takes replies (the fake channel)."""
    import collectors
    monkeypatch.setitem(collectors.REGISTRY, "fakeweibo", "tests.replies.fake_channel:FakeChannel")
    fake_channel.SENT.clear()
    fake_channel.FAIL.clear()
    return _case(app, session, "fakeweibo")
