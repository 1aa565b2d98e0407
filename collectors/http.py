"""HTTP for collectors: every request bounded in time and size, every failure said in words.

`requests` timeouts bound the connection and each read, not a server that drips one byte a second,
so the body is read in chunks against a total deadline as well. One slow source therefore never
holds the scheduler's worker for longer than `total` seconds.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from collectors.base import CollectorError, RateLimited
from collectors.redact import redact, secret_values

log = logging.getLogger(__name__)
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
TOTAL_TIMEOUT = 30.0
MAX_BYTES = 20 * 1024 * 1024
READ_SIZE = 16 * 1024     # at most this per read; a read returns whatever the socket has
MAX_REDIRECTS = 5
USER_AGENT = "opinion-collector/1.0 (district public-opinion system)"
RATE_LIMIT_STATUSES = (429, 418, 403)


@dataclass
class Fetched:
    status: int
    url: str
    headers: Mapping[str, str]  # case-insensitive (requests): "ETag" and "etag" alike
    content: bytes


def _retry_after(headers) -> int | None:
    value = headers.get("Retry-After")
    return int(value) if value and value.strip().isdigit() else None


def fetch(url: str, *, method: str = "GET", params: dict | None = None, data: dict | None = None,
          headers: dict | None = None, config: dict | None = None,
          rate_limit_statuses: tuple[int, ...] = RATE_LIMIT_STATUSES, ok_statuses: tuple[int, ...] = (200, 304),
          ) -> Fetched:
    """One bounded request. Raises RateLimited for 429/418/403 and CollectorError for everything
    else that is not in ok_statuses (timeouts, refused connections, redirect loops, HTTP errors).

    The error says what failed in a few Chinese words and names the host (连接被拒绝：host); the
    technical detail goes to the log only. Neither carries a secret: token-like query values and
    the config's secrets read ***.
    """
    config = config or {}
    secrets = secret_values(config)
    try:
        return _fetch(url, method, params, data, headers, config, rate_limit_statuses, ok_statuses)
    except requests.exceptions.RequestException as exc:
        # requests puts the full URL, query string and access token included, in its messages.
        log.warning("%s %s failed: %s", method, redact(url, secrets), redact(_technical(exc), secrets))
        words = _in_words(exc, config)
        where = url if words == "地址无效" else _host(url)
        what, _, advice = words.partition("；")  # what happened names the host; the advice follows
        raise CollectorError(redact(f"{what}：{where}" + (f"；{advice}" if advice else ""), secrets)) from None


def _fetch(url, method, params, data, headers, config, rate_limit_statuses, ok_statuses) -> Fetched:
    total = float(config.get("timeout_total", TOTAL_TIMEOUT))
    connect, read = _timeouts(config)
    timeout = (min(connect, total), min(read, total))  # the headers' wait is within the deadline too
    max_bytes = int(config.get("max_bytes", MAX_BYTES))
    session = requests.Session()
    session.max_redirects = MAX_REDIRECTS
    sockets = _Sockets()
    for prefix in ("http://", "https://"):
        session.mount(prefix, _DeadlineAdapter(sockets))
    # A server dripping its headers is cut by this timer; the body's reads watch the deadline too.
    timer = threading.Timer(total, sockets.cut_all)
    timer.daemon = True
    started = time.monotonic()
    timer.start()
    try:
        with session.request(method, url, params=params, data=data, stream=True, timeout=timeout,
                             headers={"User-Agent": USER_AGENT, **(headers or {})}) as resp:
            body = _read_body(resp, started + total, timeout[1], max_bytes, url, total, sockets)
            fetched = Fetched(resp.status_code, resp.url, resp.headers, body)
    except requests.exceptions.RequestException:
        if sockets.cut:
            raise CollectorError(_too_slow(total, url)) from None
        raise
    finally:
        timer.cancel()
        session.close()
    if fetched.status in rate_limit_statuses:
        wait = _retry_after(fetched.headers)
        raise RateLimited(f"被限流（HTTP {fetched.status}）" + (f"，{wait} 秒后重试" if wait else "，稍后重试"),
                          retry_after=wait)
    if fetched.status not in ok_statuses:
        raise CollectorError(f"HTTP 状态码 {fetched.status}：{_host(url)}")
    return fetched


class _Sockets:
    """The sockets one fetch opened, so that its deadline timer can shut them all, whatever they
    are waiting for (a connection, headers, the body)."""

    def __init__(self):
        self.open: list[socket.socket] = []
        self.cut = False
        self._lock = threading.Lock()

    def add(self, sock) -> None:
        with self._lock:
            self.open.append(sock)
            if self.cut:
                _shut(sock)

    def cut_all(self) -> None:
        with self._lock:
            self.cut = True
            for sock in self.open:
                _shut(sock)


def _shut(sock) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)  # a blocked recv returns at once; close stays with urllib3
    except OSError:
        pass


class _DeadlineAdapter(HTTPAdapter):
    """requests' adapter whose connections report their sockets to `sockets` once connected."""

    def __init__(self, sockets: _Sockets):
        self.sockets = sockets
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        sockets = self.sockets

        def tracked(pool_cls):
            class Connection(pool_cls.ConnectionCls):
                def connect(self):
                    super().connect()
                    sockets.add(self.sock)
            return type(pool_cls.__name__, (pool_cls,), {"ConnectionCls": Connection})

        self.poolmanager.pool_classes_by_scheme = {
            scheme: tracked(cls) for scheme, cls in self.poolmanager.pool_classes_by_scheme.items()}


