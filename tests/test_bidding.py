"""Auto bidding steers realized cost per result to the target; a cost cap's multiplier never passes 1."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.ads.bidding import AutoBidder, BiddingSpec


def market(bid_per_result: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A round of auctions: a unit pays 80% of its bid per result, and wins results in proportion to it."""
    results = rng.poisson(np.maximum(bid_per_result, 0) / 10.0)
    return results * 0.8 * bid_per_result, results.astype(float)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_cost_control_settles_at_the_target_and_the_cap_stays_under_it(seed: int) -> None:
    rng = np.random.default_rng(seed)
    target = np.array([100.0, 100.0, 100.0])
    auto, cap = np.array([True, True, False]), np.array([False, True, False])
    bidder, multiplier = AutoBidder(3), np.ones(3)
    spend_total, results_total = np.zeros(3), np.zeros(3)
    for round_ in range(300):
        bid = target * multiplier
        spend, results = market(bid, rng)
        bidder.observe(np.arange(3), spend, results)
        multiplier = bidder.step(multiplier, target, auto, cap)
        if round_ >= 200:  # after it settles
            spend_total += spend
            results_total += results
    cost = spend_total / results_total
    assert cost[0] == pytest.approx(100, rel=0.05)   # cost control: at the target
    assert cost[1] <= 100                            # cost cap: never over
    assert multiplier[1] <= 1.0
    assert multiplier[2] == 1.0                      # manual units are left alone
    assert multiplier[0] == pytest.approx(1.25, rel=0.1)  # 100 / (0.8 × 100): what the target needs


def test_no_step_without_enough_evidence_and_none_beyond_the_bounds() -> None:
    bidder = AutoBidder(2, BiddingSpec(min_results=5))
    bidder.observe(np.array([0, 1]), np.array([300.0, 10_000.0]), np.array([2.0, 0.0]))
    m = bidder.step(np.ones(2), np.array([100.0, 100.0]), np.array([True, True]), np.array([False, False]))
    assert m[0] == 1.0      # two results and 300 fen spent: too little to judge
    assert m[1] < 1.0       # 10,000 fen for nothing: bid down
    for _ in range(50):
        bidder.observe(np.array([1]), np.array([10_000.0]), np.array([0.0]))
        m = bidder.step(m, np.array([100.0, 100.0]), np.array([True, True]), np.array([False, False]))
    assert m[1] == 0.1      # the floor
