"""Feed distribution: trial pools that promote a note while its engagement holds, and batch feed serving.

Mechanism and policy are apart: ``NoteState`` holds what happened (struct of numpy arrays),
``update_pools`` judges notes at their pool's quota, ``FeedIndex`` ranks candidates once per tick, and
``serve_feed`` fills a batch of feed requests. Every slot carries its policy and propensity, so
offline evaluation can re-weight what was shown.

Promotion is decided on Beta posteriors, never a raw ratio: a note climbs only when the lower bound of
its read rate and of its engagement rate both clear the gates (FIELD_FACTS §5 [U]; see ``PoolSpec``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

import numpy as np
from scipy.special import betaincinv

from zhongcao.content.taxonomy import N_CATEGORIES
from zhongcao.core import RowsOf, distinct, kernel
from zhongcao.events import EventKind

PUBLISHED, IN_REVIEW, RESTRICTED, DELETED = 0, 1, 2, 3
POLICY = "feed.pools.v1"
PUBLIC_COUNTERS = {EventKind.LIKE: "likes", EventKind.COLLECT: "collects", EventKind.COMMENT: "comments",
                   EventKind.SHARE: "shares", EventKind.FOLLOW: "follows"}
ENGAGEMENTS = {"read": EventKind.READ, "like": EventKind.LIKE, "collect": EventKind.COLLECT,
               "comment": EventKind.COMMENT, "share": EventKind.SHARE, "follow": EventKind.FOLLOW}
_ENGAGEMENT_CODES = np.array([k.value for k in ENGAGEMENTS.values()], dtype=np.uint8)


@dataclass(frozen=True)
class PoolSpec:
    """Distribution policy. Defaults are practitioner folklore (FIELD_FACTS §5, tagged [U]): configure them."""

    quotas: tuple[int, ...] = (100, 500, 2_000, 20_000, 100_000, 1_000_000)  # exposures per pool [U]
    read_gate: float = 0.08       # read (click-through) rate a note must hold to climb [U]
    engage_gate: float = 0.05     # interactions per read a note must hold to climb (互动率, as 蒲公英 counts it) [U]
    confidence: float = 0.8       # gates apply to the posterior's lower (1 - confidence) quantile
    prior: tuple[float, float] = (1.0, 9.0)  # Beta prior on both rates: a mean of 10%, worth 10 impressions
    ces_weights: dict[int, float] = field(default_factory=lambda: {
        EventKind.LIKE: 1.0, EventKind.COLLECT: 1.0, EventKind.COMMENT: 4.0, EventKind.SHARE: 4.0,
        EventKind.FOLLOW: 8.0})  # CES [U]
    early_boost: float = 3.7      # interactions in the first hours weigh this much more than after a day [U]
    early_hours: float = 2.0
    early_decay_hours: float = 8.0
    exploration: float = 0.1      # share of feed slots given to notes on trial
    freshness_days: float = 7.0   # e-folding age of the freshness term
    window: int = 20              # how deep a slot may reach into a category's ranked list
    no_repeat_days: int = 7
    oversample: int = 3           # candidates drawn per slot, to survive the seen and duplicate filters

    def __post_init__(self) -> None:
        def bad(name: str, value: object, allowed: str) -> None:
            raise ValueError(f"PoolSpec.{name} = {value!r}: must be {allowed}")

        if not self.quotas or any(q <= 0 for q in self.quotas) or list(self.quotas) != sorted(self.quotas):
            bad("quotas", self.quotas, "positive and non-decreasing")
        for name in ("read_gate", "engage_gate", "exploration"):
            if not 0 <= getattr(self, name) <= 1:
                bad(name, getattr(self, name), "in [0, 1]")
        if not 0.5 <= self.confidence < 1:
            bad("confidence", self.confidence, "in [0.5, 1)")
        if min(self.prior) <= 0:
            bad("prior", self.prior, "two positive pseudo-counts")
        if self.early_boost < 1:
            bad("early_boost", self.early_boost, ">= 1")
        if self.window < 1 or self.oversample < 1 or self.no_repeat_days < 1:
            bad("window/oversample/no_repeat_days", (self.window, self.oversample, self.no_repeat_days), ">= 1")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> PoolSpec:
        """The spec ``ZHONGCAO_POOLS`` (JSON) describes: lists become tuples, ``ces_weights`` is keyed by
        engagement name, and an unknown key is an error rather than a setting silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"ZHONGCAO_POOLS: unknown keys {unknown}; known keys are {sorted(known)}")
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v for k, v in config.items()}
        if "ces_weights" in values:
            weights = dict(values["ces_weights"])
            wrong = sorted(set(weights) - (set(ENGAGEMENTS) - {"read"}))
            if wrong:
                raise ValueError(f"ZHONGCAO_POOLS.ces_weights: {wrong} are not interactions; "
                                 f"use {sorted(set(ENGAGEMENTS) - {'read'})}")
            values["ces_weights"] = {int(ENGAGEMENTS[k]): float(w) for k, w in weights.items()}
        return cls(**values)

    def early_weight(self, age_hours: np.ndarray) -> np.ndarray:
        late = np.maximum(age_hours - self.early_hours, 0.0)
        return 1.0 + (self.early_boost - 1.0) * np.exp(-late / self.early_decay_hours)


