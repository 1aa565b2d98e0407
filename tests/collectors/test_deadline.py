"""The total download deadline holds against a server that drips its body a byte at a time.

Before issue 17 the body was read in 64 KiB chunks, each read waiting for the whole chunk (or the
end), so the deadline was never looked at: a 30-second limit held `collect --once` for 84-221 s and
the error blamed a silent server. The deadline here is 1.5 s so the test takes about 2 s.
"""
import socket
import threading
import time

import pytest

from collectors import CollectorError
from collectors.http import fetch
from opinion.pipeline.runs import run_source
from tests.factories import make_source

FEED_HEAD = (b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
             b"<item><title>a</title><guid>1</guid><description>")


class DrippingServer:
    """Answers every request with headers at once, then one body byte every `every` seconds for
    `seconds`, with no Content-Length (or chunked), like the slow sources seen in the field."""

    def __init__(self, every: float = 0.1, seconds: float = 10.0, chunked: bool = False,
                 drip_headers: bool = False):
        self.every, self.seconds, self.chunked, self.drip_headers = every, seconds, chunked, drip_headers
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/feed.xml"

    def _serve(self):
        self.listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn):
        try:
            conn.recv(65536)
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
            head += b"Transfer-Encoding: chunked\r\n\r\n" if self.chunked else b"Connection: close\r\n\r\n"
            if self.drip_headers:  # the status line and headers themselves, a byte at a time
                head += b"".join(b"X-Padding-%d: %s\r\n" % (i, b"p" * 40) for i in range(20))
                for i in range(len(head)):
                    if self.stop.is_set():
                        return
                    conn.sendall(head[i:i + 1])
                    time.sleep(self.every)
            else:
                conn.sendall(head)
            body = FEED_HEAD + "积".encode() * 1000
            end = time.monotonic() + self.seconds
            for i in range(len(body)):
                if self.stop.is_set() or time.monotonic() > end:
                    break
                byte = body[i:i + 1]
                conn.sendall(b"1\r\n" + byte + b"\r\n" if self.chunked else byte)
                time.sleep(self.every)
        except OSError:
            pass  # the client gave up, as it should
        finally:
            conn.close()

    def close(self):
        self.stop.set()
        self.listener.close()


@pytest.fixture(params=[False, True], ids=["no-length", "chunked"])
def dripping(request):
    server = DrippingServer(chunked=request.param)
    yield server
    server.close()


def test_a_dripping_body_is_cut_at_the_total_deadline(dripping):
    started = time.monotonic()
    with pytest.raises(CollectorError) as caught:
        fetch(dripping.url, config={"timeout_total": 1.5})
    elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.5, elapsed
    assert "下载超过 1.5 秒" in str(caught.value) and "127.0.0.1" in str(caught.value)
    assert "无响应" not in str(caught.value)  # it did answer, too slowly: the words say which


def test_dripping_headers_are_cut_at_the_total_deadline():
    server = DrippingServer(every=0.05, drip_headers=True)
    try:
        started = time.monotonic()
        with pytest.raises(CollectorError) as caught:
            fetch(server.url, config={"timeout_total": 1.5})
        assert time.monotonic() - started < 2.5
        assert "下载超过 1.5 秒" in str(caught.value)
    finally:
        server.close()


def test_the_default_deadline_is_thirty_seconds_in_the_words():
    from collectors import http
    assert http.TOTAL_TIMEOUT == 30.0


def test_a_collecting_run_reports_the_deadline_on_the_source(app, session):
    server = DrippingServer(every=0.05)
    try:
        source = make_source(session, "slow", kind="rss")
        source.config = {"url": server.url, "timeout_total": 1.5}
        session.commit()
        started = time.monotonic()
        line = run_source(app, source)
        assert time.monotonic() - started < 4, line
        assert source.status == "failing" and "下载超过 1.5 秒" in source.last_error, source.last_error
    finally:
        server.close()
