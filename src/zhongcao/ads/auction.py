"""The auction: multi-slot generalized second price with a reserve, on (requests × candidates) arrays.

Mechanism only (STYLE §5): it ranks by a score and prices by the next score. How scores come about (bids,
predicted rates, quality) and how prices turn into charges (per click, per thousand impressions) belong
to the callers. Scores are eCPM, fen per thousand impressions.

- A candidate whose score is below the reserve never takes a slot.
- Slot k goes to the k-th highest score; its price is the larger of the reserve and the (k+1)-th score,
  so no winner pays more than its own score.
- Ties go to the lower ``tiebreak`` (the caller passes unit ids, so the older unit wins), and the tied
  loser's score is the winner's price: a tie is priced at the bid, as GSP prescribes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class AuctionResult:
    winner: np.ndarray  # (requests, slots) candidate column, -1 where a slot stays empty
    score: np.ndarray   # (requests, slots) the winner's eCPM, 0 where empty
    price: np.ndarray   # (requests, slots) the eCPM the winner pays, 0 where empty


SELECT_WIDTH = 4  # a row this many times wider than the places it ranks is selected from, not sorted


def _sort(live: np.ndarray, tb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best columns of each row and their scores, -1 and -inf past the candidates: every row sorted."""
    order = np.lexsort((tb, -live), axis=1)[:, :k]
    ranked = np.take_along_axis(live, order, axis=1)
    if ranked.shape[1] < k:  # fewer candidates than places: pad with absent ones
        pad = k - ranked.shape[1]
        ranked = np.pad(ranked, ((0, 0), (0, pad)), constant_values=-np.inf)
        order = np.pad(order, ((0, 0), (0, pad)), constant_values=-1)
    return order, ranked


def _select(live: np.ndarray, tb: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """``_sort`` by taking the best of each row ``k`` times: a search page ranks one or two ads among a
    hundred keyword candidates, and a few passes over the grid cost half of sorting every row."""
    r = live.shape[0]
    order, ranked = np.full((r, k), -1, dtype=np.int64), np.full((r, k), -np.inf)
    rows, left = np.arange(r), live.copy()
    for place in range(k):
        best = left.max(axis=1)
        col = np.where(left == best[:, None], tb, np.inf).argmin(axis=1)  # a tie: the lower tiebreak, then column
        found = np.isfinite(best)
        order[found, place], ranked[found, place] = col[found], best[found]
        left[rows[found], col[found]] = -np.inf
    return order, ranked


def gsp(scores: np.ndarray, slots: int, reserve: float, tiebreak: np.ndarray | None = None) -> AuctionResult:
    """``scores`` is (requests, candidates) eCPM; NaN or -inf marks an absent candidate. ``tiebreak`` is
    (requests, candidates) or (candidates,), lower first."""
    scores = np.asarray(scores, dtype=np.float64)
    r, c = scores.shape
    live = np.where(np.isfinite(scores) & (scores >= reserve), scores, -np.inf)
    tb = np.zeros((r, c)) if tiebreak is None else np.broadcast_to(np.asarray(tiebreak, dtype=np.float64), (r, c))
    # best first; one extra for the last slot's price
    order, ranked = (_select if c > SELECT_WIDTH * (slots + 1) else _sort)(live, tb, slots + 1)
    won = np.isfinite(ranked[:, :slots])
    next_score = ranked[:, 1: slots + 1]
    price = np.where(won, np.maximum(np.where(np.isfinite(next_score), next_score, reserve), reserve), 0.0)
    return AuctionResult(np.where(won, order[:, :slots], -1), np.where(won, ranked[:, :slots], 0.0), price)