class NoteState:
    """Per-note distribution statistics, indexed 0..n-1; grows by doubling. Rebuilt from events on start."""

    _FIELDS: ClassVar[dict[str, type]] = {
        "note_id": np.int64, "category": np.int16, "created": np.float64, "status": np.int8, "level": np.int8,
        "stopped": np.bool_, "level_exposures": np.int64, "exposures": np.int64, "reads": np.int64,
        "engaged": np.int64, "ces_w": np.float64, "quality": np.float32, "likes": np.int64,
        "collects": np.int64, "comments": np.int64, "shares": np.int64, "follows": np.int64}
    note_id: np.ndarray
    category: np.ndarray
    created: np.ndarray          # unix seconds
    status: np.ndarray           # PUBLISHED, IN_REVIEW, RESTRICTED, DELETED
    level: np.ndarray            # pool: 0 is the trial pool
    stopped: np.ndarray          # judged and not promoted: gets no more pushed traffic
    level_exposures: np.ndarray  # exposures in the current pool
    exposures: np.ndarray
    reads: np.ndarray
    engaged: np.ndarray          # interactions (like, collect, comment, share, follow)
    ces_w: np.ndarray            # early-weighted CES score: what ranking predicts engagement from
    quality: np.ndarray          # content prior for the predicted engagement of a new note
    likes: np.ndarray            # the public counters, one per interaction kind
    collects: np.ndarray
    comments: np.ndarray
    shares: np.ndarray
    follows: np.ndarray

    # What happened to a note, as opposed to what it is: the fields the rollups keep in State.
    PERSISTED: ClassVar[tuple[str, ...]] = (
        "level", "stopped", "level_exposures", "exposures", "reads", "engaged", "ces_w", "likes", "collects",
        "comments", "shares", "follows")

    def __init__(self, capacity: int = 1024) -> None:
        self.n = 0
        for name, dtype in self._FIELDS.items():
            setattr(self, name, np.zeros(capacity, dtype=dtype))
        self._rows: RowsOf | None = None  # note id → index, rebuilt after notes are added

    def add(self, note_ids: np.ndarray, categories: np.ndarray, created: np.ndarray,
            quality: np.ndarray | float = 0.1, status: np.ndarray | int = PUBLISHED) -> np.ndarray:
        """Register new notes; returns their state indices."""
        k = len(note_ids)
        if self.n + k > len(self.note_id):
            size = max(len(self.note_id) * 2, self.n + k)
            for name in self._FIELDS:
                old = getattr(self, name)
                grown = np.zeros(size, dtype=old.dtype)
                grown[: self.n] = old[: self.n]
                setattr(self, name, grown)
        idx = np.arange(self.n, self.n + k)
        self.note_id[idx] = note_ids
        self.category[idx] = categories
        self.created[idx] = created
        self.quality[idx] = quality
        self.status[idx] = status
        self._rows = None
        self.n += k
        return idx

    def indices(self, note_ids: np.ndarray) -> np.ndarray:
        """State indices of note ids; -1 for unknown ones. One vectorized lookup, rebuilt after notes are
        added: a lookup per event in a dict cost more than the rest of counting it."""
        if self._rows is None:
            self._rows = RowsOf(self.note_id[: self.n])
        return self._rows(note_ids)


