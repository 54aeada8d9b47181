"""Search ranking policy over BM25 matches: relevance × note quality and engagement × freshness, with an
optional personalization term; and the result layout with the positions reserved for ads."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from zhongcao.content.distribution import NoteState


@dataclass(frozen=True)
class RankSpec:
    engagement_weight: float = 2.0    # how far proven engagement lifts relevance
    freshness_days: float = 30.0      # search is less about novelty than the feed
    freshness_floor: float = 0.5      # an old, relevant note keeps at least half its score
    personal_weight: float = 0.5      # lift for the consumer's interest in the note's category
    first_ad_position: int = 3        # FIELD_FACTS §1 [C]: organic position 3, then every 10th
    ad_every: int = 10


def base_scores(note_idx: np.ndarray, relevance: np.ndarray, state: NoteState, now: float,
                spec: RankSpec) -> np.ndarray:
    """Matched notes' scores before personalization (state indices, BM25 relevance): the same for every
    consumer, so a batch of searches computes them once per query."""
    strength = 20.0
    engagement = (state.quality[note_idx] * strength + state.ces_w[note_idx]) / (strength + state.exposures[note_idx])
    age_days = np.maximum(now - state.created[note_idx], 0) / 86_400.0
    freshness = spec.freshness_floor + (1 - spec.freshness_floor) * np.exp(-age_days / spec.freshness_days)
    return np.asarray(relevance * (1 + spec.engagement_weight * engagement) * freshness)


def personal(score: np.ndarray, categories: np.ndarray, interest: np.ndarray | None, spec: RankSpec) -> np.ndarray:
    """Scores lifted by the consumer's interest share in each note's category; ``interest`` may also be
    (consumers, categories), for a grid of scores, with ``categories`` one row for all or a row each."""
    if interest is None:
        return score
    share = np.take_along_axis(interest, categories, axis=1) if categories.ndim == 2 else interest[..., categories]
    return score * (1 + spec.personal_weight * share)


def top_lift(interest: np.ndarray, spec: RankSpec) -> float:
    """The largest lift ``personal`` gives any of these consumers (rows of ``interest``), computed as it
    computes each lift, so that a bound on its scores holds in its own arithmetic."""
    most = np.full((1, 1), interest.max(initial=0.0), dtype=interest.dtype)
    return float(personal(np.ones((1, 1)), np.zeros((1, 1), dtype=np.int64), most, spec)[0, 0])


def contenders(base: np.ndarray, valid: np.ndarray, n: int, max_lift: float) -> tuple[np.ndarray, np.ndarray]:
    """For a grid of base scores (a query's matches per row, ``valid`` where a match is), the columns of each
    row that could make some consumer's top ``n``, in their order, and which of those are matches. A lift is
    at least 1, so a consumer's n-th best score is at least the row's n-th best base score; a match below it
    even at ``max_lift`` (the largest lift any consumer of the batch gets) never ranks that high. Ranking the
    contenders alone gives the same pages, ties included, on a fraction of the grid."""
    if base.shape[1] <= n:
        return np.broadcast_to(np.arange(base.shape[1]), base.shape), valid
    nth = -np.partition(-base, n - 1, axis=1)[:, n - 1:n]  # -inf where a row has fewer than n: all of it stays
    keep = valid & (base * max_lift >= nth)
    order = np.argsort(~keep, axis=1, kind="stable")[:, :int(keep.sum(axis=1).max(initial=0))]
    return order, np.take_along_axis(keep, order, axis=1)


def rank(note_idx: np.ndarray, relevance: np.ndarray, state: NoteState, now: float, spec: RankSpec,
         interest: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Order and final scores for matched notes (state indices, BM25 relevance)."""
    score = personal(base_scores(note_idx, relevance, state, now, spec), state.category[note_idx], interest, spec)
    order = np.argsort(-score, kind="stable")
    return order, score[order]


def ad_positions(n: int, page: int, spec: RankSpec) -> list[int]:
    """1-based positions on this page that belong to ads; unsold, they are backfilled with organic notes."""
    first = (page - 1) * n + 1
    return [p for p in range(first, first + n)
            if p >= spec.first_ad_position and (p - spec.first_ad_position) % spec.ad_every == 0]
