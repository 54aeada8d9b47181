"""The creator-level authenticity score, 0 to 100, with its reasons in plain words.

Five signals, each turned into penalty points, so that a score is explained by what cost it points:
- the fake share of the audience (the fake-account model over a follower sample): HypeAuditor and Modash
  treat under 75% real followers as a sign of fraud (FIELD_FACTS §4), so penalties start at 10% fake
  and are full at 50%;
- engagement against followers, compared with creators of the same size: bought followers do not
  engage, so a creator engaging at a tenth of their peers per follower has most likely bought them;
- spikes in follower growth: organic growth is spread out, bought followers arrive on a day or two;
- the likes-per-read band: bought likes arrive without reads;
- duplicated comments: bought comments repeat a handful of phrases.
The points [U] are set from those published rules of thumb, not fitted to the simulator, so the score
means the same on real data; the tests check that it separates the simulator's labelled frauds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_POINTS = {"audience": 45.0, "engagement": 20.0, "growth": 15.0, "likes_per_read": 10.0, "comments": 10.0}
EXPECTED_ENGAGEMENT_PER_FOLLOWER = (0.02, 0.006, 0.003, 0.0015)  # [U] by tier, when too few peers to compare
LIKES_PER_READ = (0.02, 0.35)  # [U] the usual band; outside it likes and reads disagree
MIN_PEERS = 20
MIN_READS = 200  # a creator's recent notes need this many reads before their engagement is judged


@dataclass(frozen=True)
class Signals:
    """One value per creator for each signal (NaN where unknown: no sample, no notes, no history)."""

    fake_share: np.ndarray            # of the audience sample, weighted by the fake-account model
    engagement_per_follower: np.ndarray  # median engagements of recent notes over followers
    tier: np.ndarray                  # int index into TIERS
    followers: np.ndarray
    growth_spike_share: np.ndarray    # share of 30-day growth gained on the single biggest day
    growth_share: np.ndarray          # 30-day growth over followers
    likes_per_read: np.ndarray
    duplicate_comment_share: np.ndarray


def _ramp(x: np.ndarray, start: float, full: float) -> np.ndarray:
    """0 at ``start``, 1 at ``full``, linear between; NaN (unknown) costs nothing."""
    return np.nan_to_num(np.clip((x - start) / (full - start), 0.0, 1.0), nan=0.0)


def peer_expectation(signals: Signals, followers: np.ndarray) -> np.ndarray:
    """What creators of each one's size engage per follower: a line through log engagement-per-follower
    against log followers over every creator with notes (engagement grows slower than followers, within
    a tier too), or the tier's field value when there are too few creators to fit it."""
    epf = signals.engagement_per_follower
    known = np.isfinite(epf) & (epf > 0) & (followers > 0)
    if known.sum() < MIN_PEERS:
        return np.array(EXPECTED_ENGAGEMENT_PER_FOLLOWER)[signals.tier]
    x, y = np.log(followers[known]), np.log(epf[known])
    slope, intercept = np.polyfit(x, y, 1)
    return np.exp(intercept + slope * np.log(np.maximum(followers, 1)))


def relative_engagement(signals: Signals) -> np.ndarray:
    return signals.engagement_per_follower / peer_expectation(signals, signals.followers)


def points(signals: Signals) -> dict[str, np.ndarray]:
    """Penalty points per signal, per creator."""
    relative = relative_engagement(signals)
    low_engagement = _ramp(-np.log2(np.maximum(relative, 1e-6)), 1.58, 3.3)  # ⅓× free, 1/10× full; NaN free
    spiky = np.where(signals.growth_share > 0.02, signals.growth_spike_share, np.nan)
    lpr = np.maximum(signals.likes_per_read, 1e-6)  # NaN (no reads) stays NaN and costs nothing
    band = np.where(lpr > LIKES_PER_READ[1], np.log2(lpr / LIKES_PER_READ[1]),
                    np.where(lpr < LIKES_PER_READ[0], np.log2(LIKES_PER_READ[0] / lpr), 0.0))
    return {
        "audience": MAX_POINTS["audience"] * _ramp(signals.fake_share, 0.10, 0.50),
        "engagement": MAX_POINTS["engagement"] * low_engagement,
        "growth": MAX_POINTS["growth"] * _ramp(spiky, 0.30, 0.80),
        "likes_per_read": MAX_POINTS["likes_per_read"] * _ramp(band, 0.0, 1.5),
        "comments": MAX_POINTS["comments"] * _ramp(signals.duplicate_comment_share, 0.10, 0.50),
    }


def score(signals: Signals) -> tuple[np.ndarray, list[list[str]]]:
    """(scores 0..100 as int16, reasons per creator, costliest first)."""
    cost = points(signals)
    total = sum(cost.values(), np.zeros(len(signals.tier)))
    scores = np.clip(np.round(100.0 - total), 0, 100).astype(np.int16)
    relative = relative_engagement(signals)
    reasons: list[list[str]] = []
    for i in range(len(scores)):
        said = sorted(((float(cost[k][i]), k) for k in cost if cost[k][i] >= 2.0), reverse=True)
        reasons.append([_words(k, i, signals, relative) for _, k in said] or ["no anomalies found"])
    return scores, reasons


def _words(signal: str, i: int, s: Signals, relative: np.ndarray) -> str:
    match signal:
        case "audience":
            return (f"about {s.fake_share[i]:.0%} of sampled followers look fake "
                    "(mass-following, no posts, default names)")
        case "engagement":
            return f"engagement per follower is {relative[i]:.2f}× that of creators of the same size"
        case "growth":
            return f"{s.growth_spike_share[i]:.0%} of the last 30 days' follower growth came on a single day"
        case "likes_per_read":
            return (f"{s.likes_per_read[i]:.2f} likes per read, outside the usual "
                    f"{LIKES_PER_READ[0]:.2f}–{LIKES_PER_READ[1]:.2f}")
        case _:
            return f"{s.duplicate_comment_share[i]:.0%} of recent comments repeat word for word"
