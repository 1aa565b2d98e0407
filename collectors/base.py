"""The one contract every collector meets: a source's configuration in, normalised posts out.

A collector yields NormalisedPost objects and knows nothing of the database; ingest stores them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, Protocol


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


class Collector(Protocol):
    kind: str

    def collect(self, since: datetime | None) -> Iterator[NormalisedPost]:
        ...
