"""The simulated creators: followers on a power law, the field's tiers, a home category, how good and how
often they post, and a share of frauds whose followers and engagement are bought.

Ground truth keeps the fraud label and the real audience apart from what the platform sees, so
authenticity scores can be judged later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.content import N_CATEGORIES

TIERS = (("nano", 1_000), ("micro", 10_000), ("macro", 100_000), ("mega", 1_000_000))  # floor of each tier [U]
FRAUD_SHARE = 0.05  # [U] creators with bought followers and engagement


@dataclass(frozen=True)
class Creators:
    followers: np.ndarray     # int64, what the platform shows (bought ones included)
    real_followers: np.ndarray  # int64, ground truth
    tier: np.ndarray          # int8 index into TIERS
    category: np.ndarray      # int16, the home category
    quality: np.ndarray       # float32 in (0, 1): how engaging their notes are
    notes_per_week: np.ndarray  # float32
    fraud: np.ndarray         # bool, ground truth

    @property
    def n(self) -> int:
        return len(self.followers)


def tier_of(followers: np.ndarray) -> np.ndarray:
    floors = np.array([f for _, f in TIERS])
    return np.clip(np.searchsorted(floors, followers, side="right") - 1, 0, len(TIERS) - 1).astype(np.int8)


def generate(n: int, rng: np.random.Generator) -> Creators:
    # Pareto with α ≈ 1.1 from 1,000 fans: most are nano and micro, a few are mega (the field's shape).
    real = np.minimum((1_000 * (1 + rng.pareto(1.1, n))).astype(np.int64), 20_000_000)
    fraud = rng.random(n) < FRAUD_SHARE
    # frauds show 1.25 to 10 times their real fans (log-uniform): a few cautious buyers, a few brazen ones
    bought = np.where(fraud, np.exp(rng.uniform(np.log(1.25), np.log(10.0), n)), 1.0)
    followers = (real * bought).astype(np.int64)
    quality = rng.beta(2.0, 5.0, n).astype(np.float32)
    quality[fraud] *= 0.5  # content bought reach does not make good
    return Creators(followers, real, tier_of(followers), rng.integers(0, N_CATEGORIES, n).astype(np.int16), quality,
                    rng.gamma(2.0, 1.0, n).astype(np.float32), fraud)
