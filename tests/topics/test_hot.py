from __future__ import annotations

from opinion.topics.hot import burst, district_baseline, hot_score


def test_hot_score_monotonic_in_volume_and_negativity():
    vols = [hot_score(v, prev_volume=10) for v in (1, 5, 20, 100, 1000)]
    assert vols == sorted(vols) and vols[0] < vols[-1]
    negs = [hot_score(50, prev_volume=10, negative_share=s) for s in (0, 0.3, 0.7, 1.0)]
    assert negs == sorted(negs) and negs[0] < negs[-1]
    assert all(0 <= x <= 100 for x in vols + negs)


def test_hot_score_rewards_growth_influence_and_spread():
    base = hot_score(50, prev_volume=50)
    assert hot_score(50, prev_volume=5) > base                      # growing
    assert hot_score(50, prev_volume=50, followers=[2_000_000]) > base
    assert hot_score(50, prev_volume=50, reposts=300, comments=100) > base


def test_burst_on_synthetic_series():
    quiet = [3, 4, 2, 5, 3, 4, 3, 2, 4, 3]
    assert not burst(quiet + [4]).is_burst
    r = burst(quiet + [25])
    assert r.is_burst and r.p_value < 1e-6 and r.z > 5
    assert not burst([0, 0, 0, 2]).is_burst        # tiny counts never burst


def test_burst_against_district_baseline():
    # The whole district doubles in the evening; a topic that merely doubles with it is no burst.
    district = [100] * 10 + [200]
    assert not burst([10] * 10 + [22], baseline=district_baseline([10] * 11, district)).is_burst
    assert burst([10] * 10 + [60], baseline=district_baseline([10] * 11, district)).is_burst
