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


def gsp(scores: np.ndarray, slots: int, reserve: float, tiebreak: np.ndarray | None = None) -> AuctionResult:
    """``scores`` is (requests, candidates) eCPM; NaN or -inf marks an absent candidate. ``tiebreak`` is
    (requests, candidates) or (candidates,), lower first."""
    scores = np.asarray(scores, dtype=np.float64)
    r, c = scores.shape
    live = np.where(np.isfinite(scores) & (scores >= reserve), scores, -np.inf)
    tb = np.zeros((r, c)) if tiebreak is None else np.broadcast_to(np.asarray(tiebreak, dtype=np.float64), (r, c))
    order = np.lexsort((tb, -live), axis=1)[:, : slots + 1]  # best first; one extra for the last slot's price
    ranked = np.take_along_axis(live, order, axis=1)
    if ranked.shape[1] < slots + 1:  # fewer candidates than slots: pad with absent ones
        pad = slots + 1 - ranked.shape[1]
        ranked = np.pad(ranked, ((0, 0), (0, pad)), constant_values=-np.inf)
        order = np.pad(order, ((0, 0), (0, pad)), constant_values=-1)
    won = np.isfinite(ranked[:, :slots])
    next_score = ranked[:, 1: slots + 1]
    price = np.where(won, np.maximum(np.where(np.isfinite(next_score), next_score, reserve), reserve), 0.0)
    return AuctionResult(np.where(won, order[:, :slots], -1), np.where(won, ranked[:, :slots], 0.0), price)
