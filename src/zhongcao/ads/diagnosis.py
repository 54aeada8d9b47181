"""Delivery status: the answer to "why isn't my campaign spending?", with reasons in 中文 and English.

Each reason is computed from the same state delivery uses, never guessed: the plan's status and
schedule from State, money from the wallet and the campaign's budget-day usage, the audience from a
sample of recent requests this process served, and the competition from recent winners' eCPM.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np

from zhongcao.ads.delivery import Delivery
from zhongcao.ads.targeting import Audience

MIN_AUDIENCE_SHARE = 0.01  # a unit reaching under 1% of recent requests is flagged as narrow [U]
LOSING_QUANTILE = 0.1      # an eCPM under the 10th percentile of recent winners is flagged as losing [U]

REASONS: dict[str, tuple[str, str]] = {
    "campaign_paused": ("计划已暂停", "the campaign is paused"),
    "campaign_deleted": ("计划已删除", "the campaign is deleted"),
    "unit_paused": ("单元已暂停", "the unit is paused"),
    "paused_up_the_chain": ("上级计划已暂停", "paused up the chain: its campaign is paused"),
    "authorization_ended": ("代投授权已失效", "the KOB authorization for these notes (代投) has ended"),
    "no_creative": ("没有可投放的创意", "no active creative on a published note"),
    "not_started": ("投放尚未开始", "the campaign's start date has not come"),
    "ended": ("投放已结束", "the campaign's end date has passed"),
    "outside_schedule": ("当前不在投放时段", "outside the campaign's dayparts now"),
    "insufficient_balance": ("账户余额不足", "insufficient balance: the wallet cannot pay one click"),
    "budget_exhausted": ("今日预算已用完", "today's budget is exhausted"),
    "targeting_too_narrow": ("定向过窄", "targeting too narrow for recent traffic"),
    "bid_below_winning": ("出价低于竞胜水平", "bid below what is winning"),
}


def reason(code: str, **facts: Any) -> dict[str, Any]:
    zh, en = REASONS[code]
    return {"code": code, "zh": zh, "en": en, **facts}


class Traffic:
    """What this process saw lately: the audiences of recent requests, and the eCPM of recent winners."""

    def __init__(self, size: int = 5_000) -> None:
        self.size = size
        self.audiences: list[Audience] = []
        self.winning = np.empty(0)
        self._rows = 0

    def seen(self, audience: Audience, winning_ecpm: np.ndarray) -> None:
        self.audiences.append(audience)
        self._rows += len(audience.gender)
        while len(self.audiences) > 1 and self._rows - len(self.audiences[0].gender) >= self.size:
            self._rows -= len(self.audiences.pop(0).gender)
        self.winning = np.concatenate([self.winning, winning_ecpm])[-self.size:]

    def sample(self) -> Audience | None:
        if not self.audiences:
            return None
        return Audience(*(np.concatenate([getattr(a, f) for a in self.audiences])
                          for f in ("gender", "age", "device", "city", "interests")))


def diagnose_units(d: Delivery, traffic: Traffic, units: np.ndarray, per_click: np.ndarray,
                   value: np.ndarray, reserve: float) -> dict[int, list[dict[str, Any]]]:
    """Audience and competition reasons for book units; keyed by book index."""
    out: dict[int, list[dict[str, Any]]] = {int(u): [] for u in units}
    sample = traffic.sample()
    if sample is not None and len(units):
        share = d.book.targeting.eligible_among(sample, units).mean(axis=0)
        for u, s in zip(units.tolist(), share.tolist(), strict=True):
            if s < MIN_AUDIENCE_SHARE:
                out[u].append(reason("targeting_too_narrow", audience_share=round(s, 4),
                                     sampled_requests=len(sample.gender)))
    bar = max(float(np.quantile(traffic.winning, LOSING_QUANTILE)) if len(traffic.winning) else 0.0, reserve)
    for u in units.tolist():
        ecpm = float(per_click[u] * value[u])
        if ecpm < bar:
            suggested = int(np.ceil(bar / max(value[u], 1e-9)))
            out[u].append(reason("bid_below_winning", ecpm_fen=round(ecpm, 1), winning_ecpm_fen=round(bar, 1),
                                 suggested_bid_per_click_fen=suggested))
    return out


def schedule_reasons(now: float, start: float, end: float, schedule: np.ndarray, utc_offset_hours: int,
                     ) -> list[dict[str, Any]]:
    if now < start:
        return [reason("not_started", starts_at=datetime.fromtimestamp(start, timezone(
            timedelta(hours=utc_offset_hours))).isoformat())]
    if now >= end:
        return [reason("ended")]
    local = now + utc_offset_hours * 3_600
    if not schedule[int((local // 86_400 + 3) % 7), int(local % 86_400 // 3_600)]:
        return [reason("outside_schedule")]
    return []
