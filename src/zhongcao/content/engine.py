"""The content engine a process runs: its search index and pool state, kept in step with State.

State (the note table) is the truth. Every process tails it by ``updated_at``, re-reading a few seconds
back because commits from several processes land out of timestamp order; applying a note twice is
harmless (the index replaces, the state updates). So a note written by any API worker is searchable
on all of them within one sync interval, and a restart rebuilds everything from State.

Counters follow the same pattern: a starting engine loads the rollups of ingested events and the outbox
batches not yet ingested, in one snapshot (``rollup``), then tails the outbox for new batches.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, get_account
from zhongcao.content import rollup
from zhongcao.content.distribution import (
    DELETED,
    ENGAGEMENTS,
    IN_REVIEW,
    POLICY,
    PUBLISHED,
    RESTRICTED,
    FeedBatch,
    FeedIndex,
    NoteState,
    PoolSpec,
    SeenFilter,
    record_events,
    record_impressions,
    serve_feed,
    update_pools,
)
from zhongcao.content.notes import AUTHOR_KINDS, LOOKBACK, NoteView, get_note, notes_changed_since
from zhongcao.content.ranking import RankSpec, ad_positions, base_scores, contenders, personal, rank, top_lift
from zhongcao.content.search_index import NoteDoc, SearchIndex
from zhongcao.content.suggest import Suggester
from zhongcao.content.taxonomy import CATEGORIES, CODE, N_CATEGORIES
from zhongcao.content.tokenize import normalize
from zhongcao.core import Invalid, NotFound, RowsOf, Runtime
from zhongcao.events import (
    Buffer,
    EventIds,
    EventKind,
    Surface,
    Tailed,
    claim_node,
    heartbeat_node,
    ingested_ids,
    pending,
    tail,
)

_PUBLIC = Actor.system()  # engagements are on public notes; the route authenticates the caller
STATUS = {"published": PUBLISHED, "in_review": IN_REVIEW, "restricted": RESTRICTED, "deleted": DELETED}
KIND = {"image": 1, "video": 2}
CATEGORY_CODES = [code for code, _, _ in CATEGORIES]
MAX_RESULTS = 1_000  # how deep search pages may go
INDEX_TTL_S = 1.0  # a feed index serves this long (by the engine's clock) unless notes or pools change
COUNTED = frozenset({EventKind.IMPRESSION, *ENGAGEMENTS.values()})  # the kinds this engine's state counts
BATCH_LOOKUP = 64  # consumers in a batch from which they are looked up at once, and the table's growth step
MAX_LOGGED_QUERY = 100  # characters of a query its search event keeps


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
class Distribution:
    """Where a note stands in the trial-then-boost ladder: shown to the author's side only."""

    pool: int            # 0 is the trial pool
    climbing: bool       # false once judged and not promoted
    pool_exposures: int  # exposures used of this pool's quota
    pool_quota: int


@dataclass(frozen=True)
class CreatorStats:
    """An author's public numbers, derived from events over their published notes."""

    creator_id: int
    followers: int
    notes: int
    exposures: int
    reads: int
    interactions: int  # likes, collects, comments, shares and follows
    engagement_rate: float | None  # interactions per exposure; null before the first exposure


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


@dataclass(frozen=True)
class SearchBatch:
    """Many first result pages, flat: one row per result, in request order then position."""

    request: np.ndarray   # row of the request in the batch
    consumer: np.ndarray  # consumer ids
    note_id: np.ndarray
    position: np.ndarray  # 1-based organic rank


