"""Topic quality on a real hashtag-labelled Weibo day (skips where the shared data is absent)."""
from __future__ import annotations

import pytest

from opinion.topics.evaluate import evaluate_topics, format_report


def test_eval_on_real_day(shared_data, prepare):
    folder = shared_data / "weibo-topics"
    days = sorted(folder.glob("*.jsonl"), key=lambda f: f.stat().st_size) if folder.is_dir() else []
    if not days:
        pytest.skip(f"no weibo-topics day files under {folder} (set OPINION_SHARED_DATA)")
    r = evaluate_topics(str(days[0]), seed=0, progress=False, prepare=prepare)
    day = r["days"][0]
    # Beats the k-means reference told the true k (ARI 0.07, NMI 0.20) without being told k ...
    assert day["ari"] > 0.07 and day["nmi"] > 0.20, format_report(r)
    # ... without fragmenting: at least half the posts in topics of >= 10 posts.
    assert day["coverage"] >= 0.5, format_report(r)
    assert day["n_labels"] < day["n_topics"] < day["n_posts"]
    assert "mean" in format_report(r)
