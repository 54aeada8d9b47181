"""Creator discovery: filter the creator snapshot and rank creators by fit to a brief, each with its
explanation.

The snapshot is held as columns (one array per field, an audience matrix), so a query over 100,000
creators is a handful of vectorized masks and one partial sort. Fit adds four parts, each 0..1:
- topic: the share of the creator's recent notes in the brief's category (the home category counts
  for half when the notes say little);
- audience: the overlap of the creator's real audience with the brand's target, dimension by dimension;
- cost: expected cost per engagement against the field's ¥10 "good" mark (FIELD_FACTS §6);
- authenticity: the score over 100.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from zhongcao.content import CODE
from zhongcao.core import Invalid, Runtime
from zhongcao.market.analytics import TIERS
from zhongcao.market.audience import DIMENSIONS
from zhongcao.market.models import CollaborationRow, CreatorStatsRow
from zhongcao.market.planner import Candidates

WEIGHTS = {"topic": 0.35, "audience": 0.25, "cost": 0.25, "authenticity": 0.15}
GOOD_CPE_FEN = 1_000  # ¥10 per engagement is "good" (FIELD_FACTS §6)
DEAL_STATES = ("published", "settled")
SORTS = ("fit", "followers", "engagement", "cost_per_engagement", "authenticity")
COLUMNS = tuple((d, v) for d, values in DIMENSIONS.items() for v in values)
MAX_LIMIT = 200


@dataclass(frozen=True)
class Query:
    category: str | None = None
    regions: Sequence[str] = ()
    gender: str | None = None
    followers_min: int | None = None
    followers_max: int | None = None
    price_min_fen: int | None = None
    price_max_fen: int | None = None
    format: str = "image"
    tiers: Sequence[str] = ()
    koc: bool | None = None
    audience_min: Mapping[str, float] = field(default_factory=dict)  # "dimension.value" → minimum share
    min_authenticity: int = 0
    exclude_brands: Sequence[int] = ()
    exclude_days: int = 90
    target: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # the brand's audience
    sort: str = "fit"
    limit: int = 20
    offset: int = 0


@dataclass(frozen=True)
class Match:
    creator_id: int
    rank: int
    fit: float
    parts: dict[str, float]
    explanation: list[str]
    stats: dict[str, Any]
    authenticity: int
    reasons: list[str]


@dataclass(frozen=True)
class Page:
    total: int
    items: list[Match]


def _bad(field_: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_discovery", detail, field=field_, allowed=allowed)


class CreatorIndex:
    """The snapshot as columns; build once per refresh (``load``) and query many times."""

    def __init__(self, rows: Sequence[tuple[int, dict[str, Any], int, list[str]]]) -> None:
        self.ids = np.array([r[0] for r in rows], dtype=np.int64)
        self.stats = [r[1] for r in rows]
        self.reasons = [r[3] for r in rows]
        self.authenticity = np.array([r[2] for r in rows], dtype=np.int16)
        st = self.stats
        self.category = np.array([CODE.get(s["category"], -1) for s in st], dtype=np.int16)
        self.region = np.array([s["region"] for s in st], dtype=object)
        self.gender = np.array([s["gender"] for s in st], dtype=object)
        self.followers = np.array([s["followers"] for s in st], dtype=np.int64)
        self.price = {"image": np.array([s["quote_image_fen"] for s in st], dtype=np.int64),
                      "video": np.array([s["quote_video_fen"] for s in st], dtype=np.int64)}
        self.tier = np.array([[t for t, _ in TIERS].index(s["tier"]) for s in st], dtype=np.int8)
        self.koc = np.array([s["koc"] for s in st], dtype=bool)
        self.engagements = np.array([s["median_engagements"] for s in st], dtype=np.float64)
        self.exposures = np.array([s["median_exposures"] for s in st], dtype=np.float64)
        self.reads = np.array([s["median_reads"] for s in st], dtype=np.float64)
        self.real_share = np.array([1.0 - (s["fake_share"] or 0.0) for s in st], dtype=np.float64)
        self.audience = np.array([[((s["audience"] or {}).get(d) or {}).get(v, np.nan) for d, v in COLUMNS]
                                  for s in st], dtype=np.float64).reshape(len(st), len(COLUMNS))
        self.topic = np.array([[s["category_shares"].get(c, 0.0) for c, _ in _codes()] for s in st],
                              dtype=np.float32).reshape(len(st), len(_codes()))

    @classmethod
    def load(cls, rt: Runtime) -> CreatorIndex:
        with rt.db.read() as s:
            rows = s.execute(select(CreatorStatsRow.creator_id, CreatorStatsRow.stats, CreatorStatsRow.authenticity,
                                    CreatorStatsRow.reasons).order_by(CreatorStatsRow.creator_id)).all()
        return cls([tuple(r) for r in rows])

    def search(self, q: Query, *, excluded: np.ndarray | None = None) -> Page:
        mask = self._filter(q)
        if excluded is not None and len(excluded):
            mask &= ~np.isin(self.ids, excluded)
        rows = np.flatnonzero(mask)
        parts = self._parts(q, rows)
        fit = sum((WEIGHTS[k] * parts[k] for k in WEIGHTS), np.zeros(len(rows)))
        key = {"fit": -fit, "followers": -self.followers[rows], "engagement": -self.engagements[rows],
               "cost_per_engagement": self._cpe(q, rows), "authenticity": -self.authenticity[rows].astype(np.float64)
               }[q.sort]
        end = min(q.offset + q.limit, len(rows))
        if end <= q.offset:
            return Page(len(rows), [])
        top = np.argpartition(key, end - 1)[:end] if end < len(rows) else np.arange(len(rows))
        top = top[np.lexsort((self.ids[rows][top], key[top]))][q.offset:end]
        items = [Match(int(self.ids[rows[j]]), q.offset + k + 1, round(float(fit[j]), 4),
                       {p: round(float(parts[p][j]), 4) for p in WEIGHTS}, self._explain(q, rows[j], parts, j),
                       self.stats[rows[j]], int(self.authenticity[rows[j]]), self.reasons[rows[j]])
                 for k, j in enumerate(top)]
        return Page(len(rows), items)

    def candidates(self, q: Query, *, excluded: np.ndarray | None = None) -> Candidates:
        """Every creator the query admits, as the planner's columns (audience fit against its target)."""
        mask = self._filter(q)
        if excluded is not None and len(excluded):
            mask &= ~np.isin(self.ids, excluded)
        rows = np.flatnonzero(mask)
        return Candidates(self.ids[rows], self.tier[rows], self.koc[rows], self.price[q.format][rows],
                          self.exposures[rows], self.reads[rows], self.engagements[rows], self.real_share[rows],
                          self._parts(q, rows)["audience"])

    def _filter(self, q: Query) -> np.ndarray:
        mask = np.ones(len(self.ids), dtype=bool)
        if q.category is not None:
            mask &= (self.category == CODE[q.category]) | (self.topic[:, CODE[q.category]] >= 0.2)
        if q.regions:
            mask &= np.isin(self.region, list(q.regions))
        if q.gender is not None:
            mask &= self.gender == q.gender
        if q.followers_min is not None:
            mask &= self.followers >= q.followers_min
        if q.followers_max is not None:
            mask &= self.followers <= q.followers_max
        price = self.price[q.format]
        if q.price_min_fen is not None:
            mask &= price >= q.price_min_fen
        if q.price_max_fen is not None:
            mask &= (price <= q.price_max_fen) & (price > 0)
        if q.tiers:
            names = [t for t, _ in TIERS]
            mask &= np.isin(self.tier, [names.index(t) for t in q.tiers])
        if q.koc is not None:
            mask &= self.koc == q.koc
        for key, minimum in q.audience_min.items():
            mask &= np.nan_to_num(self.audience[:, COLUMNS.index(tuple(key.split(".", 1)))], nan=0.0) >= minimum
        if q.min_authenticity:
            mask &= self.authenticity >= q.min_authenticity
        return mask

    def _cpe(self, q: Query, rows: np.ndarray) -> np.ndarray:
        price = self.price[q.format][rows].astype(np.float64)
        return np.where(self.engagements[rows] > 0, price / np.maximum(self.engagements[rows], 1e-9), np.inf)

    def _parts(self, q: Query, rows: np.ndarray) -> dict[str, np.ndarray]:
        if q.category is not None:
            c = CODE[q.category]
            topic = np.maximum(self.topic[rows, c], np.where(self.category[rows] == c, 0.5, 0.0))
        else:
            topic = np.ones(len(rows))
        if q.target:
            overlaps = []
            for dim, wanted in q.target.items():
                cols = np.array([COLUMNS.index((dim, v)) for v in DIMENSIONS[dim]])
                want = np.array([wanted.get(v, 0.0) for v in DIMENSIONS[dim]])
                want = want / want.sum() if want.sum() else want
                overlaps.append(np.minimum(np.nan_to_num(self.audience[np.ix_(rows, cols)], nan=0.0), want).sum(axis=1))
            audience = np.mean(overlaps, axis=0)
        else:
            audience = np.ones(len(rows))
        cpe = self._cpe(q, rows)
        cost = np.where(np.isfinite(cpe), 1.0 / (1.0 + cpe / GOOD_CPE_FEN), 0.0)
        return {"topic": topic.astype(np.float64), "audience": audience, "cost": cost,
                "authenticity": self.authenticity[rows] / 100.0}

    def _explain(self, q: Query, row: int, parts: dict[str, np.ndarray], j: int) -> list[str]:
        st = self.stats[row]
        said = []
        if q.category is not None:
            share = st["category_shares"].get(q.category, 0.0)
            said.append(f"topic {parts['topic'][j]:.2f}: {share:.0%} of recent notes are {q.category}"
                        + (", their home category" if st["category"] == q.category else ""))
        if q.target:
            said.append(f"audience {parts['audience'][j]:.2f}: overlap of real followers with the target")
        cost = self._cpe(q, np.array([row]))[0]
        said.append(f"cost {parts['cost'][j]:.2f}: about ¥{cost / 100:.2f} per engagement" if np.isfinite(cost)
                    else "cost 0.00: no engagement on record to price")
        said.append(f"authenticity {int(self.authenticity[row])}/100"
                    + (f": {self.reasons[row][0]}" if self.reasons[row] and self.authenticity[row] < 90 else ""))
        return said


