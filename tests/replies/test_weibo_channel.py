"""Publishing through the real Weibo-style API collector, against the collectors' local fake API."""
import pytest
from sqlalchemy import select

from opinion.cases import replies
from opinion.models import Case
from opinion.pipeline.batch import ingest
from tests.collectors.fake_server import FakeServer, FakeWeibo
from tests.conftest import at
from tests.factories import make_item, make_source
from tests.replies.test_services import GOOD


@pytest.fixture
def weibo():
    with FakeServer() as server:
        yield FakeWeibo(server)


@pytest.fixture
def weibo_case(app, session, people, weibo):
    source = make_source(session, code="wb", kind="weibo_api")
    source.config = {"base_url": weibo.base, "access_token": FakeWeibo.TOKEN}
    session.commit()
    ingest(session, app, source, [
        make_item("4900000000000123", "中山路下穿隧道积水半米深，车子熄火在里面", author="江边老王", minutes_ago=200),
        make_item("4900000000000124", "中山路隧道又积水了，每次下雨都变成河", minutes_ago=100)])
    session.commit()
    return session.execute(select(Case)).scalar_one()


def test_reply_is_posted_as_a_comment_on_the_first_post(session, district, weibo_case, people, weibo):
    out = replies.submit(session, district, weibo_case, people["slj_fyr"], GOOD, at("2026-10-08 09:00"))
    session.commit()
    assert out.status == "published"
    sent = weibo.published[-1]
    assert sent["kind"] == "create" and sent["id"] == "4900000000000123"
    assert out.reply.channel == "weibo_api" and out.reply.external_url.endswith(str(sent["new_id"]))


def test_an_expired_token_keeps_the_draft_and_says_why(session, district, weibo_case, people, weibo):
    weibo.error = {"status": 400, "body": {"error": "expired_token", "error_code": 21327}}
    out = replies.submit(session, district, weibo_case, people["slj_fyr"], GOOD, at("2026-10-08 09:00"))
    session.commit()
    assert out.status == "blocked" and "过期" in out.findings[-1].message
    assert out.reply.status == "draft" and weibo_case.first_response_at is None
