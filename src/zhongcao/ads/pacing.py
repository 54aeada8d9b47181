"""Pacing: how much of its eligible traffic each campaign may take now, so an even budget lasts the day.

Mechanism apart from the auction (STYLE §5): the pacer knows budgets, spend and the clock, never slots.
It gives each campaign a pass-through rate in [0, 1]; delivery enters the campaign into an auction with
that probability.

Even pacing is adaptive throttling. Time runs in steps. At each step the pacer estimates what the campaign
would spend per step unthrottled (spend observed ÷ the rate it ran at, smoothed), and sets the rate so
that the step's expected spend is the remaining budget's fair share: the step's scheduled seconds over
the scheduled seconds left today, per the campaign's 7 × 24 dayparts. Traffic that peaks in the evening
is thus throttled harder then, and spend stays near a straight line across the scheduled hours.
Accelerated campaigns run at rate 1 until the budget is gone. Outside its schedule a campaign's rate is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DAY = 86_400


@dataclass(frozen=True)
class PacingSpec:
    step_seconds: int = 60
    smoothing: float = 0.3     # weight of the newest step in the unthrottled-spend estimate
    min_rate: float = 0.001    # a throttled campaign still samples traffic, so its estimate stays fresh

    def __post_init__(self) -> None:
        if not 1 <= self.step_seconds <= 3_600 or DAY % self.step_seconds:
            raise ValueError(f"PacingSpec.step_seconds = {self.step_seconds}: must divide a day, 1..3600")
        if not 0 < self.smoothing <= 1 or not 0 < self.min_rate <= 1:
            raise ValueError("PacingSpec.smoothing and min_rate must be in (0, 1]")


def schedule_mask(dayparts: list[str] | tuple[str, ...]) -> np.ndarray:
    """(7, 24) booleans from the campaign's dayparts, Monday first."""
    return np.array([[c == "1" for c in day] for day in dayparts], dtype=bool)


class Pacer:
    """Pass-through rates for campaigns indexed 0..n-1, all in one struct of arrays."""

    def __init__(self, budget_fen: np.ndarray, even: np.ndarray, schedule: np.ndarray, spec: PacingSpec, *,
                 utc_offset_hours: int) -> None:
        """``budget_fen`` is each campaign's daily budget (inf when unlimited), ``even`` whether it paces
        evenly, ``schedule`` its (n, 7, 24) dayparts, in the budget day of ``utc_offset_hours`` (the
        platform's setting, as the budgets' caps count: a pacer on another clock would start its day's spend
        again hours before or after the budget does)."""
        self.spec = spec
        self.utc_offset_hours = utc_offset_hours
        self.budget = np.asarray(budget_fen, dtype=np.float64)
        self.even = np.asarray(even, dtype=bool)
        self.schedule = np.asarray(schedule, dtype=bool)
        n = len(self.budget)
        self.spent = np.zeros(n)            # today's spend, fen
        self.step_spent = np.zeros(n)       # this step's spend
        self.offered = np.full(n, np.nan)   # smoothed unthrottled spend per step; unknown at first
        self.rate = np.ones(n)
        self._step: int | None = None
        self._day: int | None = None

    def _local(self, now: float) -> float:
        return now + self.utc_offset_hours * 3_600

    def _scheduled_seconds(self, day_start: float, start: float, end: float) -> np.ndarray:
        """Scheduled seconds of each campaign in [start, end) of one local day beginning at ``day_start``."""
        weekday = int((day_start // DAY + 3) % 7)  # 1970-01-01 was a Thursday
        hours = self.schedule[:, weekday, :].astype(np.float64)  # (n, 24)
        edges = day_start + np.arange(25) * 3_600.0
        overlap = np.clip(np.minimum(edges[1:], end) - np.maximum(edges[:-1], start), 0, None)  # (24,)
        return hours @ overlap

    def record(self, campaign: np.ndarray, spend_fen: np.ndarray) -> None:
        """Spend charged to campaigns (repeats allowed): it counts against today and this step."""
        np.add.at(self.spent, campaign, spend_fen)
        np.add.at(self.step_spent, campaign, spend_fen)

    def rates(self, now: float) -> np.ndarray:
        """Each campaign's pass-through rate at ``now`` (unix seconds); call as time advances."""
        local = self._local(now)
        day, step = int(local // DAY), int(local // self.spec.step_seconds)
        if day != self._day:  # a new budget day: spend starts again
            self._day, self.spent[:] = day, 0.0
        if step != self._step:
            self._advance(step, day)
        scheduled_now = self.schedule[:, int((day + 3) % 7), int(local % DAY // 3_600)]
        return np.where(scheduled_now & (self.spent < self.budget), self.rate, 0.0)

    def _advance(self, step: int, day: int) -> None:
        s = self.spec
        if self._step is not None:  # learn what the last step would have spent unthrottled
            observed = self.step_spent / np.maximum(self.rate, s.min_rate)
            self.offered = np.where(np.isnan(self.offered), observed,
                                    s.smoothing * observed + (1 - s.smoothing) * self.offered)
        self._step, self.step_spent[:] = step, 0.0
        start = step * s.step_seconds
        day_start, day_end = day * DAY, (day + 1) * DAY
        share = self._scheduled_seconds(day_start, start, start + s.step_seconds) / np.maximum(
            self._scheduled_seconds(day_start, start, day_end), 1e-9)
        # an unlimited budget is never throttled (below); its inf times an hour off the schedule is no number
        allowed = np.where(np.isfinite(self.budget), np.maximum(self.budget - self.spent, 0), 0.0) * share
        with np.errstate(divide="ignore", invalid="ignore"):
            wanted = np.where(np.isnan(self.offered) | (self.offered <= 0), 1.0, allowed / self.offered)
        self.rate = np.where(self.even & np.isfinite(self.budget), np.clip(wanted, s.min_rate, 1.0), 1.0)
