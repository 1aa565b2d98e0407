"""HTTP for collectors: every request bounded in time and size, every failure said in words.

`requests` timeouts bound the connection and each read, not a server that drips one byte a second,
so the body is read in chunks against a total deadline as well. One slow source therefore never
holds the scheduler's worker for longer than `total` seconds.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Mapping

import requests

from collectors.base import CollectorError, RateLimited
from collectors.redact import redact, secret_values

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
TOTAL_TIMEOUT = 30.0
MAX_BYTES = 20 * 1024 * 1024
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
    Error texts never carry a secret: token-like query values and the config's secrets read ***."""
    config = config or {}
    try:
        return _fetch(url, method, params, data, headers, config, rate_limit_statuses, ok_statuses)
    except CollectorError as exc:
        # requests puts the full URL, query string and access token included, in its messages.
        exc.args = (redact(str(exc), secret_values(config)),)
        raise


def _fetch(url, method, params, data, headers, config, rate_limit_statuses, ok_statuses) -> Fetched:
    total = float(config.get("timeout_total", TOTAL_TIMEOUT))
    timeout = (float(config.get("timeout_connect", CONNECT_TIMEOUT)), float(config.get("timeout_read", READ_TIMEOUT)))
    max_bytes = int(config.get("max_bytes", MAX_BYTES))
    session = requests.Session()
    session.max_redirects = MAX_REDIRECTS
    started = time.monotonic()
    try:
        with session.request(method, url, params=params, data=data, stream=True, timeout=timeout,
                             headers={"User-Agent": USER_AGENT, **(headers or {})}) as resp:
            chunks, size = [], 0
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise CollectorError(f"响应超过 {max_bytes // (1024 * 1024)} MB 上限，已中止")
                if time.monotonic() - started > total:
                    raise CollectorError(f"下载超过 {total:.0f} 秒仍未完成，已中止（服务器过慢）")
                chunks.append(chunk)
            fetched = Fetched(resp.status_code, resp.url, resp.headers, b"".join(chunks))
    except requests.exceptions.TooManyRedirects as exc:
        raise CollectorError(f"重定向次数过多（超过 {MAX_REDIRECTS} 次，可能是重定向循环）：{url}") from exc
    except requests.exceptions.ConnectTimeout as exc:
        raise CollectorError(f"连接超时（{timeout[0]:.0f} 秒无法连上 {url}）") from exc
    except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError) as exc:
        if isinstance(exc, requests.exceptions.ReadTimeout) or "timed out" in str(exc):
            raise CollectorError(f"服务器无响应（{timeout[1]:.0f} 秒内没有返回数据）：{url}") from exc
        raise CollectorError(f"无法连接 {url}：{_short(exc)}") from exc
    except requests.exceptions.InvalidURL as exc:
        raise CollectorError(f"地址无效：{url}") from exc
    except requests.exceptions.RequestException as exc:
        raise CollectorError(f"请求 {url} 失败：{_short(exc)}") from exc
    finally:
        session.close()
    if fetched.status in rate_limit_statuses:
        wait = _retry_after(fetched.headers)
        raise RateLimited(f"被限流（HTTP {fetched.status}）" + (f"，{wait} 秒后重试" if wait else "，稍后重试"),
                          retry_after=wait)
    if fetched.status not in ok_statuses:
        raise CollectorError(f"服务器返回 HTTP {fetched.status}：{url}")
    return fetched


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