def _too_slow(total: float, url: str) -> str:
    return f"下载超过 {total:g} 秒仍未完成，已中止（服务器过慢，请稍后重试或联系对方）：{_host(url)}"


def _read_body(resp: requests.Response, deadline: float, read_timeout: float, max_bytes: int, url: str,
               total: float, sockets: _Sockets) -> bytes:
    """The body, read in what the socket has (read1, at most READ_SIZE) with the socket's timeout
    set to the time left before `deadline`: a server dripping one byte every half second without a
    Content-Length is cut at the deadline. (iter_content(64 KiB) waited for 64 KiB or the end, so the
    deadline was never looked at: 84-221 s for a 30-second limit.)"""
    too_slow = _too_slow(total, url)
    raw, sock = resp.raw, _socket(resp)
    chunks, size = [], 0
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise CollectorError(too_slow)
        if sock is not None:
            sock.settimeout(max(min(read_timeout, left), 0.01))
        try:
            chunk = raw.read1(READ_SIZE, decode_content=True)  # gzip/deflate as requests would
        except urllib3.exceptions.ReadTimeoutError:
            if sockets.cut or time.monotonic() >= deadline - 0.05:
                raise CollectorError(too_slow) from None
            raise requests.exceptions.ReadTimeout(f"read timed out after {read_timeout:g} s") from None
        except urllib3.exceptions.DecodeError as exc:
            raise requests.exceptions.ContentDecodingError(exc) from None
        except urllib3.exceptions.SSLError as exc:
            raise requests.exceptions.SSLError(exc) from None
        except urllib3.exceptions.ProtocolError as exc:
            raise requests.exceptions.ChunkedEncodingError(exc) from None
        if not chunk:
            if sockets.cut:  # the end the deadline timer made, not the server's: not a whole body
                raise CollectorError(too_slow)
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise CollectorError(f"响应超过 {max_bytes // (1024 * 1024)} MB 上限，已中止：{_host(url)}")
        chunks.append(chunk)


def _socket(resp: requests.Response):
    """The response's socket, to set its timeout as the deadline nears; None where urllib3 keeps it
    elsewhere (then the per-read timeout bounds each wait and the deadline is checked between)."""
    connection = getattr(resp.raw, "connection", None) or getattr(resp.raw, "_connection", None)
    return getattr(connection, "sock", None)


def _timeouts(config: dict) -> tuple[float, float]:
    return (float(config.get("timeout_connect", CONNECT_TIMEOUT)), float(config.get("timeout_read", READ_TIMEOUT)))


# What the operating system and urllib3 say, for the failures a source shows most often.
_CAUSES = (
    (("NameResolutionError", "Name or service not known", "nodename nor servname", "getaddrinfo failed",
      "Temporary failure in name resolution", "No address associated"), "域名无法解析"),
    (("Connection refused", "ConnectionRefusedError", "actively refused"), "连接被拒绝"),
    (("Connection reset", "ConnectionResetError", "RemoteDisconnected", "Connection aborted"), "连接被对方中断"),
    (("Network is unreachable", "No route to host"), "网络不可达"),
)


def _in_words(exc: requests.exceptions.RequestException, config: dict) -> str:
    """A failed request in a few Chinese words, without the host; what to do follows a "；"."""
    connect, read = _timeouts(config)
    text = _technical(exc)
    if isinstance(exc, requests.exceptions.TooManyRedirects):
        return f"重定向次数过多（超过 {MAX_REDIRECTS} 次，可能是重定向循环）"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"连接超时（{connect:g} 秒内无法连上）"
    if isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in text:
        return f"服务器无响应（{read:g} 秒内没有返回数据）"
    if isinstance(exc, requests.exceptions.SSLError):
        return "SSL 证书错误" if "CERTIFICATE" in text.upper() else "SSL 连接失败"
    if isinstance(exc, requests.exceptions.ProxyError):
        return "代理服务器连接失败"
    if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
                        requests.exceptions.InvalidSchema)):
        return "地址无效"
    if isinstance(exc, requests.exceptions.ConnectionError):
        for needles, words in _CAUSES:
            if any(n in text for n in needles):
                return words
        return "网络连接失败"
    if isinstance(exc, requests.exceptions.ContentDecodingError):
        return ("服务器声明内容经过压缩（如 gzip），但数据无法解压，可能已损坏；本次未采集，"
                "下次自动重试，如反复出现请联系对方网站")
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "下载中途连接中断，内容不完整；本次未采集，下次自动重试"
    if isinstance(exc, requests.exceptions.InvalidHeader):
        return "服务器返回的响应头格式错误；请联系对方网站"
    return f"请求失败（原因未能识别：{type(exc).__name__}）；下次自动重试，如反复出现请检查订阅地址"


def _host(url: str) -> str:
    """host or host:port of a URL, never its user name, password, path or query."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    return (f"{host}:{port}" if port else host) or url


def _technical(exc: Exception) -> str:
    """The whole exception chain as text (requests nests urllib3's and the socket's reasons)."""
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
