"""Hot score and burst detection for topics, as pure functions over counts.

Kept free of the database so the scheduler, the `analyze` command and the tests compute the same
numbers from the same per-hour counts.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy.stats import poisson


def hot_score(volume: float, prev_volume: float = 0.0, negative_share: float = 0.0,
              followers: Sequence[float] = (), reposts: float = 0.0, comments: float = 0.0) -> float:
    """How much a topic needs a monitor's attention now, on a 0-100 scale.

    volume          posts in the current window (duplicates included: a repost wave is reach)
    prev_volume     posts in the previous window of the same length
    negative_share  share of the window's posts that are negative, 0..1
    followers       follower counts of the window's authors (influence)
    reposts, comments  spread of the window's posts

        raw = log1p(volume)                         volume, with diminishing returns
            * (1 + 0.5 * growth)                    growth = clip(log2((v+1)/(prev+1)), -1, 3)
            * (1 + negative_share)                  up to x2 when everyone is negative
            * (1 + 0.1 * log10(1 + max followers))  one big account matters more than many small
            * (1 + 0.1 * log1p(reposts + 2*comments))  a comment is worth two reposts: engagement
        score = 100 * (1 - exp(-raw / 10))

    Every factor is >= 1 except growth, which may halve a fading topic; the final squashing keeps
    scores comparable across days without capping the ordering. Monotone non-decreasing in
    volume, negative share, followers, reposts and comments.
    """
    volume = max(0.0, float(volume))
    prev_volume = max(0.0, float(prev_volume))
    growth = min(3.0, max(-1.0, math.log2((volume + 1.0) / (prev_volume + 1.0))))
    neg = min(1.0, max(0.0, negative_share))
    top_followers = max((max(0.0, f) for f in followers), default=0.0)
    raw = (math.log1p(volume)
           * (1.0 + 0.5 * growth)
           * (1.0 + neg)
           * (1.0 + 0.1 * math.log10(1.0 + top_followers))
           * (1.0 + 0.1 * math.log1p(max(0.0, reposts) + 2.0 * max(0.0, comments))))
    return 100.0 * (1.0 - math.exp(-max(0.0, raw) / 10.0))


@dataclass
class BurstResult:
    is_burst: bool
    current: int           # the last hour's count
    expected: float        # the baseline rate per hour
    z: float               # (current - expected) / sqrt(expected)
    p_value: float         # Poisson P(X >= current | expected)


def burst(hourly_counts: Sequence[int], baseline: Sequence[int] | None = None,
          alpha: float = 0.001, min_count: int = 5) -> BurstResult:
    """Is the last hour of `hourly_counts` a burst?

    The expected rate is the mean of `baseline` when given (e.g. the district's per-hour counts
    scaled to this topic, or the same hours on previous days), otherwise of the topic's own earlier
    hours. A burst needs a Poisson tail probability below `alpha` *and* at least `min_count` posts:
    per-hour counts are small integers, where a z-score alone fires on 0 -> 2. The baseline rate is
    floored at 0.5/hour so a topic with a silent history does not burst on its first few posts.
    """
    counts = [max(0, int(c)) for c in hourly_counts]
    if not counts:
        return BurstResult(False, 0, 0.0, 0.0, 1.0)
    current = counts[-1]
    base = list(baseline) if baseline is not None else counts[:-1]
    expected = max(0.5, sum(base) / len(base)) if base else 0.5
    z = (current - expected) / math.sqrt(expected)
    p = float(poisson.sf(current - 1, expected)) if current > 0 else 1.0
    return BurstResult(p < alpha and current >= min_count, current, expected, z, p)


def district_baseline(topic_counts: Sequence[int], district_counts: Sequence[int]) -> list[float]:
    """This topic's expected count for the last hour if it kept its usual share of the district.

    Pass as `baseline`: the topic then bursts only when it outgrows the district's own rhythm
    (evenings are busier everywhere), not when the whole district gets busier.
    """
    hist_t, hist_d = sum(topic_counts[:-1]), sum(district_counts[:-1])
    share = hist_t / hist_d if hist_d > 0 else 0.0
    return [share * district_counts[-1]] if district_counts else [0.0]
