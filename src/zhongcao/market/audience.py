"""Audience composition: who follows a creator, estimated from a sample of followers, each counted by its
chance of being a real person (the fake-account model's complement), so bought followers neither count
as an audience nor skew its shape."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

AGE_BUCKETS: tuple[tuple[int, str], ...] = ((0, "<18"), (18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45+"))
GENDERS = ("female", "male", "unknown")
CITY_TIERS = ("1", "2", "3", "4")
CONSUMPTION = ("low", "mid", "high")
DEVICES = ("ios", "android")
DIMENSIONS: dict[str, tuple[str, ...]] = {
    "gender": GENDERS, "age": tuple(label for _, label in AGE_BUCKETS), "city_tier": CITY_TIERS,
    "consumption": CONSUMPTION, "device": DEVICES,
}


def composition(codes: Mapping[str, np.ndarray], real: np.ndarray) -> dict[str, dict[str, float]]:
    """Shares per dimension and value, weighted by ``real`` (each follower's chance of being a person).
    City tiers are coded 1..4, the rest as indexes into their value lists."""
    total = float(real.sum())
    out: dict[str, dict[str, float]] = {}
    for name, values in DIMENSIONS.items():
        idx = np.asarray(codes[name], dtype=np.int64) - (1 if name == "city_tier" else 0)
        weights = np.bincount(idx, weights=real, minlength=len(values))[: len(values)]
        out[name] = {v: round(float(w / total), 4) if total else 0.0 for v, w in zip(values, weights, strict=True)}
    return out
