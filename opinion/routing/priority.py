"""Priority: how fast a case must be answered (urgent / high / normal), with the reason why.

Safety and incident vocabulary, anger and fear, and a widely followed author raise it; the words
and the follower threshold are the district's configuration.
"""
from __future__ import annotations

from dataclasses import dataclass

from opinion.settings.district import District

RANK = {"normal": 0, "high": 1, "urgent": 2}


@dataclass
class PriorityDecision:
    priority: str
    reason: str


def decide_priority(district: District, text: str, emotion: str | None, polarity: str | None,
                    author_followers: int | None) -> PriorityDecision:
    urgent = [w for w in district.urgent_words if w in text]
    if urgent:
        return PriorityDecision("urgent", f"含紧急词：{'、'.join(urgent[:3])}")
    high = [w for w in district.high_words if w in text]
    if high:
        return PriorityDecision("high", f"含重要词：{'、'.join(high[:3])}")
    influential = (author_followers or 0) >= district.influential_followers
    if influential and polarity == "negative":
        return PriorityDecision("high", f"高影响力作者（粉丝 {author_followers:,}）发布负面内容")
    if emotion in ("anger", "fear") and polarity == "negative":
        return PriorityDecision("normal", f"情绪为{'愤怒' if emotion == 'anger' else '恐惧'}，按一般处理")
    return PriorityDecision("normal", "未触发加急条件")


def higher(a: str, b: str) -> str:
    return a if RANK[a] >= RANK[b] else b
