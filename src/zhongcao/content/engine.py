"""The content engine a process runs: its search index and pool state, kept in step with State.

State (the note table) is the truth. Every process tails it by ``updated_at``, re-reading a few seconds
back because commits from several processes land out of timestamp order; applying a note twice is
harmless (the index replaces, the state updates). So a note written by any API worker is searchable
on all of them within one sync interval, and a restart rebuilds everything from State.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from zhongcao.accounts import Actor
from zhongcao.content.distribution import (
    DELETED,
    ENGAGEMENTS,
    IN_REVIEW,
    POLICY,
    PUBLISHED,
    RESTRICTED,
    FeedIndex,
    NoteState,
    PoolSpec,
    SeenFilter,
    record_engagements,
    record_impressions,
    serve_feed,
    update_pools,
)
from zhongcao.content.notes import LOOKBACK, NoteView, get_note, notes_changed_since
from zhongcao.content.ranking import RankSpec, ad_positions, rank
from zhongcao.content.search_index import NoteDoc, SearchIndex
from zhongcao.content.suggest import Suggester
from zhongcao.content.taxonomy import CODE, N_CATEGORIES
from zhongcao.core import Invalid, NotFound, Runtime
from zhongcao.events import EventIds, EventKind, Surface, claim_node, enqueue, heartbeat_node, make_batch, tail

_PUBLIC = Actor.system()  # engagements are on public notes; the route authenticates the caller
STATUS = {"published": PUBLISHED, "in_review": IN_REVIEW, "restricted": RESTRICTED, "deleted": DELETED}
KIND = {"image": 1, "video": 2}
MAX_RESULTS = 1_000  # how deep search pages may go


@dataclass(frozen=True)
class NoteStats:
    """Public engagement, derived from events."""

    exposures: int
    reads: int
    likes: int
    collects: int
    comments: int
    shares: int
    follows: int


@dataclass(frozen=True)
class FeedItem:
    note_id: int
    position: int
    explore: bool        # a trial slot
    propensity: float    # the probability the policy put this note here


@dataclass(frozen=True)
class FeedPage:
    consumer_id: int
    policy: str
    items: list[FeedItem]


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
    def __init__(self, rt: Runtime, *, pools: PoolSpec | None = None, ranking: RankSpec | None = None,
                 rng: np.random.Generator | None = None) -> None:
        self.rt = rt
        self.rng = rng if rng is not None else np.random.default_rng()
        self.pools = pools or PoolSpec()
        self.ranking = ranking or RankSpec()
        self.index = SearchIndex()
        self.state = NoteState()
        self.suggester = Suggester()
        self._applied: dict[int, int] = {}  # note id → the version applied
        self._mark = datetime(1970, 1, 1, tzinfo=UTC)
        self._events_mark = rt.now() - LOOKBACK  # counters start from State's notes, then follow events
        self._applied_batches: dict[int, datetime] = {}
        self._lock = threading.RLock()
        # Consumers met through the API: a row each in the interest matrix and the seen filter.
        self._consumers: dict[int, int] = {}
        self._interests = np.ones((1024, N_CATEGORIES), dtype=np.float32)
        self._seen = SeenFilter(1024, self.pools)
        self._feed_index: FeedIndex | None = None
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ids: EventIds | None = None  # leased on the first event this engine records
        self._heartbeat = time.monotonic()

    @property
    def ids(self) -> EventIds:
        """This process's event-id generator, on a node leased from State the first time it is needed."""
        with self._lock:
            if self._ids is None:
                self._ids = EventIds(self.rt.clock, claim_node(self.rt, self._holder))
                self._heartbeat = time.monotonic()
            return self._ids

    def sync(self) -> int:
        """Apply notes created or changed, and events recorded, since the last sync; returns how many
        note versions were new."""
        with self._lock:
            if self._ids is not None and time.monotonic() - self._heartbeat > 30:
                heartbeat_node(self.rt, self._ids.node, self._holder)
                self._heartbeat = time.monotonic()
            applied = self._sync_notes()
            if self._sync_events() or applied:
                self._feed_index = None  # rebuilt on the next feed request
            return applied

    def _sync_events(self) -> int:
        seen = 0
        for batch in tail(self.rt, self._events_mark - LOOKBACK):
            if batch.batch_id in self._applied_batches:
                continue
            self._applied_batches[batch.batch_id] = batch.created_at
            self._events_mark = max(self._events_mark, batch.created_at)
            ev = batch.events
            idx = self.state.indices(ev.column("note_id").to_numpy(zero_copy_only=False))
            kinds = ev.column("kind").to_numpy()
            ts = ev.column("ts").to_numpy().astype("datetime64[us]").astype(np.int64) / 1e6
            known = idx >= 0
            record_impressions(self.state, idx[known & (kinds == EventKind.IMPRESSION)])
            act = known & (kinds != EventKind.IMPRESSION)
            record_engagements(self.state, idx[act], kinds[act], ts[act], self.pools)
            self._learn(ev.column("consumer_id").to_numpy(zero_copy_only=False)[act], idx[act])
            seen += 1
        horizon = self._events_mark - LOOKBACK
        self._applied_batches = {i: at for i, at in self._applied_batches.items() if at >= horizon}
        if seen:
            update_pools(self.state, self.pools)
        return seen

    def _consumer(self, consumer_id: int) -> int:
        row = self._consumers.get(consumer_id)
        if row is None:
            row = self._consumers[consumer_id] = len(self._consumers)
            if row >= len(self._interests):
                grown = np.ones((2 * len(self._interests), N_CATEGORIES), dtype=np.float32)
                grown[: len(self._interests)] = self._interests
                self._interests = grown
                self._seen.grow(len(grown))
        return row

    def _learn(self, consumer_ids: np.ndarray, note_idx: np.ndarray) -> None:
        """Interactions teach a consumer's interests: each one adds to the note's category."""
        for consumer_id, i in zip(consumer_ids.tolist(), note_idx.tolist(), strict=True):
            if consumer_id is not None:
                self._interests[self._consumer(int(consumer_id)), self.state.category[i]] += 1.0

    def feed(self, consumer_id: int, n: int) -> FeedPage:
        """A consumer's next ``n`` notes; each impression is recorded as an event with its propensity."""
        with self._lock:
            now = self.rt.now().timestamp()
            if self._feed_index is None:
                self._feed_index = FeedIndex.build(self.state, now, self.pools)
            batch = serve_feed(self._feed_index, np.array([self._consumer(consumer_id)]), n, self._interests,
                               self._seen, now, self.rng, self.pools)
            if len(batch.note_id):
                self._record(len(batch.note_id), {
                    "kind": EventKind.IMPRESSION.value, "consumer_id": consumer_id, "note_id": batch.note_id,
                    "surface": Surface.FEED.value, "position": batch.position, "policy": batch.policy,
                    "propensity": batch.propensity,
                })
        return FeedPage(consumer_id, POLICY, [
            FeedItem(int(i), int(p), bool(x), round(float(q), 6))
            for i, p, x, q in zip(batch.note_id, batch.position, batch.explore, batch.propensity, strict=True)])

    def _sync_notes(self) -> int:
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
               consumer_id: int | None = None) -> SearchPage:
        if not query or not query.strip():
            raise Invalid("invalid_query", "q must not be empty", field="q", allowed="1..5000 characters")
        depth = min(page * n, MAX_RESULTS)
        matches = self.index.match(
            query, k=max(depth, 100), kinds=[KIND[k] for k in kinds],
            since=int(since.timestamp()) if since else None, until=int(until.timestamp()) if until else None)
        idx = self.state.indices(matches.note_ids)
        interest = None
        if consumer_id is not None and consumer_id in self._consumers:  # personalize once we know them
            row = self._interests[self._consumers[consumer_id]]
            interest = row / row.sum()
        order, scores = rank(idx, matches.scores, self.state, self.rt.now().timestamp(), self.ranking, interest)
        start = (page - 1) * n
        items = [SearchItem(int(matches.note_ids[o]), start + i + 1, round(float(sc), 4))
                 for i, (o, sc) in enumerate(zip(order[start:start + n], scores[start:start + n], strict=True))]
        return SearchPage(query, page, matches.total, items, ad_positions(n, page, self.ranking))

    def record_engagement(self, note_id: int, consumer_id: int, kind: str) -> NoteStats:
        """A consumer read or interacted with a note: one event, through the outbox, into the counters."""
        if kind not in ENGAGEMENTS:
            raise Invalid("invalid_engagement", f"{kind!r} is not an engagement", field="kind",
                          allowed=sorted(ENGAGEMENTS))
        note = get_note(self.rt, note_id, actor=_PUBLIC)
        if note.status != "published":
            raise NotFound("note", note_id)
        self._record(1, {"kind": ENGAGEMENTS[kind].value, "consumer_id": consumer_id, "note_id": note_id,
                         "creator_id": note.author_id, "surface": Surface.FEED.value})
        return self.stats(note_id)

    def _record(self, n: int, columns: dict[str, object]) -> None:
        """Record ``n`` events now (scalars broadcast): into the outbox, then into this engine's state."""
        batch = make_batch({"event_id": self.ids.take(n), "ts": [self.rt.now().replace(tzinfo=None)] * n,
                            **columns})
        with self.rt.db.transaction() as s:
            enqueue(s, self.rt, batch)
        self.sync()

    def stats(self, note_id: int) -> NoteStats:
        i = int(self.state.indices(np.array([note_id]))[0])
        if i < 0:
            return NoteStats(0, 0, 0, 0, 0, 0, 0)
        st = self.state
        return NoteStats(int(st.exposures[i]), int(st.reads[i]), int(st.likes[i]), int(st.collects[i]),
                         int(st.comments[i]), int(st.shares[i]), int(st.follows[i]))
