"""Collectors: each channel a district listens to, turning a source into normalised posts.

Adding a channel means adding one module with a collector class and one line in REGISTRY.
"""
from __future__ import annotations

from importlib import import_module

from collectors.base import (
    BaseCollector,
    Collector,
    CollectorError,
    NormalisedPost,
    NotSupported,
    RateLimited,
    SourceNotConfigured,
)
from opinion.labels import SOURCE_KIND_NAMES

REGISTRY = {
    "demo": "collectors.demo:DemoCollector",
    "rss": "collectors.rss:RSSCollector",
    "weibo_api": "collectors.weibo:WeiboCollector",
}
# Channels that push to us (the webhook endpoint, manual entry, file import): nothing to fetch, so
# they have no collector and the scheduler never runs them.
PUSH_KINDS = ("webhook", "manual", "file")


def make_collector(kind: str, config: dict, state: dict) -> Collector:
    """The collector for a source of this kind; raises SourceNotConfigured for an unknown kind."""
    target = REGISTRY.get(kind)
    if kind in PUSH_KINDS:
        raise SourceNotConfigured(f"“{SOURCE_KIND_NAMES[kind]}”类型的数据源由对方推送或人工录入，无需采集")
    if target is None:
        raise SourceNotConfigured(f"没有“{kind}”类型的采集器（可用：{', '.join(sorted(REGISTRY))}）")
    module, name = target.split(":")
    return getattr(import_module(module), name)(config, state)


__all__ = ["BaseCollector", "Collector", "CollectorError", "NormalisedPost", "NotSupported", "RateLimited",
           "SourceNotConfigured", "REGISTRY", "PUSH_KINDS", "make_collector"]
