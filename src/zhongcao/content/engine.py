"""The content engine a process runs: its search index and pool state, kept in step with State.

State (the note table) is the truth. Every process tails it by ``updated_at``, re-reading a few seconds
back because commits from several processes land out of timestamp order; applying a note twice is
harmless (the index replaces, the state updates). So a note written by any API worker is searchable
on all of them within one sync interval, and a restart rebuilds everything from State.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from zhongcao.content.distribution import DELETED, IN_REVIEW, PUBLISHED, RESTRICTED, NoteState, PoolSpec
from zhongcao.content.notes import LOOKBACK, NoteView, notes_changed_since
from zhongcao.content.ranking import RankSpec, ad_positions, rank
from zhongcao.content.search_index import NoteDoc, SearchIndex
from zhongcao.content.suggest import Suggester
from zhongcao.content.taxonomy import CODE
from zhongcao.core import Invalid, Runtime

STATUS = {"published": PUBLISHED, "in_review": IN_REVIEW, "restricted": RESTRICTED, "deleted": DELETED}
KIND = {"image": 1, "video": 2}
MAX_RESULTS = 1_000  # how deep search pages may go


@dataclass(frozen=True)
class SearchItem:
    note_id: int
    position: int
    score: float
    ad: None = None  # filled by the ads slice at ``ad_positions``


@dataclass(frozen=True)
class SearchPage:
    query: str
    page: int
    total: int
    items: list[SearchItem]
    ad_positions: list[int]


class ContentEngine:
    def __init__(self, rt: Runtime, *, pools: PoolSpec | None = None, ranking: RankSpec | None = None) -> None:
        self.rt = rt
        self.pools = pools or PoolSpec()
        self.ranking = ranking or RankSpec()
        self.index = SearchIndex()
        self.state = NoteState()
        self.suggester = Suggester()
        self._applied: dict[int, int] = {}  # note id → the version applied
        self._mark = datetime(1970, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def sync(self) -> int:
        """Apply notes created or changed since the last sync; returns how many were new versions."""
        with self._lock:
            applied = 0
            while True:
                rows = notes_changed_since(self.rt, self._mark - LOOKBACK)
                fresh = [n for n in rows if self._applied.get(n.id, 0) < n.version]
                self._apply(fresh)
                applied += len(fresh)
                if rows:
                    self._mark = max(self._mark, rows[-1].updated_at)
                if len(rows) < 5_000 or not fresh:
                    return applied

    def _apply(self, notes: list[NoteView]) -> None:
        if not notes:
            return
        self.index.add((NoteDoc(n.id, n.title, n.body, n.topics, KIND[n.kind], CODE[n.category],
                                int(n.created_at.timestamp())) for n in notes if n.status == "published"),
                       commit=False)
        self.index.remove(n.id for n in notes if n.status != "published")  # commits both
        ids = np.array([n.id for n in notes], dtype=np.int64)
        known = self.state.indices(ids)
        new = known < 0
        if new.any():
            fresh = [n for n, is_new in zip(notes, new, strict=True) if is_new]
            self.state.add(ids[new], np.array([CODE[n.category] for n in fresh]),
                           np.array([n.created_at.timestamp() for n in fresh]))
        idx = self.state.indices(ids)
        self.state.status[idx] = [STATUS[n.status] for n in notes]
        for n in notes:
            self.suggester.update(n.id, Suggester.terms(n.title, n.topics) if n.status == "published" else set())
        self._applied.update((n.id, n.version) for n in notes)

    def search(self, query: str, *, n: int = 10, page: int = 1, kinds: tuple[str, ...] = (),
               since: datetime | None = None, until: datetime | None = None,
               interest: np.ndarray | None = None) -> SearchPage:
        if not query or not query.strip():
            raise Invalid("invalid_query", "q must not be empty", field="q", allowed="1..5000 characters")
        depth = min(page * n, MAX_RESULTS)
        matches = self.index.match(
            query, k=max(depth, 100), kinds=[KIND[k] for k in kinds],
            since=int(since.timestamp()) if since else None, until=int(until.timestamp()) if until else None)
        idx = self.state.indices(matches.note_ids)
        order, scores = rank(idx, matches.scores, self.state, self.rt.now().timestamp(), self.ranking, interest)
        start = (page - 1) * n
        items = [SearchItem(int(matches.note_ids[o]), start + i + 1, round(float(sc), 4))
                 for i, (o, sc) in enumerate(zip(order[start:start + n], scores[start:start + n], strict=True))]
        return SearchPage(query, page, matches.total, items, ad_positions(n, page, self.ranking))