def record_events(state: NoteState, idx: np.ndarray, kinds: np.ndarray, at: np.ndarray, spec: PoolSpec) -> np.ndarray:
    """Feed impressions and engagements, at unix times ``at``; rows with ``idx`` -1 (a note this state does
    not hold) and other kinds are skipped. Returns which rows were engagements: they teach interests."""
    known = idx >= 0
    record_impressions(state, idx[known & (kinds == EventKind.IMPRESSION)])
    act = known & np.isin(kinds, _ENGAGEMENT_CODES)
    record_engagements(state, idx[act], kinds[act], at[act], spec)
    return act


def record_impressions(state: NoteState, idx: np.ndarray) -> None:
    np.add.at(state.exposures, idx, 1)
    np.add.at(state.level_exposures, idx, 1)


def record_engagements(state: NoteState, idx: np.ndarray, kinds: np.ndarray, at: np.ndarray, spec: PoolSpec) -> None:
    """Reads and interactions (like, collect, comment, share, follow) at unix times ``at``.

    Counts stay raw: the pool gates need true rates. The early weight goes into the CES score only, so
    a note that catches on in its first hours ranks higher; weighting gate successes but not
    impressions would inflate every new note's rate."""
    w = spec.early_weight((at - state.created[idx]) / 3600.0)
    np.add.at(state.reads, idx[kinds == EventKind.READ], 1)
    ces = np.zeros(len(kinds))
    for kind, weight in spec.ces_weights.items():
        ces[kinds == kind] = weight
    act = ces > 0
    np.add.at(state.engaged, idx[act], 1)
    np.add.at(state.ces_w, idx[act], (w * ces)[act])
    for kind, counter in PUBLIC_COUNTERS.items():
        np.add.at(getattr(state, counter), idx[kinds == kind], 1)


@dataclass(frozen=True)
class PoolChanges:
    promoted: np.ndarray  # state indices
    stopped: np.ndarray


def lower_bound(successes: np.ndarray, trials: np.ndarray, spec: PoolSpec) -> np.ndarray:
    """The (1 - confidence) quantile of the Beta posterior of a rate."""
    a = spec.prior[0] + successes
    b = spec.prior[1] + np.maximum(trials - successes, 0)
    return np.asarray(betaincinv(a, b, 1.0 - spec.confidence))


def update_pools(state: NoteState, spec: PoolSpec, among: np.ndarray | None = None) -> PoolChanges:
    """Judge every note that has used its pool's quota: promote it, or stop its climb. ``among`` limits
    the look to these notes (state indices): a served page can only have filled its own notes' quotas,
    and a scan of every note per request would grow with the catalogue.

    Exposures past a quota carry into the next pool, and a note may climb several pools at once, so the
    outcome does not depend on how events were batched: an engine judging every request and a rollup
    judging a chunk of a thousand agree."""
    quotas = np.asarray(spec.quotas)
    promoted: list[np.ndarray] = []
    stopped: list[np.ndarray] = []
    look = np.arange(state.n) if among is None else distinct(among[among >= 0])
    while True:
        level = state.level[look]
        quota = quotas[np.minimum(level, len(quotas) - 1)]
        due = look[~state.stopped[look] & (level < len(quotas) - 1) & (state.level_exposures[look] >= quota)]
        if len(due) == 0:
            break
        quota = quotas[state.level[due]]
        trials = state.exposures[due]
        read_lb = lower_bound(state.reads[due], trials, spec)
        # 互动率 is interactions over reads: a gate per exposure would ask every note for a read rate of
        # 5% / (interactions per read), i.e. 40–60%, and starve the feed of promoted notes
        engage_lb = lower_bound(state.engaged[due], state.reads[due], spec)
        passed = (read_lb >= spec.read_gate) & (engage_lb >= spec.engage_gate)
        up, stop = due[passed], due[~passed]
        state.level_exposures[up] -= quota[passed]
        state.level[up] += 1
        state.stopped[stop] = True
        promoted.append(up)
        stopped.append(stop)
    empty = np.empty(0, dtype=np.int64)
    return PoolChanges(np.unique(np.concatenate([empty, *promoted])), np.concatenate([empty, *stopped]))


