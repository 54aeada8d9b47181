"""Where ids sit: the row of each of many ids in an array of them, as one vectorized lookup."""

from __future__ import annotations

import numpy as np

# A table over the ids' span is used while the span is at most this many times the ids, plus a margin:
# database ids are compact; a set spread thinner than that is searched instead.
SPREAD, MARGIN = 8, 1 << 16


class RowsOf:
    """The rows of distinct ids, -1 for an id not among them. Database ids are compact, so a table over
    their span answers a batch with one gather: a binary search per id cost ten times more, on the millions
    of events a simulated day looks up."""

    def __init__(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self.size = len(ids)
        self._lo = int(ids.min()) if len(ids) else 0
        span = int(ids.max()) - self._lo + 1 if len(ids) else 0
        self._table: np.ndarray | None = None
        self._sorted: tuple[np.ndarray, np.ndarray] | None = None
        if span <= SPREAD * len(ids) + MARGIN:
            self._table = np.full(span, -1, dtype=np.int64)
            self._table[ids - self._lo] = np.arange(len(ids))
        else:
            order = np.argsort(ids, kind="stable")
            self._sorted = (ids[order], order)

    def __call__(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64)
        if self._table is not None:
            if not len(self._table):
                return np.full(len(ids), -1, dtype=np.int64)
            at = ids - self._lo
            inside = (at >= 0) & (at < len(self._table))
            return np.where(inside, self._table[np.clip(at, 0, len(self._table) - 1)], -1)
        assert self._sorted is not None
        keys, order = self._sorted
        at = np.minimum(np.searchsorted(keys, ids), len(keys) - 1)
        return np.where(keys[at] == ids, order[at], -1)


def distinct(ids: np.ndarray) -> np.ndarray:
    """The sorted distinct ids, as ``np.unique`` gives them: marked in a table over their span when they are
    compact (a day's events name a catalogue of notes millions of times, and sorting them all cost more
    than folding them), sorted otherwise (a page's few)."""
    ids = np.asarray(ids, dtype=np.int64)
    if not len(ids):
        return ids
    lo = int(ids.min())
    span = int(ids.max()) - lo + 1
    if span > SPREAD * len(ids):  # no margin here: a table is made per call, and a page's few ids sort at once
        return np.unique(ids)
    seen = np.zeros(span, dtype=bool)
    seen[ids - lo] = True
    return np.flatnonzero(seen) + lo
