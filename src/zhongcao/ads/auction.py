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

from zhongcao.core import kernel


@dataclass(frozen=True)
class AuctionResult:
    winner: np.ndarray  # (requests, slots) the candidate's column (offset in its row), -1 where a slot stays empty
    score: np.ndarray   # (requests, slots) the winner's eCPM, 0 where empty
    price: np.ndarray   # (requests, slots) the eCPM the winner pays, 0 where empty


@kernel
def _rank(live: np.ndarray, tb: np.ndarray, starts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best candidates of each request (``live[starts[i]:starts[i + 1]]``) as offsets into its
    row, and their scores, best first (a tie: the lower tiebreak, then the lower offset); -1 and -inf past
    the live candidates. One pass per request, each candidate inserted among its ranked places: a page
    ranks one to three ads among up to a hundred candidates."""
    r = len(starts) - 1
    order, ranked = np.full((r, k), -1, dtype=np.int64), np.full((r, k), -np.inf)
    for i in range(r):
        first, n = starts[i], 0
        for j in range(starts[i + 1] - first):
            s = live[first + j]
            if s == -np.inf:
                continue
            at = n
            while at > 0 and (ranked[i, at - 1] < s or (
                    ranked[i, at - 1] == s and tb[first + order[i, at - 1]] > tb[first + j])):
                at -= 1
            if at >= k:
                continue
            for q in range(min(n, k - 1), at, -1):
                order[i, q], ranked[i, q] = order[i, q - 1], ranked[i, q - 1]
            order[i, at], ranked[i, at] = j, s
            n = min(n + 1, k)
    return order, ranked


def gsp(scores: np.ndarray, slots: int, reserve: float, tiebreak: np.ndarray | None = None) -> AuctionResult:
    """``scores`` is (requests, candidates) eCPM; NaN or -inf marks an absent candidate. ``tiebreak`` is
    (requests, candidates) or (candidates,), lower first."""
    scores = np.asarray(scores, dtype=np.float64)
    r, c = scores.shape
    tb = None if tiebreak is None else np.broadcast_to(np.asarray(tiebreak, dtype=np.float64), (r, c)).ravel()
    return gsp_rows(scores.ravel(), np.arange(r + 1) * c, slots, reserve, tb)


def gsp_rows(scores: np.ndarray, starts: np.ndarray, slots: int, reserve: float,
             tiebreak: np.ndarray | None = None) -> AuctionResult:
    """``gsp`` for requests with their own numbers of candidates, laid end to end: request i's are
    ``scores[starts[i]:starts[i + 1]]`` (a search page's triggered keywords), and a winner is its offset there."""
    scores = np.asarray(scores, dtype=np.float64)
    live = np.where(np.isfinite(scores) & (scores >= reserve), scores, -np.inf)
    tb = np.zeros(len(scores)) if tiebreak is None else np.asarray(tiebreak, dtype=np.float64)
    # best first; one extra for the last slot's price
    order, ranked = _rank(live, tb, np.asarray(starts, dtype=np.int64), slots + 1)
    won = np.isfinite(ranked[:, :slots])
    next_score = ranked[:, 1: slots + 1]
    price = np.where(won, np.maximum(np.where(np.isfinite(next_score), next_score, reserve), reserve), 0.0)
    return AuctionResult(np.where(won, order[:, :slots], -1), np.where(won, ranked[:, :slots], 0.0), price)
