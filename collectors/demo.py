"""A stand-in channel for the demo: a few new generated posts on each run, so the demo stays live."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

from collectors.base import BaseCollector, NormalisedPost


class DemoCollector(BaseCollector):
    kind = "demo"
    # The demo stands in for the district's Weibo account, so a reply "goes back" through it as it
    # would through the real API: nothing leaves the machine, and no link is asked for.
    can_publish = True
    max_reply_chars = 140

    def __init__(self, config: dict, state: dict):
        super().__init__(config, state)
        self.per_run = int(self.config.get("per_run", 3))

    def collect(self, since: datetime | None) -> Iterator[NormalisedPost]:
        from opinion.demo.posts import generate
        run = int(self.state.get("runs", 0)) + 1
        now = datetime.now(timezone.utc)
        for p in generate(self.per_run, now - timedelta(minutes=5), now, seed=1000 + run):
            yield NormalisedPost(external_id=f"live-{run}-{p.external_id}", text=p.text,
                                 created_at=p.created_at, author=p.author,
                                 author_followers=p.followers, reposts=p.reposts,
                                 comments=p.comments, likes=p.likes, payload={"generator": "demo"})
        self.state["runs"] = run

    def publish_reply(self, post_external_id: str, text: str) -> str | None:
        return None  # generated posts have no address to link to
