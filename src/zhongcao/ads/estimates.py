"""Predicted click and conversion rates, learned online from ad events with hierarchical smoothing.

A creative's rate is shrunk toward its unit's, the unit's toward its note category's, and the category's
toward the platform-wide prior. A new creative therefore starts at what its unit and category have
shown, and earns its own rate as its impressions grow: no creative is judged on ten impressions.
Rates are fractions in [0, 1]; every count is kept as arrays indexed by creative, unit and category.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.content import N_CATEGORIES


@dataclass(frozen=True)
class EstimateSpec:
    prior_ctr: float = 0.03   # ad click-through before any evidence [U]
    prior_cvr: float = 0.05   # conversions per click before any evidence [U]
    category_strength: float = 1_000.0  # pseudo-impressions (clicks, for CVR) each level borrows from above
    unit_strength: float = 200.0
    creative_strength: float = 100.0

    def __post_init__(self) -> None:
        if not (0 < self.prior_ctr < 1 and 0 < self.prior_cvr < 1):
            raise ValueError("EstimateSpec priors are rates in (0, 1)")
        if min(self.category_strength, self.unit_strength, self.creative_strength) <= 0:
            raise ValueError("EstimateSpec strengths are positive pseudo-counts")


class Estimates:
    def __init__(self, creative_unit: np.ndarray, unit_category: np.ndarray, spec: EstimateSpec) -> None:
        """``creative_unit[c]`` is creative c's unit index; ``unit_category[u]`` the category of unit u's notes."""
        self.spec = spec
        self.creative_unit = np.asarray(creative_unit, dtype=np.int64)
        self.unit_category = np.asarray(unit_category, dtype=np.int64)
        c, u = len(self.creative_unit), len(self.unit_category)
        self.impressions, self.clicks, self.conversions = np.zeros(c), np.zeros(c), np.zeros(c)
        self._unit = np.zeros((3, u))                 # impressions, clicks, conversions
        self._category = np.zeros((3, N_CATEGORIES))

    def record(self, creative: np.ndarray, impressions: np.ndarray, clicks: np.ndarray,
               conversions: np.ndarray) -> None:
        """Counts observed for creatives (repeats allowed)."""
        unit = self.creative_unit[creative]
        category = self.unit_category[unit]
        for k, (counts, values) in enumerate(((self.impressions, impressions), (self.clicks, clicks),
                                              (self.conversions, conversions))):
            np.add.at(counts, creative, values)
            np.add.at(self._unit[k], unit, values)
            np.add.at(self._category[k], category, values)

    @staticmethod
    def _shrink(successes: np.ndarray, trials: np.ndarray, prior: np.ndarray | float, strength: float) -> np.ndarray:
        return (successes + strength * prior) / (trials + strength)

    def _rate(self, creative: np.ndarray, successes: int, trials: int, prior: float) -> np.ndarray:
        """Shrink creative → unit → category → prior; ``successes`` and ``trials`` index the count rows
        (0 impressions, 1 clicks, 2 conversions)."""
        s = self.spec
        unit = self.creative_unit[creative]
        category = self.unit_category[unit]
        mine = (self.impressions, self.clicks, self.conversions)
        cat = self._shrink(self._category[successes, category], self._category[trials, category], prior,
                           s.category_strength)
        unit_rate = self._shrink(self._unit[successes, unit], self._unit[trials, unit], cat, s.unit_strength)
        return self._shrink(mine[successes][creative], mine[trials][creative], unit_rate, s.creative_strength)

    def ctr(self, creative: np.ndarray) -> np.ndarray:
        return self._rate(creative, 1, 0, self.spec.prior_ctr)

    def cvr(self, creative: np.ndarray) -> np.ndarray:
        """Conversions per click."""
        return self._rate(creative, 2, 1, self.spec.prior_cvr)
