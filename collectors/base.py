"""The one contract every collector meets: a source's configuration in, normalised posts out.

A collector yields NormalisedPost objects and knows nothing of the database; ingest stores them.
Where its channel can take an answer (a Weibo comment), it also publishes a reply back there.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterator, Protocol

# Dates before this are a zero timestamp or a broken clock, not a real post.
EARLIEST_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=timezone.utc)


@dataclass
class NormalisedPost:
    external_id: str
    text: str                           # as received; cleaning happens in the pipeline
    created_at: datetime | None = None  # aware; None means "when we saw it"
    author: str | None = None
    author_followers: int | None = None
    url: str | None = None
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    payload: dict = field(default_factory=dict)  # the raw item, kept for re-parsing


class SourceNotConfigured(Exception):
    """The source lacks what the collector needs (a URL, a token); it is skipped and shown so."""


class CollectorError(Exception):
    """The source answered wrongly (HTTP 500, not a feed, a token refused); str() says so in Chinese."""


class RateLimited(CollectorError):
    """The source asked us to slow down (HTTP 429/418/403, a rate-limit error code).

    The cursor is kept; the source is retried after `retry_after` seconds (or its back-off).
    """

    def __init__(self, message: str, retry_after: int | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class NotSupported(Exception):
    """The channel has no way to publish a reply (an RSS feed, a file import)."""


class Collector(Protocol):
    kind: str
    can_publish: bool    # True where publish_reply posts back through the channel

    def collect(self, since: datetime | None) -> Iterator[NormalisedPost]:
        ...

    def publish_reply(self, post_external_id: str, text: str) -> str | None:
        ...


class BaseCollector:
    """What collectors share: config and state (cursors, ETag) and the default reply behaviour.

    `state` is the source's saved state, a dict the collector updates in place; it is stored only
    when the run succeeds, so a failed run keeps the previous cursor.
    """

    kind = "base"
    can_publish = False

    def __init__(self, config: dict, state: dict):
        self.config = config or {}
        self.state = state if state is not None else {}
        self.warnings: list[str] = []  # problems that did not stop the run, shown on the source page

    def collect(self, since: datetime | None) -> Iterator[NormalisedPost]:
        return iter(())

    def publish_reply(self, post_external_id: str, text: str) -> str | None:
        """Publish `text` as a reply to the post; returns the reply's URL (None if the channel gives
        none). Raises NotSupported where the channel cannot take replies."""
        raise NotSupported(f"“{self.kind}”类型的数据源不支持直接回复，请在原平台发布后填写链接")


def plausible_time(value: datetime | None, now: datetime, payload: dict) -> datetime | None:
    """The post's time if believable; None (the fetch time is used) for a 1970 or future date,
    with the original kept in payload['time_note'] so nothing is silently changed."""
    if value is None:
        return None
    if value < EARLIEST_PLAUSIBLE:
        payload["time_note"] = f"原始时间 {value.isoformat()} 不可信（早于 2000 年），按采集时间记录"
        return None
    if (value - now).total_seconds() > 3600:
        payload["time_note"] = f"原始时间 {value.isoformat()} 在未来，按采集时间记录"
        return None
    return value