@dataclass(frozen=True)
class FeedIndex:
    """Per-category candidate lists at one moment: promoted notes ranked, trial notes to explore."""

    ranked: np.ndarray       # (categories, window) state indices, -1 padded, best first
    ranked_count: np.ndarray  # (categories,)
    trial: np.ndarray        # trial-note state indices grouped by category
    trial_start: np.ndarray  # (categories + 1,) offsets into ``trial``
    note_id: np.ndarray      # state index → note id, at build time
    room: np.ndarray         # state index → exposures left in its pool's quota

    @classmethod
    def build(cls, state: NoteState, now: float, spec: PoolSpec) -> FeedIndex:
        n = state.n
        level, cat = state.level[:n], state.category[:n].astype(np.int64)
        quota = np.asarray(spec.quotas)[level]
        open_ = (state.status[:n] == PUBLISHED) & ~state.stopped[:n] & (state.level_exposures[:n] < quota)
        # Predicted engagement: early-weighted CES per exposure, shrunk to the content prior; then freshness.
        strength = 20.0
        predicted = (state.quality[:n] * strength + state.ces_w[:n]) / (strength + state.exposures[:n])
        freshness = np.exp(-np.maximum(now - state.created[:n], 0) / 86_400.0 / spec.freshness_days)
        score = predicted * freshness
        promoted = np.flatnonzero(open_ & (level >= 1))
        order = promoted[np.lexsort((-score[promoted], cat[promoted]))]
        starts = np.searchsorted(cat[order], np.arange(N_CATEGORIES + 1))
        counts = np.minimum(np.diff(starts), spec.window)
        ranked = np.full((N_CATEGORIES, spec.window), -1, dtype=np.int64)
        cols = np.arange(spec.window)
        take = cols[None, :] < counts[:, None]
        ranked[take] = order[(starts[:-1, None] + cols[None, :])[take]]
        trial = np.flatnonzero(open_ & (level == 0))
        trial = trial[np.argsort(cat[trial], kind="stable")]
        trial_start = np.searchsorted(cat[trial], np.arange(N_CATEGORIES + 1))
        room = np.where(open_, quota - state.level_exposures[:n], 0)
        return cls(ranked, counts, trial, trial_start, state.note_id[:n].copy(), room)


