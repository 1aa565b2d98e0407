"""Secrets never reach a source's error, its run record, the operator's line or the log."""
import logging

import pytest

from collectors import CollectorError, make_collector
from collectors.redact import redact, secret_values
from opinion.ingest import collect as collect_module
from opinion.pipeline.runs import run_source
from tests.collectors.fake_server import Reply
from tests.factories import make_source

TOKEN = "2.00SeCrEtToKeN_abc123"
REFUSED = "http://127.0.0.1:9/2"  # nothing listens on the discard port: connection refused


@pytest.mark.parametrize("text,expected", [
    ("GET /2/statuses/mentions.json?access_token=2.00abc&count=50 failed",
     "GET /2/statuses/mentions.json?access_token=***&count=50 failed"),
    ("url: /feed?token=abc&secret=def&password=ghi&key=jkl&api_key=mno&monkey=1",
     "url: /feed?token=***&secret=***&password=***&key=***&api_key=***&monkey=1"),
    ("https://user:pa55@example.org/feed.xml", "https://user:***@example.org/feed.xml"),
    ("nothing secret here: since_id=12&max_id=3", "nothing secret here: since_id=12&max_id=3"),
])
def test_secret_query_values_are_masked(text, expected):
    assert redact(text) == expected


def test_configured_secret_values_are_masked_wherever_they_appear():
    config = {"access_token": TOKEN, "secret": "webhook-signing-secret", "url": "http://x", "count": 2}
    assert secret_values(config) == [TOKEN, "webhook-signing-secret"]
    assert redact(f"Authorization: Bearer {TOKEN} (webhook-signing-secret)", secret_values(config)) == \
        "Authorization: Bearer *** (***)"


def weibo_source(session, base=REFUSED):
    source = make_source(session, "wb", kind="weibo_api")
    source.config = {"base_url": base, "access_token": TOKEN, "timeout_connect": 2}
    session.commit()
    return source


def test_refused_weibo_api_shows_no_token(app, session, caplog):
    caplog.set_level(logging.DEBUG, logger="opinion")
    caplog.set_level(logging.DEBUG, logger="collectors")
    source = weibo_source(session)
    line = run_source(app, source)
    assert source.status == "failing" and source.last_error
    for text in (source.last_error, line, source.state["last_run"]["error"], caplog.text):
        assert TOKEN not in text and "access_token=2" not in text


def test_a_publish_failure_shows_no_token():
    c = make_collector("weibo_api", {"base_url": REFUSED, "access_token": TOKEN, "timeout_connect": 2}, {})
    with pytest.raises(CollectorError) as info:
        c.publish_reply("4900000000000123", "您好")
    assert TOKEN not in str(info.value)


def test_a_feed_url_with_a_key_is_masked_in_http_errors(app, session, server):
    server.routes["/feed.xml"] = Reply(500, b"Internal Server Error")
    source = make_source(session, "rss", kind="rss")
    source.config = {"url": f"{server.base}/feed.xml?key=feedKEY9876"}
    session.commit()
    line = run_source(app, source)
    assert "HTTP 状态码 500" in source.last_error
    assert "feedKEY9876" not in source.last_error and "feedKEY9876" not in line


def test_an_internal_error_is_logged_without_the_token(app, session, caplog, monkeypatch):
    def broken(kind, config, state):
        raise ValueError(f"boom at {config['base_url']}/x.json?access_token={config['access_token']}")
    monkeypatch.setattr(collect_module, "make_collector", broken)
    source = weibo_source(session)
    with caplog.at_level(logging.ERROR, logger="opinion.ingest.collect"):
        run_source(app, source)
    assert "内部错误" in source.last_error and TOKEN not in source.last_error
    assert "source wb failed" in caplog.text and "ValueError" in caplog.text and TOKEN not in caplog.text
