"""The simulated consumers: who they are and how they tend to behave, as numpy arrays indexed by consumer.

The defaults land on FIELD_FACTS §6: over 70% of users under 30, half in first- and second-tier cities,
about 60% of daily users searching. Interests are a Dirichlet draw over the note taxonomy, tilted by
gender where the field's audiences are (beauty and skincare lean female, auto and digital male), so
targeting and interest matching have something real to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.content import CODE, N_CATEGORIES

# (city, tier): every tier-1 city and a spread of tier 2–4; stores and consumers draw from the same list.
CITIES: list[tuple[str, int]] = [
    ("上海", 1), ("北京", 1), ("广州", 1), ("深圳", 1),
    ("杭州", 2), ("成都", 2), ("武汉", 2), ("南京", 2), ("西安", 2), ("重庆", 2), ("苏州", 2), ("长沙", 2),
    ("郑州", 2), ("天津", 2), ("青岛", 2), ("厦门", 2),
    ("洛阳", 3), ("绵阳", 3), ("赣州", 3), ("桂林", 3), ("潍坊", 3), ("芜湖", 3), ("扬州", 3), ("泉州", 3),
    ("曲靖", 4), ("六安", 4), ("邵阳", 4), ("南充", 4),
]
TIER_SHARE = {1: 0.22, 2: 0.28, 3: 0.30, 4: 0.20}  # tier-1 and -2 together half the users [C]
# Ages in years by bucket: (low, high inclusive, share). Under 30 is 71% [C: "over 70%"].
AGES = [(15, 17, 0.06), (18, 22, 0.24), (23, 27, 0.27), (28, 29, 0.14), (30, 34, 0.14), (35, 44, 0.10),
        (45, 60, 0.05)]
FEMALE_SHARE = 0.7  # [U] the platform's audience is largely female
GENDER_TILT = {"beauty": 3.0, "skincare": 3.0, "fashion": 2.0, "mother_baby": 2.5, "crafts": 1.5,
               "auto": -2.5, "digital": -1.5, "games": -1.5, "fitness": -0.5, "outdoor": -0.5}
SEARCH_SHARE = 0.60  # daily users who search at least once a day [C]


@dataclass(frozen=True)
class Consumers:
    """Consumer ``i`` has id ``first_id + i`` in every event."""

    first_id: int
    female: np.ndarray        # bool
    age: np.ndarray           # int16, years
    city: np.ndarray          # int16 index into CITIES
    tier: np.ndarray          # int8
    ios: np.ndarray           # bool
    interests: np.ndarray     # float32 (n, N_CATEGORIES), rows sum to 1
    activity: np.ndarray      # float32, expected sessions a day
    search_rate: np.ndarray   # float32, expected searches a day
    price_sensitivity: np.ndarray  # float32 in (0, 1)
    creator_trust: np.ndarray      # float32: trust in creators' notes, relative to ads (1 = equal)

    @property
    def n(self) -> int:
        return len(self.age)

    @property
    def ids(self) -> np.ndarray:
        return np.arange(self.first_id, self.first_id + self.n, dtype=np.uint64)

    def city_names(self, idx: np.ndarray) -> list[str]:
        return [CITIES[int(c)][0] for c in self.city[idx]]


def city_weights() -> np.ndarray:
    """The chance of each city in CITIES: its tier's share, split evenly among the tier's cities."""
    tiers = np.array([t for _, t in CITIES])
    weight = np.array([TIER_SHARE[t] / np.sum(tiers == t) for t in tiers])
    return weight / weight.sum()


def generate(n: int, rng: np.random.Generator, *, first_id: int = 1) -> Consumers:
    female = rng.random(n) < FEMALE_SHARE
    bucket = rng.choice(len(AGES), size=n, p=[a[2] for a in AGES])
    low = np.array([a[0] for a in AGES])[bucket]
    high = np.array([a[1] for a in AGES])[bucket]
    age = (low + np.floor(rng.random(n) * (high - low + 1))).astype(np.int16)
    tiers = np.array([t for _, t in CITIES])
    city = rng.choice(len(CITIES), size=n, p=city_weights()).astype(np.int16)
    ios = rng.random(n) < np.where(tiers[city] <= 2, 0.55, 0.35)  # [U] iPhone share falls with city tier
    tilt = np.zeros(N_CATEGORIES)
    for name, t in GENDER_TILT.items():
        tilt[CODE[name]] = t
    alpha = np.where(female[:, None], np.exp(0.4 * tilt)[None, :], np.exp(-0.4 * tilt)[None, :]) * 0.25
    interests = rng.gamma(alpha).astype(np.float32)  # a Dirichlet row by row, vectorized
    interests /= np.maximum(interests.sum(axis=1, keepdims=True), 1e-12)
    activity = rng.lognormal(np.log(2.0), 0.6, n).astype(np.float32)  # sessions a day [U]
    # Searches a day: Poisson with a per-consumer rate, set so that SEARCH_SHARE search at least once.
    propensity = rng.gamma(2.0, 0.5, n)
    search_rate = (propensity * _solve_scale(propensity, SEARCH_SHARE)).astype(np.float32)
    price = rng.beta(2.0, 2.0 + (tiers[city] <= 2), n).astype(np.float32)  # tier-1/2 less price sensitive
    trust = rng.lognormal(0.3, 0.4, n).astype(np.float32)  # creators trusted above ads, on average [U]
    return Consumers(first_id, female, age, city, tiers[city].astype(np.int8), ios, interests, activity,
                     search_rate, price, trust)


def _solve_scale(rate: np.ndarray, share: float) -> float:
    """The factor k for which a share ``share`` of Poisson(k × rate) draws is at least one (bisection)."""
    lo, hi = 0.0, 100.0
    for _ in range(50):
        mid = (lo + hi) / 2
        if np.mean(1 - np.exp(-mid * rate)) < share:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2
