"""Collectors: each channel a district listens to, turning a source into normalised posts.

Adding a channel means adding one module with a collector class and one line in REGISTRY.
"""
from __future__ import annotations

from importlib import import_module

from collectors.base import Collector, NormalisedPost, SourceNotConfigured

REGISTRY = {
    "demo": "collectors.demo:DemoCollector",
}


def make_collector(kind: str, config: dict, state: dict) -> Collector:
    """The collector for a source of this kind; raises SourceNotConfigured for an unknown kind."""
    target = REGISTRY.get(kind)
    if target is None:
        raise SourceNotConfigured(f"没有“{kind}”类型的采集器（可用：{', '.join(sorted(REGISTRY))}）")
    module, name = target.split(":")
    return getattr(import_module(module), name)(config, state)


__all__ = ["Collector", "NormalisedPost", "SourceNotConfigured", "REGISTRY", "make_collector"]
