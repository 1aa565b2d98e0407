"""A source's network failure reads as a few Chinese words and the host; the detail is in the log."""
import gzip
import logging
import socket
import threading
from datetime import timedelta, timezone

import pytest

from collectors import CollectorError
from collectors.http import fetch
from opinion.models import utcnow
from opinion.pipeline.runs import run_source
from tests.collectors.fake_server import Reply
from tests.factories import login, make_source, make_user


@pytest.mark.parametrize("url,words", [
    ("http://127.0.0.1:9/feed.xml", "连接被拒绝：127.0.0.1:9"),
    ("http://no-such-host.invalid/feed.xml", "域名无法解析：no-such-host.invalid"),
    ("ftp://example.org/feed.xml", "地址无效：ftp://example.org/feed.xml"),
])
def test_network_failures_in_words(url, words, caplog):
    with caplog.at_level(logging.WARNING, logger="collectors.http"), pytest.raises(CollectorError) as info:
        fetch(url, config={"timeout_connect": 2})
    assert str(info.value) == words
    assert "HTTPConnectionPool" not in str(info.value) and "Max retries" not in str(info.value)
    assert url in caplog.text  # the technical detail stays in the log


def test_https_to_a_plain_server_is_an_ssl_failure(server):
    server.routes["/feed.xml"] = Reply(200, b"<rss/>")
    with pytest.raises(CollectorError, match=r"^SSL 连接失败：127\.0\.0\.1:\d+$"):
        fetch(server.base.replace("http://", "https://") + "/feed.xml", config={"timeout_connect": 2})


def test_http_status_in_words(server):
    server.routes["/feed.xml"] = Reply(502, b"bad gateway")
    with pytest.raises(CollectorError, match=r"^HTTP 状态码 502：127\.0\.0\.1:\d+$"):
        fetch(f"{server.base}/feed.xml")


def test_the_source_page_shows_words_and_local_times(client, session):
    source = make_source(session, "gov-rss", kind="rss")
    source.name, source.config = "区政府门户", {"url": "http://127.0.0.1:9/feed.xml", "timeout_connect": 2}
    session.commit()
    make_user(session, "monitor1", "monitor", "center")
    login(client, "monitor1")
    page = client.post(f"/sources/{source.id}/run", follow_redirects=True).get_data(as_text=True)
    assert "区政府门户：失败（第 1 次）— 连接被拒绝：127.0.0.1:9" in page  # the flash names the source
    assert "gov-rss:" not in page and "NewConnectionError" not in page and "UTC" not in page
    session.refresh(source)
    run_at = source.last_run_at.astimezone(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M")
    assert f"{run_at}：新增 0" in page  # Beijing time, as every other time on the page


def test_a_silent_source_names_its_last_new_post_in_local_time(app, session, server):
    server.routes["/feed.xml"] = Reply(200, b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
                                            b"</channel></rss>")
    source = make_source(session, "rss", kind="rss")
    source.config = {"url": f"{server.base}/feed.xml", "expected_period_seconds": 3600}
    source.created_at = utcnow().replace(hour=1, minute=5, second=0, microsecond=0) - timedelta(days=1)
    session.commit()
    run_source(app, source)
    assert source.status == "silent"
    assert f"上次新内容：{source.created_at.astimezone(timezone(timedelta(hours=8))):%Y-%m-%d} 09:05" in source.last_error


class RawServer:
    """A server that answers every connection with the same raw bytes and closes: the broken
    responses an HTTP server library will not send."""

    def __init__(self, raw: bytes):
        self.raw, self.sock = raw, socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}/feed.xml"

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.recv(65536)
                conn.sendall(self.raw)


@pytest.mark.parametrize("raw,words", [
    # Content-Encoding says gzip, the body is not gzip (requests: ContentDecodingError)
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Encoding: gzip\r\n"
     b"Content-Length: 20\r\nConnection: close\r\n\r\nthis is not gzip....", "数据无法解压"),
    # the connection closes 200 bytes short of the announced length (ChunkedEncodingError)
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nContent-Length: 250\r\nConnection: close\r\n\r\n"
     b"<rss version=\"2.0\"><channel><title>t</title>", "下载中途连接中断"),
    # a chunked body whose chunk size is not a number (ChunkedEncodingError)
    (b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"zz\r\n<rss/>\r\n", "下载中途连接中断"),
], ids=["not-gzip", "short-body", "bad-chunk"])
def test_broken_responses_are_said_in_words(raw, words):
    server = RawServer(raw)
    with pytest.raises(CollectorError) as info:
        fetch(server.url, config={"timeout_connect": 2, "timeout_read": 2})
    message, port = str(info.value), server.sock.getsockname()[1]
    assert words in message and f"：127.0.0.1:{port}；" in message and "下次自动重试" in message
    assert "Error" not in message  # no exception class names, ContentDecodingError or other
    server.sock.close()


def test_a_gzip_compressed_feed_is_read_decompressed():
    # Servers compress feeds (Content-Encoding: gzip); the deadline-aware reader must still decode them.

    feed = "<rss version=\"2.0\"><channel><title>区政府</title><item><title>通知</title></item></channel></rss>"
    body = gzip.compress(feed.encode("utf-8"))
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml; charset=utf-8\r\n"
                       b"Content-Encoding: gzip\r\nContent-Length: " + str(len(body)).encode() +
                       b"\r\nConnection: close\r\n\r\n" + body)
    fetched = fetch(server.url, config={"timeout_connect": 2, "timeout_read": 2})
    assert fetched.content == feed.encode("utf-8")
    server.sock.close()