class IndexCache:
    """The index a server queries, reloaded when a refresh wrote a newer snapshot (checked at most every
    ``check_seconds``), so discovery never waits on State for more than one cheap query."""

    def __init__(self, rt: Runtime, check_seconds: float = 5.0) -> None:
        self.rt = rt
        self.check_seconds = check_seconds
        self._index: CreatorIndex | None = None
        self._stamp: object = None
        self._checked = -1e18
        self._lock = threading.Lock()

    def get(self) -> CreatorIndex:
        now = time.monotonic()
        with self._lock:
            if self._index is None or now - self._checked >= self.check_seconds:
                self._checked = now
                with self.rt.db.read() as s:
                    stamp = s.execute(select(func.max(CreatorStatsRow.computed_at), func.count())).one()
                if self._index is None or tuple(stamp) != self._stamp:
                    self._index, self._stamp = CreatorIndex.load(self.rt), tuple(stamp)
            return self._index


def _codes() -> list[tuple[str, int]]:
    return sorted(CODE.items(), key=lambda kv: kv[1])


def check(q: Query) -> Query:
    """The query, or the refusal naming the first field out of bounds."""
    if q.category is not None and q.category not in CODE:
        raise _bad("category", f"{q.category!r} is not a category", sorted(CODE))
    if q.format not in ("image", "video"):
        raise _bad("format", "a price is for an image or a video note", ["image", "video"])
    names = [t for t, _ in TIERS]
    for t in q.tiers:
        if t not in names:
            raise _bad("tiers", f"{t!r} is not a tier", names)
    for key in q.audience_min:
        if tuple(key.split(".", 1)) not in COLUMNS:
            raise _bad("audience_min", f"{key!r} is not an audience value", [f"{d}.{v}" for d, v in COLUMNS])
    for dim, wanted in q.target.items():
        if dim not in DIMENSIONS or any(v not in DIMENSIONS[dim] for v in wanted):
            raise _bad("target", f"{dim!r} targeting names unknown values", {d: list(v) for d, v in DIMENSIONS.items()})
    if q.sort not in SORTS:
        raise _bad("sort", f"{q.sort!r} is not a sort", list(SORTS))
    if not 1 <= q.limit <= MAX_LIMIT or q.offset < 0:
        raise _bad("limit", "a page is 1 to 200 creators from a non-negative offset", f"1..{MAX_LIMIT}")
    if not 0 <= q.min_authenticity <= 100:
        raise _bad("min_authenticity", "authenticity runs from 0 to 100", "0..100")
    return q


def recent_deals(rt: Runtime, brand_ids: Sequence[int], days: int) -> np.ndarray:
    """Creators with a declared (published) deal with any of the brands in the last ``days`` days."""
    if not brand_ids:
        return np.zeros(0, dtype=np.int64)
    with rt.db.read() as s:
        found = s.scalars(select(CollaborationRow.creator_id).where(
            CollaborationRow.brand_id.in_(list(brand_ids)), CollaborationRow.state.in_(DEAL_STATES),
            CollaborationRow.published_at >= rt.now() - timedelta(days=days)).distinct()).all()
    return np.array(sorted(found), dtype=np.int64)


def discover(rt: Runtime, index: CreatorIndex, q: Query) -> Page:
    check(q)
    return index.search(q, excluded=recent_deals(rt, q.exclude_brands, q.exclude_days))
