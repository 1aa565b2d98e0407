"""What the web reads about sources: which webhook source a pushed token belongs to.

The push endpoint asks it to know who is calling, and the read API asks it to tell a caller who
used a source's token by mistake that it is the wrong kind of token.
"""
from __future__ import annotations

import hmac

from sqlalchemy import select

from opinion.models import Source


def webhook_source(session, token: str) -> Source | None:
    """The webhook source whose token this is (compared in constant time), or None."""
    for source in session.execute(select(Source).where(Source.kind == "webhook")).scalars():
        expected = (source.config or {}).get("token") or ""
        if expected and hmac.compare_digest(expected.encode(), token.encode()):
            return source
    return None
