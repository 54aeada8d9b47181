"""Auto bidding: steer each auto unit's bid multiplier so its realized cost per result meets its target.

- Cost control (自动控成本): the multiplier rises while results come in cheaper than the target and falls
  while they cost more, multiplicatively, so the realized cost settles at the target.
- Cost cap: the same steering, but the multiplier never passes 1. The bid per result never exceeds the
  cap, and since a second price never exceeds the bid, a click-goal unit never pays more than its cap
  per result; a conversion-goal unit's realized cost is steered under the cap as conversions report.

A unit is steered only once it has spent enough to judge (``min_results`` results' worth of its target):
a few lucky or unlucky clicks do not swing its bid.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BiddingSpec:
    gain: float = 0.5         # how hard one step corrects: the log-multiplier moves by gain × relative error
    min_results: float = 5.0  # evidence needed before a step, in results (or their target worth of spend)
    floor: float = 0.1
    ceiling: float = 10.0

    def __post_init__(self) -> None:
        if not (0 < self.gain <= 2 and self.min_results > 0 and 0 < self.floor <= 1 <= self.ceiling):
            raise ValueError(f"BiddingSpec out of range: {self}")


class AutoBidder:
    def __init__(self, units: int, spec: BiddingSpec | None = None) -> None:
        self.spec = spec or BiddingSpec()
        self.spend = np.zeros(units)
        self.results = np.zeros(units)

    def observe(self, unit: np.ndarray, spend_fen: np.ndarray, results: np.ndarray) -> None:
        np.add.at(self.spend, unit, spend_fen)
        np.add.at(self.results, unit, results)

    def step(self, multiplier: np.ndarray, target_fen: np.ndarray, auto: np.ndarray, cap: np.ndarray) -> np.ndarray:
        """The next multipliers; the evidence a step used is spent."""
        s = self.spec
        target = np.maximum(target_fen.astype(np.float64), 1.0)
        ready = auto & ((self.results >= s.min_results) | (self.spend >= s.min_results * target))
        cost = self.spend / np.maximum(self.results, 0.5)  # no result yet: as if half of one
        error = np.clip((target - cost) / target, -1.0, 1.0)
        out = np.where(ready, multiplier * np.exp(s.gain * error), multiplier)
        out = np.clip(out, s.floor, np.where(cap, 1.0, s.ceiling))
        self.spend[ready] = 0.0
        self.results[ready] = 0.0
        return out
