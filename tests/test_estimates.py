"""Predicted rates: a new creative starts from its unit and category, and earns its own rate with evidence."""

from __future__ import annotations

import numpy as np
import pytest

from zhongcao.ads.estimates import Estimates, EstimateSpec
from zhongcao.content import CODE

BEAUTY, FOOD = CODE["beauty"], CODE["food"]


def world() -> Estimates:
    # creatives 0, 1 in unit 0 (beauty); creative 2 in unit 1 (beauty); creative 3 in unit 2 (food)
    return Estimates(np.array([0, 0, 1, 2]), np.array([BEAUTY, BEAUTY, FOOD]), EstimateSpec())


def test_with_no_evidence_every_creative_gets_the_prior() -> None:
    est = world()
    assert est.ctr(np.arange(4)).tolist() == pytest.approx([0.03] * 4)
    assert est.cvr(np.arange(4)).tolist() == pytest.approx([0.05] * 4)


def test_evidence_flows_down_the_hierarchy_and_a_creative_converges_to_its_own_rate() -> None:
    est = world()
    est.record(np.array([0]), np.array([10_000]), np.array([1_000]), np.array([100]))  # 10% CTR, 10% CVR
    ctr = est.ctr(np.arange(4))
    assert ctr[0] == pytest.approx(0.1, abs=0.002)  # its own rate, barely shrunk
    assert 0.09 < ctr[1] < 0.1                      # a sibling in the same unit starts near the unit's rate
    assert 0.03 < ctr[2] < ctr[1]                   # same category, another unit: partly
    assert ctr[3] == pytest.approx(0.03)            # another category: untouched
    assert est.cvr(np.array([0]))[0] == pytest.approx(0.1, abs=0.005)


def test_ten_impressions_do_not_make_a_star() -> None:
    est = world()
    est.record(np.array([3]), np.array([10]), np.array([5]), np.array([0]))  # 50% on ten impressions
    assert 0.03 < est.ctr(np.array([3]))[0] < 0.15  # up, on real evidence, but nowhere near 50%


def test_repeated_rows_in_one_record_all_count() -> None:
    est = world()
    est.record(np.array([2, 2, 2]), np.array([1, 1, 1]), np.array([1, 0, 1]), np.array([0, 0, 0]))
    assert (est.impressions[2], est.clicks[2]) == (3, 2)