class SeenFilter:
    """Which notes each consumer saw lately: two rotating hashed bitsets per consumer, so a note does not
    repeat within ``no_repeat_days`` (and may again after twice that). A false positive only skips a note."""

    BITS = 1024

    def __init__(self, consumers: int, spec: PoolSpec) -> None:
        self._bits = np.zeros((2, consumers, self.BITS // 8), dtype=np.uint8)
        self._period = spec.no_repeat_days * 86_400
        self._epoch: int | None = None

    @property
    def consumers(self) -> int:
        return int(self._bits.shape[1])

    def grow(self, consumers: int) -> None:
        """Make room for more consumers (new ones have seen nothing)."""
        if consumers > self.consumers:
            grown = np.zeros((2, consumers, self.BITS // 8), dtype=np.uint8)
            grown[:, : self.consumers] = self._bits
            self._bits = grown

    def _rotate(self, now: float) -> int:
        epoch = int(now // self._period)
        if self._epoch is None:
            self._epoch = epoch
        while self._epoch < epoch:  # a new window: forget the older of the two
            self._epoch += 1
            self._bits[self._epoch % 2] = 0
        return epoch % 2

    def window(self, now: float) -> tuple[np.ndarray, int]:
        """The bitsets, (2, consumers, BITS / 8) bytes, and which of the two is current at ``now``: a note
        is seen when its bit is set in either, and marked in the current one. Its bit is a multiplicative
        hash of its row (BITS is a power of two)."""
        return self._bits, self._rotate(now)


@dataclass(frozen=True)
class FeedBatch:
    """Flat arrays, one row per filled slot, in request order then position."""

    request: np.ndarray     # row of the request in the batch
    consumer: np.ndarray
    note_idx: np.ndarray
    note_id: np.ndarray
    position: np.ndarray    # 1-based
    propensity: np.ndarray  # probability the policy put this note in this slot
    explore: np.ndarray     # a trial slot
    policy: str = POLICY


def serve_feed(index: FeedIndex, consumers: np.ndarray, n: int, interests: np.ndarray, seen: SeenFilter,
               now: float, rng: np.random.Generator, spec: PoolSpec) -> FeedBatch:
    """Fill ``n`` slots for each consumer: categories by the consumer's interests, a note from the
    category's ranked window (or, for an exploration slot, from its trial notes), no repeats."""
    r, m = len(consumers), n * spec.oversample
    # Interest over the categories that have something to show: slots are never spent on empty ones.
    available = (index.ranked_count + np.diff(index.trial_start)) > 0
    p = interests[consumers].astype(np.float64) * available[None, :]
    p /= np.maximum(p.sum(axis=1, keepdims=True), 1e-300)
    draw, explore, u = rng.random((r, m)), rng.random((r, m)), rng.random((r, m))
    bits, window = seen.window(now)
    rows, note, position, propensity, explored = _fill(
        n, np.cumsum(p, axis=1), p, draw, explore, u, spec.exploration, index.ranked, index.ranked_count,
        index.trial, index.trial_start, index.room, bits, window, np.asarray(consumers, dtype=np.int64))
    return FeedBatch(rows, consumers[rows], note, index.note_id[note], position, propensity.astype(np.float32),
                     explored)


@kernel
def _fill(n: int, cum: np.ndarray, p: np.ndarray, draw: np.ndarray, explore: np.ndarray, u: np.ndarray,
          exploration: float, ranked: np.ndarray, ranked_count: np.ndarray, trial: np.ndarray,
          trial_start: np.ndarray, room: np.ndarray, bits: np.ndarray, window: int,
          consumers: np.ndarray) -> tuple[np.ndarray, ...]:
    """Each request's candidates in turn: the slot's category where its draw falls in the interest CDF, an
    exploitation pick uniform in the category's ranked window or a trial pick uniform among its trial
    notes, skipped when seen lately, already picked for the request, or past the note's pool quota
    (counted in request order over the batch); the first ``n`` that pass fill the page. Candidates past a
    full page still count against their notes' quotas: stopping at a full page collapsed a million
    consumers' feed within hours (1.65M impressions in two days, against 14.3M), likely because notes then
    fill a quota inside one batch and are judged before the engagement it brings is counted. The notes
    shown are then marked seen in the current window."""
    r, m = draw.shape
    last_category, depth_cap = cum.shape[1] - 1, ranked.shape[1]
    last_trial = max(len(trial) - 1, 0)
    mask = np.uint64(bits.shape[2] * 8 - 1)  # a bit per hashed note row, BITS a power of two
    taken = np.zeros(len(room), dtype=np.int64)
    picked = np.empty(m, dtype=np.int64)
    out_row = np.empty(r * n, dtype=np.int64)
    out_note = np.empty(r * n, dtype=np.int64)
    out_position = np.empty(r * n, dtype=np.int64)
    out_propensity = np.empty(r * n)
    out_explore = np.empty(r * n, dtype=np.bool_)
    k = 0
    for i in range(r):
        consumer, count, filled = consumers[i], 0, 0
        for j in range(m):
            cat = 0
            while cat < last_category and cum[i, cat] < draw[i, j]:
                cat += 1
            depth = ranked_count[cat]
            t0, tn = trial_start[cat], trial_start[cat + 1] - trial_start[cat]
            trying = explore[i, j] < exploration or depth == 0
            if not trying:
                note = ranked[cat, min(int(u[i, j] * depth), depth_cap - 1)]
            elif tn > 0 and len(trial) > 0:
                note = trial[min(t0 + int(u[i, j] * tn), last_trial)]
            else:
                continue
            h = (np.uint64(note) * np.uint64(2654435761)) & mask
            byte, bit = h >> np.uint64(3), np.uint8(1) << np.uint8(h & np.uint64(7))
            if (bits[0, consumer, byte] | bits[1, consumer, byte]) & bit:
                continue
            again = False
            for q in range(count):
                if picked[q] == note:
                    again = True
                    break
            if again:
                continue
            picked[count] = note
            count += 1
            allowed = taken[note] < room[note]
            taken[note] += 1
            if not allowed:
                continue
            filled += 1
            if filled > n:
                continue
            share = (1.0 if depth == 0 else exploration) / max(tn, 1) if trying else (1 - exploration) / max(depth, 1)
            out_row[k], out_note[k], out_position[k] = i, note, filled
            out_propensity[k], out_explore[k] = share * p[i, cat], trying
            k += 1
    for q in range(k):
        h = (np.uint64(out_note[q]) * np.uint64(2654435761)) & mask
        consumer = consumers[out_row[q]]
        bits[window, consumer, h >> np.uint64(3)] |= np.uint8(1) << np.uint8(h & np.uint64(7))
    return out_row[:k], out_note[:k], out_position[:k], out_propensity[:k], out_explore[:k]
