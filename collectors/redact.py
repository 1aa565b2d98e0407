"""Secrets out of error texts and log lines.

A request that fails puts its whole URL in the exception text, query string included, and a
Weibo-style API takes its access token there (`?access_token=…`). Every error a source shows to
monitors, and every log line about it, passes through `redact` first.
"""
from __future__ import annotations

import re
from typing import Iterable

MASK = "***"
# Config keys and query parameters whose values are secrets: access_token, token, app_secret,
# password, api_key … (a name ending in one of these words).
SECRET_NAME = re.compile(r"(?:^|[_.-])(?:token|secret|password|passwd|key)$", re.I)
_QUERY_VALUE = re.compile(r"(?i)(?<![\w.-])((?:[\w.-]*[_.-])?(?:token|secret|password|passwd|key)=)[^&\s'\"<>#)\]]+")
_USERINFO = re.compile(r"(://[^/\s:@]+:)[^/\s@]+@")
MIN_SECRET = 4  # shorter configured values would mask ordinary words


def secret_values(config: dict | None) -> list[str]:
    """The values of a source's config that are secrets (its token, its signing secret)."""
    return [str(v) for k, v in (config or {}).items()
            if SECRET_NAME.search(str(k)) and v and len(str(v)) >= MIN_SECRET]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with secret query values, URL passwords and the given secret values replaced by ***."""
    text = str(text)
    for value in sorted(set(secrets), key=len, reverse=True):
        if value and len(value) >= MIN_SECRET:
            text = text.replace(value, MASK)
    text = _QUERY_VALUE.sub(lambda m: m.group(1) + MASK, text)
    return _USERINFO.sub(lambda m: m.group(1) + MASK + "@", text)