class ContentEngine:
    def __init__(self, rt: Runtime, *, pools: PoolSpec | None = None, ranking: RankSpec | None = None,
                 rng: np.random.Generator | None = None, sink: Callable[[pa.Table], None] | None = None) -> None:
        """``sink`` takes the serving events instead of the outbox (see ``Buffer``)."""
        self.rt = rt
        self.rng = rng if rng is not None else np.random.default_rng()
        self.pools = pools or PoolSpec.from_config(rt.settings.pools)
        self.ranking = ranking or RankSpec()
        self.index = SearchIndex()
        self.state = NoteState()
        self.suggester = Suggester()
        self._applied: dict[int, int] = {}  # note id → the version applied
        self._by_author: dict[int, list[int]] = {}  # author id → state indices of their notes
        self._followers: dict[int, int] = {}
        self._mark = datetime(1970, 1, 1, tzinfo=UTC)
        self._started = False
        self._events_mark = rt.now() - LOOKBACK
        self._applied_batches: dict[int, datetime] = {}
        self.buffer = Buffer(rt, sink=sink)  # this process's serving events, on their way to the outbox
        self._lock = threading.RLock()
        self._ids_lock = threading.Lock()
        # Consumers met through the API: a row each in the interest matrix and the seen filter.
        self._consumers: dict[int, int] = {}
        self._consumer_table = RowsOf(np.empty(0, dtype=np.int64))  # the first rows of _consumers, for batches
        self._interests = np.ones((1024, N_CATEGORIES), dtype=np.float32)
        self._seen = SeenFilter(1024, self.pools)
        self._feed_index: FeedIndex | None = None
        self._feed_index_at = 0.0
        self._holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._ids: EventIds | None = None  # leased on the first event this engine records
        self._heartbeat = time.monotonic()

    @property
    def ids(self) -> EventIds:
        """This process's event-id generator, on a node leased from State the first time it is needed."""
        if self._ids is None:
            with self._ids_lock:  # not the engine's lock: claiming writes to State
                if self._ids is None:
                    self._heartbeat = time.monotonic()
                    self._ids = EventIds(self.rt.clock, claim_node(self.rt, self._holder))
        return self._ids

    def sync(self) -> int:
        """Apply notes created or changed, and events recorded, since the last sync; returns how many
        note versions were new. The database is read outside the engine's lock, so feed and search
        requests never queue behind it; applying what was read takes the lock, briefly."""
        with self._lock:
            applied = 0 if self._started else self._start()
        if self._ids is not None and time.monotonic() - self._heartbeat > 30:
            self._heartbeat = time.monotonic()
            heartbeat_node(self.rt, self._ids.node, self._holder)
        self.flush()
        applied += self._sync_notes()
        batches = tail(self.rt, self._events_mark - LOOKBACK, skip=self._applied_batches)
        # Columns out of the batches before the lock, which a feed request waits on with the event loop held
        events = [(batch, rollup.NoteEvents.of(batch.events)) for batch in batches]
        with self._lock:
            if self._sync_events(events) or applied:
                self._feed_index = None  # rebuilt on the next feed request
        return applied

    def _start(self) -> int:
        """Load the rollups and the batches they do not count yet, as one moment saw them; returns how many
        note versions were applied."""
        with self.rt.db.snapshot() as s:
            totals = rollup.load(s)
            backlog = pending(s)
            self._applied_batches = ingested_ids(s)
        self._started = True
        applied = self._sync_notes()  # after the snapshot, so every note its rollups name is here
        idx = self.state.indices(totals.note_id)
        known = idx >= 0
        for name, values in totals.stats.items():
            getattr(self.state, name)[idx[known]] = values[known]
        self._followers = dict(totals.followers)
        rows = self._rows(totals.interest_consumer, add=True)
        np.add.at(self._interests, (rows, totals.interest_category), totals.interest_weight)
        for batch in backlog:
            self._apply_batch(batch, rollup.NoteEvents.of(batch.events))
        update_pools(self.state, self.pools)
        self._events_mark = max([self._events_mark, *self._applied_batches.values()])
        return applied

    def _sync_events(self, batches: list[tuple[Tailed, rollup.NoteEvents]]) -> int:
        """Apply other processes' batches; returns how many notes changed pool (promoted or stopped)."""
        seen = 0
        for batch, events in batches:
            if batch.batch_id not in self._applied_batches:
                self._apply_batch(batch, events)
                seen += 1
        horizon = self._events_mark - LOOKBACK
        self._applied_batches = {i: at for i, at in self._applied_batches.items() if at >= horizon}
        return self._judge() if seen else 0

    def _judge(self, among: np.ndarray | None = None) -> int:
        changes = update_pools(self.state, self.pools, among)
        return len(changes.promoted) + len(changes.stopped)

    def _apply_batch(self, batch: Tailed, events: rollup.NoteEvents) -> None:
        self._applied_batches[batch.batch_id] = batch.created_at
        self._events_mark = max(self._events_mark, batch.created_at)
        self._apply_events(events)

    def _apply_events(self, ev: rollup.NoteEvents) -> np.ndarray:
        """Count the events; returns the state indices of their notes (-1 for none)."""
        idx = self.state.indices(ev.note_id)
        act = record_events(self.state, idx, ev.kind, ev.at, self.pools)
        self._learn(ev.consumer_id[act], idx[act])
        for creator, gained in zip(*ev.followers(), strict=True):
            self._followers[int(creator)] = self._followers.get(int(creator), 0) + int(gained)
        return idx

    def _rows(self, consumer_ids: np.ndarray, *, add: bool) -> np.ndarray:
        """Consumers' rows in the interest matrix and the seen filter; -1 for one not met yet, unless ``add``
        gives them one. A batch finds the consumers of the last look-up table at once and the rest one by
        one; the table is rebuilt once a quarter more have come. A dict lookup per consumer cost the
        simulator as much as ranking their feed; a request's few consumers skip the table."""
        consumer_ids = np.asarray(consumer_ids, dtype=np.int64)
        if len(consumer_ids) >= BATCH_LOOKUP:
            tabled = self._consumer_table.size
            if len(self._consumers) - tabled > max(tabled // 4, BATCH_LOOKUP):
                self._consumer_table = RowsOf(np.fromiter(self._consumers, dtype=np.int64,
                                                          count=len(self._consumers)))
            rows = self._consumer_table(consumer_ids)
        else:  # a request's consumer: the dict alone
            rows = np.full(len(consumer_ids), -1, dtype=np.int64)
        miss = np.flatnonzero(rows < 0)
        if len(miss):
            ids = consumer_ids[miss].tolist()
            rows[miss] = [self._consumer(c) for c in ids] if add else [self._consumers.get(c, -1) for c in ids]
        return rows

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
        known = consumer_ids > 0
        rows = self._rows(consumer_ids[known], add=True)
        # counted per (consumer, category) first: a third of np.add.at's time, the same whole-number sums
        cells, counts = np.unique(rows * N_CATEGORIES + self.state.category[note_idx[known]], return_counts=True)
        consumer, category = np.divmod(cells, N_CATEGORIES)
        self._interests[consumer, category] += counts.astype(np.float32)

    def feed(self, consumer_id: int, n: int) -> FeedPage:
        """A consumer's next ``n`` notes; each impression is recorded as an event with its propensity."""
        batch = self.feed_batch(np.array([consumer_id], dtype=np.int64), n)
        return FeedPage(consumer_id, POLICY, [
            FeedItem(int(i), int(p), bool(x), round(float(q), 6))
            for i, p, x, q in zip(batch.note_id, batch.position, batch.explore, batch.propensity, strict=True)])

    def feed_batch(self, consumer_ids: np.ndarray, n: int) -> FeedBatch:
        """Many consumers' next ``n`` notes at once, ranked, recorded and counted exactly as ``feed`` does
        for one: the simulator's path. ``consumer`` in the answer holds consumer ids."""
        with self._lock:
            now = self.rt.now().timestamp()
            if self._feed_index is None or now - self._feed_index_at >= INDEX_TTL_S:
                self._feed_index, self._feed_index_at = FeedIndex.build(self.state, now, self.pools), now
            rows = self._rows(consumer_ids, add=True)
            batch = serve_feed(self._feed_index, rows, n, self._interests, self._seen, now, self.rng, self.pools)
            np.subtract.at(self._feed_index.room, batch.note_idx, 1)  # quotas stay exact between rebuilds
            record_impressions(self.state, batch.note_idx)
            if self._judge(batch.note_idx):
                self._feed_index = None
        batch = replace(batch, consumer=consumer_ids[batch.request])
        if shown := len(batch.note_id):
            self._hold(shown, self._stamp(shown, {
                "kind": EventKind.IMPRESSION.value, "consumer_id": batch.consumer, "note_id": batch.note_id,
                "surface": Surface.FEED.value, "position": batch.position, "policy": batch.policy,
                "propensity": batch.propensity}))
        return batch

    def _sync_notes(self) -> int:
        applied, since = 0, self._since()
        while True:
            changes = notes_changed_since(self.rt, since, self._applied)  # read outside the lock
            with self._lock:
                fresh = [n for n in changes.notes if self._applied.get(n.id, 0) < n.version]
                self._apply(fresh)
            applied += len(fresh)
            if changes.mark is not None:
                self._mark = max(self._mark, changes.mark)
            if changes.mark is None or not changes.more or changes.mark == since:
                return applied
            since = changes.mark  # a full page: read on from its newest change

    def _since(self) -> datetime:
        """Where the note tail starts: a lookback behind the newest change applied, while commits could still
        land out of order behind it; once the clock is well past it, nothing more can, and only changes
        at or after it are read again."""
        settled = self.rt.now() - self._mark > 2 * LOOKBACK
        return self._mark if settled else self._mark - LOOKBACK

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
            added = self.state.add(ids[new], np.array([CODE[n.category] for n in fresh]),
                                   np.array([n.created_at.timestamp() for n in fresh]))
            for n, i in zip(fresh, added.tolist(), strict=True):
                self._by_author.setdefault(n.author_id, []).append(i)
        idx = self.state.indices(ids)
        self.state.status[idx] = [STATUS[n.status] for n in notes]
        for n in notes:
            self.suggester.update(n.id, Suggester.terms(n.title, n.topics) if n.status == "published" else set())
        self._applied.update((n.id, n.version) for n in notes)

    def search(self, query: str, *, n: int = 10, page: int = 1, kinds: tuple[str, ...] = (),
               since: datetime | None = None, until: datetime | None = None,
               consumer_id: int | None = None, offset: int | None = None) -> SearchPage:
        """``offset`` starts the organic results elsewhere than ``(page - 1) * n``: the ads engine skips
        the results that earlier pages' ad positions displaced."""
        if not query or not query.strip():
            raise Invalid("invalid_query", "q must not be empty", field="q", allowed="1..5000 characters")
        start = (page - 1) * n if offset is None else max(offset, 0)
        depth = min(start + n, MAX_RESULTS)
        matches = self.index.match(
            query, k=max(depth, 100), kinds=[KIND[k] for k in kinds],
            since=int(since.timestamp()) if since else None, until=int(until.timestamp()) if until else None)
        idx = self.state.indices(matches.note_ids)
        interest = None
        if consumer_id is not None and consumer_id in self._consumers:  # personalize once we know them
            row = self._interests[self._consumers[consumer_id]]
            interest = row / row.sum()
        now = self.rt.now()
        order, scores = rank(idx, matches.scores, self.state, now.timestamp(), self.ranking, interest)
        self._log_search(now, consumer_id, query, page)
        items = [SearchItem(int(matches.note_ids[o]), start + i + 1, round(float(sc), 4))
                 for i, (o, sc) in enumerate(zip(order[start:start + n], scores[start:start + n], strict=True))]
        return SearchPage(query, page, matches.total, items, ad_positions(n, page, self.ranking))

    def ad_positions(self, n: int, page: int) -> list[int]:
        """The positions of a search page of ``n`` that the ranking reserves for ads."""
        return ad_positions(n, page, self.ranking)

    def search_batch(self, queries: list[str], consumer_ids: np.ndarray, n: int) -> SearchBatch:
        """Many consumers' first result pages at once, ranked and logged as ``search`` ranks and logs one:
        the simulator's path. Each distinct query is matched and scored once per batch; only the
        personal lift is per consumer."""
        now = self.rt.now()
        asked = list(dict.fromkeys(queries))
        found = [self.index.match(query, k=max(n, 100)) for query in asked]
        # Every query's matches in one padded grid (a query per row), so that scoring them and ranking every
        # request is a few array operations, not a few per query: a tick's searches ask ~200 queries.
        lengths = np.array([len(m.note_ids) for m in found], dtype=np.int64)
        valid = np.arange(int(lengths.max(initial=0)))[None, :] < lengths[:, None]
        notes = np.zeros(valid.shape, dtype=np.int64)
        base = np.full(valid.shape, -np.inf)  # a pad ranks after every match
        categories = np.zeros(valid.shape, dtype=np.int64)
        if valid.any():
            notes[valid] = np.concatenate([m.note_ids for m in found])
            idx = self.state.indices(notes[valid])
            base[valid] = base_scores(idx, np.concatenate([m.scores for m in found]), self.state, now.timestamp(),
                                      self.ranking)
            categories[valid] = self.state.category[idx]
        with self._lock:
            known = self._rows(consumer_ids, add=False)
        interest = np.zeros((len(queries), N_CATEGORIES), dtype=np.float32)  # none known: no lift
        have = known >= 0
        interest[have] = self._interests[known[have]] / self._interests[known[have]].sum(axis=1, keepdims=True)
        # The grid narrowed to the matches some consumer's top n could hold, in their order (100 columns to ~41).
        order, valid = contenders(base, valid, n, top_lift(interest, self.ranking))
        notes, base, categories = (np.take_along_axis(a, order, axis=1) for a in (notes, base, categories))
        base = np.where(valid, base, -np.inf)  # what was left out ranks with the pads
        of_query = {query: k for k, query in enumerate(asked)}
        row = np.array([of_query[q] for q in queries], dtype=np.int64)  # each request's row of the grid
        score = personal(base[row], categories[row], interest, self.ranking)
        top = np.argsort(-score, axis=1, kind="stable")[:, :n]
        kept = np.take_along_axis(valid[row], top, axis=1)  # a request's matches come first, its pads after
        if queries:
            self.record(len(queries), {
                "kind": EventKind.SEARCH.value, "consumer_id": consumer_ids,
                "query": [normalize(q)[:MAX_LOGGED_QUERY] for q in queries], "surface": Surface.SEARCH.value,
                "position": 1}, at=now)
        rows = np.repeat(np.arange(len(queries)), kept.sum(axis=1))
        return SearchBatch(rows, consumer_ids[rows], np.take_along_axis(notes[row], top, axis=1)[kept],
                           np.broadcast_to(np.arange(1, top.shape[1] + 1), top.shape)[kept])

    def record_engagement(self, note_id: int, consumer_id: int, kind: str) -> NoteStats:
        """A consumer read or interacted with a note: one event, through the outbox, into the counters."""
        if kind not in ENGAGEMENTS:
            raise Invalid("invalid_engagement", f"{kind!r} is not an engagement", field="kind",
                          allowed=sorted(ENGAGEMENTS))
        note = get_note(self.rt, note_id, actor=_PUBLIC)
        if note.status != "published":
            raise NotFound("note", note_id)
        self.record(1, {"kind": ENGAGEMENTS[kind].value, "consumer_id": consumer_id, "note_id": note_id,
                         "creator_id": note.author_id, "surface": Surface.FEED.value}, durable=True)
        return self.stats(note_id)

    def _log_search(self, at: datetime, consumer_id: int | None, query: str, page: int) -> None:
        self.record(1, {"kind": EventKind.SEARCH.value, "consumer_id": consumer_id,
                         "query": normalize(query)[:MAX_LOGGED_QUERY], "surface": Surface.SEARCH.value,
                         "position": page}, at=at)

    def record(self, n: int, columns: dict[str, object], *, at: datetime | None = None, durable: bool = False) -> None:
        """Record ``n`` events (scalars broadcast) at once into this engine's state, and into the buffer that
        the next ``flush`` writes to the outbox; ``durable`` flushes now. A pool change makes the next feed
        rebuild its index. The ads engine records its impressions here too, with the ids its click tokens
        carry: one buffer per process."""
        events = self._stamp(n, columns, at)
        kind = columns["kind"]
        if not np.isscalar(kind) or kind in COUNTED:
            with self._lock:
                touched = self._apply_events(rollup.NoteEvents.of_columns(n, events))
                if self._judge(touched):
                    self._feed_index = None
        self._hold(n, events, durable)

    def _stamp(self, n: int, columns: dict[str, object], at: datetime | None = None) -> dict[str, object]:
        ids = columns["event_id"] if "event_id" in columns else self.ids.take(n)
        return {**columns, "event_id": ids, "ts": np.datetime64((at or self.rt.now()).replace(tzinfo=None), "us")}

    def _hold(self, n: int, events: dict[str, object], durable: bool = False) -> None:
        if self.buffer.add(n, events) or durable:
            self.flush()

    def flush(self) -> None:
        """Write the buffered events as one outbox batch, marked as applied before it commits, so this
        engine's tail never applies its own events a second time."""
        def written(batch: Tailed) -> None:
            with self._lock:
                self._applied_batches[batch.batch_id] = batch.created_at
                self._events_mark = max(self._events_mark, batch.created_at)

        def unwritten(batch: Tailed) -> None:
            with self._lock:
                self._applied_batches.pop(batch.batch_id, None)

        self.buffer.flush(written, unwritten)

    def fold(self, session: Session, batch: pa.Table) -> None:
        """Fold an ingested chunk into the rollups, on this engine's pool rules (see ``rollup``)."""
        rollup.fold(session, batch, self.pools)

    def fold_all_but_interests(self, session: Session, batch: pa.Table) -> rollup.Interests:
        """``fold``, handing back the consumers' interests for the caller to add (``rollup.add_interests``)."""
        return rollup.fold_all_but_interests(session, batch, self.pools)

    def note_quality(self, note_ids: np.ndarray) -> np.ndarray:
        """Each note's predicted engagement relative to the median published note, in [0.5, 2]: the
        quality term of an ad's score. Unknown notes count as median."""
        with self._lock:
            st, n = self.state, self.state.n
            predicted = (st.quality[:n] * 20.0 + st.ces_w[:n]) / (20.0 + st.exposures[:n])
            live = predicted[st.status[:n] == PUBLISHED]
            median = float(np.median(live)) if len(live) else 1.0
            idx = st.indices(np.asarray(note_ids))
            mine = np.where(idx >= 0, predicted[np.maximum(idx, 0)], median) if n else np.full(len(idx), median)
            return np.clip(mine / max(median, 1e-9), 0.5, 2.0)

    def interests(self, consumer_id: int) -> dict[str, float]:
        """What the engine learned a consumer likes: interactions per category code (empty before any)."""
        with self._lock:
            row = self._consumers.get(consumer_id)
            if row is None:
                return {}
            learned = self._interests[row] - 1.0  # the matrix starts at one per category: a flat prior
            return {CATEGORY_CODES[k]: float(w) for k, w in enumerate(learned) if w > 0}

    def interest_flags(self, consumer_ids: np.ndarray, k: int) -> np.ndarray:
        """(r, N_CATEGORIES) bool: each consumer's ``k`` most engaged categories (none before any engagement),
        as ad targeting reads interests."""
        flags = np.zeros((len(consumer_ids), N_CATEGORIES), dtype=bool)
        with self._lock:
            rows = self._rows(consumer_ids, add=False)
            known = rows >= 0
            learned = self._interests[rows[known]] - 1.0  # the matrix starts at one per category: a flat prior
        if len(learned):
            # the k best, a lower category first on ties (a stable sort's order), by k passes of argmax
            top = np.empty((len(learned), k), dtype=np.int64)
            left, each = learned.copy(), np.arange(len(learned))
            for j in range(k):
                top[:, j] = left.argmax(axis=1)
                left[each, top[:, j]] = -np.inf
            picked = np.take_along_axis(learned, top, axis=1) > 0
            sub = np.zeros((len(learned), N_CATEGORIES), dtype=bool)
            np.put_along_axis(sub, top, picked, axis=1)
            flags[known] = sub
        return flags

    def distribution(self, note_id: int) -> Distribution | None:
        i = int(self.state.indices(np.array([note_id]))[0])
        if i < 0:
            return None
        level = int(self.state.level[i])
        return Distribution(level, not bool(self.state.stopped[i]), int(self.state.level_exposures[i]),
                            self.pools.quotas[level])

    def creator_stats(self, creator_id: int) -> CreatorStats:
        account = get_account(self.rt, creator_id, actor=_PUBLIC)
        if account.kind not in AUTHOR_KINDS:
            raise NotFound("creator", creator_id)
        with self._lock:
            st = self.state
            idx = np.array(self._by_author.get(creator_id, []), dtype=np.int64)
            idx = idx[st.status[idx] == PUBLISHED]
            exposures, reads, engaged = (int(getattr(st, f)[idx].sum()) for f in ("exposures", "reads", "engaged"))
            return CreatorStats(creator_id, self._followers.get(creator_id, 0), len(idx), exposures, reads, engaged,
                                round(engaged / exposures, 6) if exposures else None)

    def notes_about(self, keyword: str) -> np.ndarray:
        """Published notes holding every word of ``keyword``: what reading or engaging "on a keyword" means."""
        return self.index.containing(keyword)

    def stats(self, note_id: int) -> NoteStats:
        i = int(self.state.indices(np.array([note_id]))[0])
        if i < 0:
            return NoteStats(0, 0, 0, 0, 0, 0, 0)
        st = self.state
        return NoteStats(int(st.exposures[i]), int(st.reads[i]), int(st.likes[i]), int(st.collects[i]),
                         int(st.comments[i]), int(st.shares[i]), int(st.follows[i]))
