"""The ad engine a process runs: its book, delivery state and leases, kept in step with State, and the
feed and search pages with ads placed into them.

- The book is rebuilt when plans change; learned rates, pacing spend and frequency carry over by id.
- Events: every ad slot shown is an ``ad_impression`` (price, slot, policy, propensity); a click is an
  ``ad_click`` and, when charged, an ``ad_charge`` with its lease. Engines tail the outbox for them, so
  rates and pacing learn from every process's traffic.
- Feed ads take positions 4, 14, 24, … of a page (``AdSlots``); search ads 3, 13, 23, … The organic
  items flow around them. An ad item carries ``{unit_id, creative_id, click_id}``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
import pyarrow as pa
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError

from zhongcao.accounts import Actor
from zhongcao.ads import plans
from zhongcao.ads.book import Book, day_budget, day_start, load_book, plan_version, positions
from zhongcao.ads.clicks import ClickToken, click_key, load_secret, sign, verify
from zhongcao.ads.delivery import AdRequests, Decisions, Delivery, DeliverySpec, ad_positions
from zhongcao.ads.diagnosis import Traffic, diagnose_units, reason, schedule_reasons
from zhongcao.ads.enums import AGE_BUCKETS, DEVICES, GENDERS, Status
from zhongcao.ads.models import AdClick
from zhongcao.ads.pacing import schedule_mask
from zhongcao.ads.purse import Purse, PurseSpec
from zhongcao.ads.targeting import UNKNOWN, Audience
from zhongcao.billing import cap_used_today, get_wallet
from zhongcao.content import ContentEngine
from zhongcao.core import Runtime, in_lists
from zhongcao.events import EventIds, EventKind, Surface, Tailed, enqueue, id_node, make_batch, tail
from zhongcao.events import id_column as ids_of

LOOKBACK_S = 5
CONVERSIONS = [EventKind.ORDER, EventKind.LEAD]  # what pCVR and per-result bidding count as results
_SYSTEM = Actor.system()
_CLICKS = cast(Table, AdClick.__table__)

log = logging.getLogger("zhongcao.ads")


@dataclass(frozen=True)
class AdSlots:
    """Where feed ads stand (configurable: ``ZHONGCAO_FEED_FIRST_AD``, ``ZHONGCAO_FEED_AD_EVERY``). Search
    ad positions are the content engine's ``RankSpec``: the organic ranking reserves them."""

    feed_first: int = 4
    feed_every: int = 10

    def __post_init__(self) -> None:
        if self.feed_first < 1 or self.feed_every < 1:
            raise ValueError(f"AdSlots: feed_first and feed_every must be >= 1, not {self}")


def _nulls_for_zero(keyword_id: np.ndarray) -> np.ndarray | pa.Array | None:
    """The keyword column as events keep it: null where no keyword triggered the ad (all of the feed)."""
    if not keyword_id.any():
        return None
    return keyword_id if keyword_id.all() else pa.array(keyword_id, mask=keyword_id == 0)


@dataclass(frozen=True)
class Viewer:
    """What a request says about the person it serves, for targeting; anything unsaid is unknown, and a
    unit that restricts that dimension does not serve them."""

    device: str | None = None  # ios | android
    city: str | None = None
    gender: str | None = None  # male | female
    age: int | None = None     # years


@dataclass(frozen=True)
class Viewers:
    """Who asks, request by request, as codes (``UNKNOWN`` where not said): a batch of ``Viewer``."""

    consumer: np.ndarray  # consumer ids, 0 for anonymous
    gender: np.ndarray    # index into GENDERS
    age: np.ndarray       # index into AGE_BUCKETS
    device: np.ndarray    # index into DEVICES
    city: list[str | None]

    @classmethod
    def of(cls, consumer_id: int, viewer: Viewer) -> Viewers:
        return cls(np.array([consumer_id], dtype=np.int64),
                   np.array([GENDERS.index(viewer.gender) if viewer.gender in GENDERS else UNKNOWN]),
                   np.array([age_bucket(viewer.age)]),
                   np.array([DEVICES.index(viewer.device) if viewer.device in DEVICES else UNKNOWN]), [viewer.city])


@dataclass(frozen=True)
class AdBatch:
    """The ads served to a batch of requests: one row per ad, in request order then rank."""

    request: np.ndarray
    consumer: np.ndarray
    position: np.ndarray     # the ad's rank among its page's ads, 1 first
    campaign_id: np.ndarray
    unit_id: np.ndarray
    creative_id: np.ndarray
    note_id: np.ndarray
    keyword_id: np.ndarray   # 0 in feed
    price_fen: np.ndarray    # what a click costs; 0 for CPM ads (their impressions pay)
    impression_id: np.ndarray
    surface: Surface
    at: int                  # unix seconds
    url: list[str | None]    # the landing page, if the creative has one

    def token(self, i: int) -> ClickToken:
        """What a click on ad ``i`` carries."""
        return ClickToken(int(self.impression_id[i]), int(self.consumer[i]), int(self.campaign_id[i]),
                          int(self.unit_id[i]), int(self.creative_id[i]), int(self.note_id[i]),
                          int(self.keyword_id[i]), int(self.price_fen[i]), self.at, self.surface.value,
                          int(self.position[i]))


def age_bucket(age: int | None) -> int:
    """The platform's age bucket (18–22, 23–27, 28–32, 32+) of an age in years; under 18 is unknown."""
    if age is None or age < 18:
        return UNKNOWN
    return min((age - 18) // 5, len(AGE_BUCKETS) - 1)


@dataclass(frozen=True)
class AdRef:
    unit_id: int
    creative_id: int
    click_id: str
    link: str | None = None  # a landing page's tracked link: the click id rides along to the shop


@dataclass(frozen=True)
class FeedEntry:
    note_id: int
    position: int
    explore: bool       # an organic trial slot
    propensity: float   # the probability the serving policy put this item here
    ad: AdRef | None = None


@dataclass(frozen=True)
class FeedWithAds:
    consumer_id: int
    policy: str  # the organic policy; an ad item's propensity is under the ads policy
    items: list[FeedEntry]


@dataclass(frozen=True)
class SearchEntry:
    note_id: int
    position: int
    score: float | None
    ad: AdRef | None = None


@dataclass(frozen=True)
class SearchWithAds:
    query: str
    page: int
    total: int            # organic matches
    items: list[SearchEntry]
    ad_positions: list[int]  # where ads may stand on this page; unsold ones hold organic results
    next_offset: int         # pass as ``offset`` with the next page to continue the organic results exactly


@dataclass(frozen=True)
class UnitStatus:
    unit_id: int
    serving: bool
    reasons: list[dict[str, Any]]


@dataclass(frozen=True)
class DeliveryStatus:
    """Why a campaign is or is not spending: campaign-level reasons stop every unit."""

    campaign_id: int
    serving: bool
    reasons: list[dict[str, Any]]
    units: list[UnitStatus]


@dataclass(frozen=True)
class ClickResult:
    click_id: str
    charged_fen: int
    # charged; repeat (this consumer paid for this creative today); unfunded (no lease could pay);
    # cpm (the campaign pays for impressions, so clicks are free)
    outcome: str


@dataclass(frozen=True)
class AdEvents:
    """A batch's ad events (impressions, clicks, charges, conversions) as the columns learning reads."""

    kind: np.ndarray
    creative: np.ndarray
    consumer: np.ndarray
    node: np.ndarray  # the process that recorded each event
    price_fen: np.ndarray

    @classmethod
    def of(cls, ev: pa.Table) -> AdEvents | None:
        kind = ev.column("kind").to_numpy()
        ads = np.isin(kind, [EventKind.AD_IMPRESSION, EventKind.AD_CLICK, EventKind.AD_CHARGE, *CONVERSIONS])
        if not ads.any():
            return None
        return cls(kind[ads], ids_of(ev, "creative_id")[ads], ids_of(ev, "consumer_id")[ads],
                   id_node(ids_of(ev, "event_id")[ads]), ids_of(ev, "price_fen")[ads])


@dataclass
class AdEngine:
    rt: Runtime
    content: ContentEngine
    spec: DeliverySpec = field(default_factory=DeliverySpec)
    slots: AdSlots | None = None
    purse_spec: PurseSpec = field(default_factory=PurseSpec)
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    def __post_init__(self) -> None:
        if self.slots is None:
            self.slots = AdSlots(self.rt.settings.feed_first_ad, self.rt.settings.feed_ad_every)
        self._lock = threading.RLock()
        self.holder = f"ads:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.purse = Purse(self.rt, self.holder, self.purse_spec)
        self.delivery: Delivery | None = None
        self.traffic = Traffic()
        self._key: bytes | None = None
        self._events_mark = self.rt.now()
        self._applied: dict[int, datetime] = {}
        self._need: tuple[object, np.ndarray] | None = None
        # CPM impressions served and not yet charged, in millifen (a fen per thousand impressions is a
        # millifen each), by (campaign, unit, creative, keyword): charged in whole fen at each sync.
        self._owed: dict[tuple[int, int, int, int], int] = {}
        self._owed_lock = threading.Lock()

    # -- keeping in step with State ------------------------------------------------------------------
    def sync(self) -> None:
        """Reads and writes happen outside the engine's lock, so requests never queue behind the database;
        only applying what was read takes the lock, briefly."""
        self.content.flush()  # this process's own ad events reach the tail below with everyone's
        current = self.delivery
        book = load_book(self.rt) if current is None or plan_version(self.rt) != current.book.version else None
        batches = tail(self.rt, self._events_mark - timedelta(seconds=LOOKBACK_S), skip=self._applied)
        # Columns out of the batches before the lock: a feed request waits on the lock with the event loop
        # held, and other processes' events are most of what a sync reads.
        lessons = [(batch, AdEvents.of(batch.events)) for batch in batches]
        with self._lock:
            if book is not None:
                self._rebuild(book)
            d = self.delivery
            assert d is not None
            if d.book.units:
                d.tune(quality=self.content.note_quality(d.book.creative_note[d._scores()[1]]))
            self._tail(lessons)
            d.steer()
            need = self._dearest_click(d)
        self._charge_impressions(d.book)
        self.purse.refill(d.book.campaign_id, d.book.campaign_account, d.book.budget_fen, need)

    def _rebuild(self, book: Book) -> None:
        new = Delivery(book, self.spec)
        old = self.delivery
        if old is not None:  # carry what was learned over to the new book, by id
            src = positions(old.book.creative_id, book.creative_id)
            have = src >= 0
            if have.any():
                new.estimates.record(np.flatnonzero(have), old.estimates.impressions[src[have]],
                                     old.estimates.clicks[src[have]], old.estimates.conversions[src[have]])
            unit = positions(old.book.unit_id, book.unit_id)
            if (unit >= 0).any():
                new.multiplier[unit >= 0] = old.multiplier[unit[unit >= 0]]
            camp = positions(old.book.campaign_id, book.campaign_id)
            new.pacer.spent[camp >= 0] = old.pacer.spent[camp[camp >= 0]]
            new.frequency = old.frequency
        self.delivery = new

    def _dearest_click(self, d: Delivery) -> np.ndarray:
        """Per campaign, its units' highest bid per click, a keyword's own bid included, at the quick-cast
        coefficient: what a lease must hold for the campaign to enter auctions. Kept while the scores it
        comes from are the same object, so the purse can keep its answer too."""
        scores = d._scores()
        if self._need is not None and self._need[0] is scores:
            return self._need[1]
        b = d.book
        # A manual unit's keyword bids stand in for its own bid, scaled as search scales them (delivery._search).
        keyword = np.where(b.auto, 0.0, b.keyword_bid_fen * np.where(b.per_result, scores[2] / np.maximum(
            b.bid_fen, 1), 1.0))
        per_click = np.ceil(np.maximum(scores[2], keyword) * np.maximum(b.search_coefficient[b.unit_campaign], 1.0))
        need = np.ones(len(b.campaign_id))
        np.maximum.at(need, b.unit_campaign, per_click)
        self._need = (scores, need.astype(np.int64))
        return self._need[1]

    def _tail(self, lessons: list[tuple[Tailed, AdEvents | None]]) -> None:
        """Learn from every process's ad events: impressions and clicks teach the rates, charges the pacer."""
        d = self.delivery
        assert d is not None
        for batch, events in lessons:
            if batch.batch_id in self._applied:
                continue
            self._applied[batch.batch_id] = batch.created_at
            self._events_mark = max(self._events_mark, batch.created_at)
            if events is not None:
                self._learn(d, events)
        horizon = self._events_mark - timedelta(seconds=2 * LOOKBACK_S)
        self._applied = {i: at for i, at in self._applied.items() if at >= horizon}

    def learn(self, events: pa.Table) -> None:
        """Learn from this process's own ad events when they skip the outbox (a ``Buffer`` sink's, the
        simulator's): the tail never sees those, and estimates would count clicks without impressions."""
        lesson = AdEvents.of(events)
        if lesson is None:
            return
        with self._lock:
            if self.delivery is not None:
                self._learn(self.delivery, lesson)

    def _learn(self, d: Delivery, ev: AdEvents) -> None:
        idx = positions(d.book.creative_id, ev.creative)
        k = ev.kind
        known = idx >= 0
        imp, clk = (k == EventKind.AD_IMPRESSION) & known, (k == EventKind.AD_CLICK) & known
        # Frequency caps count every process's impressions: this one's when it served them, others' here.
        elsewhere = imp & (ev.node != self.ids.node)
        if elsewhere.any():
            unit = d.book.creative_unit[idx[elsewhere]]
            d.frequency.add(ev.consumer[elsewhere], d.book.unit_id[unit])
        d.estimates.record(idx[imp | clk], imp[imp | clk].astype(float), clk[imp | clk].astype(float),
                           np.zeros(int((imp | clk).sum())))
        charge = (k == EventKind.AD_CHARGE) & known
        if charge.any():
            unit = d.book.creative_unit[idx[charge]]
            price = ev.price_fen[charge].astype(float)
            d.pacer.record(d.book.unit_campaign[unit], price)
            d.bidder.observe(unit, price, np.zeros(len(unit)))
        converted = np.isin(k, CONVERSIONS) & known
        if converted.any():  # postbacks: the conversion rate learns, and per-result bidders see results
            d.estimates.record(idx[converted], np.zeros(int(converted.sum())), np.zeros(int(converted.sum())),
                               np.ones(int(converted.sum())))
            unit = d.book.creative_unit[idx[converted]]
            unit = unit[d.book.per_result[unit]]
            d.bidder.observe(unit, np.zeros(len(unit)), np.ones(len(unit)))
        clicked = d.book.creative_unit[idx[clk]]
        clicked = clicked[~d.book.per_result[clicked]]  # a click is the result; conversions report separately
        d.bidder.observe(clicked, np.zeros(len(clicked)), np.ones(len(clicked)))

    @property
    def ids(self) -> EventIds:
        """The process's event ids: the content engine's generator, on the node it leases and keeps alive."""
        return self.content.ids

    @property
    def key(self) -> bytes:
        if self._key is None:
            self._key = load_secret(self.rt)
        return self._key

    # -- serving --------------------------------------------------------------------------------------
    def _decide(self, viewers: Viewers, search: np.ndarray, queries: list[str],
                slots: np.ndarray) -> tuple[Delivery, Decisions, np.ndarray]:
        """The auctions of a batch of requests; the impression ids of their winners."""
        if self.delivery is None:
            self.sync()
        interests = self.content.interest_flags(viewers.consumer, 3)  # the content engine's lock, not ours
        with self._lock:
            d = self.delivery
            assert d is not None
            # city codes belong to the book: code the cities against the one that decides
            audience = Audience(viewers.gender, viewers.age, viewers.device, d.book.targeting.city_code(viewers.city),
                                interests, viewers.consumer)
            funded = self.purse.funded(d.book.campaign_id, self._dearest_click(d))
            req = AdRequests(viewers.consumer, audience, search, queries, slots)
            out = d.decide(req, self.rt.now().timestamp(), funded, self.rng)
            out = self._affordable(d, req, out, funded)
            self.traffic.seen(req.audience, out.ecpm)
        return d, out, self.ids.take(len(out.unit))

    def _affordable(self, d: Delivery, req: AdRequests, out: Decisions, funded: np.ndarray) -> Decisions:
        """A batch's winners, within what each campaign's lease can pay. ``funded`` lets a campaign into a
        batch's auctions; winning the batch's every slot could cost it more than its lease holds, and the
        clicks past that would be free (no lease to charge: never an overspend, but sold for nothing). So
        each campaign's wins are summed at their expected cost in request order, and the requests whose
        slot a campaign could no longer pay for are auctioned again without it. A campaign keeps its first
        win whatever its room reads: ``funded`` vouched for its dearest click, and the lease may be renewing
        in the sync thread just now. So a single page is sold as before."""
        b = d.book
        room = np.full(len(b.campaign_id), np.nan)  # lease room by campaign, read once for those that need it
        for _ in range(3):  # each pass drops the campaigns out of money; a few settle any batch
            campaign = b.unit_campaign[out.unit]
            repeated, counts = np.unique(campaign, return_counts=True)
            if not (counts > 1).any():
                return out  # one slot each: all of it vouched for (a single page always is)
            fresh = repeated[(counts > 1) & np.isnan(room[repeated])]
            room[fresh] = self.purse.room(b.campaign_id[fresh])
            order = np.argsort(campaign, kind="stable")
            cost = d.expected_cost(out)[order]
            total = np.cumsum(cost)
            starts = np.r_[0, np.flatnonzero(np.diff(campaign[order])) + 1] if len(order) else order
            sizes = np.diff(np.r_[starts, len(order)])
            running = total - np.repeat((total - cost)[starts], sizes)
            later = np.arange(len(order)) > np.repeat(starts, sizes)  # a first win is what ``funded`` vouched for
            over = np.zeros(len(out.unit), dtype=bool)
            over[order] = later & (running > np.nan_to_num(room[campaign[order]], nan=np.inf))
            if not over.any():
                return out
            funded = funded.copy()
            funded[np.unique(campaign[over])] = False
            redo = np.unique(out.request[over])
            again = d.decide(req.take(redo), self.rt.now().timestamp(), funded, self.rng)
            out = out.take(~np.isin(out.request, redo)).merge(replace(again, request=redo[again.request]))
        return out

    def _served(self, d: Delivery, out: Decisions, impression_ids: np.ndarray, viewers: Viewers, surface: Surface,
                queries: list[str]) -> AdBatch:
        """What won, as arrays; CPM winners owe their price and every impression is recorded."""
        b = d.book
        cpm = b.per_mille[out.unit]
        if cpm.any():
            self._owe(b, out, cpm)
        served = AdBatch(out.request, viewers.consumer[out.request], out.rank + 1,
                         b.campaign_id[b.unit_campaign[out.unit]], b.unit_id[out.unit], b.creative_id[out.creative],
                         b.creative_note[out.creative], out.keyword_id,
                         np.where(cpm, 0, out.price_click_fen).astype(np.int64), impression_ids, surface,
                         int(self.rt.now().timestamp()), [b.creative_url[c] for c in out.creative.tolist()])
        if n := len(out.unit):
            query = [queries[r] or None for r in out.request.tolist()] if surface == Surface.SEARCH else None
            self.content.record(n, {
                "event_id": impression_ids, "kind": EventKind.AD_IMPRESSION.value, "consumer_id": served.consumer,
                "campaign_id": served.campaign_id, "unit_id": served.unit_id, "creative_id": served.creative_id,
                "note_id": served.note_id, "surface": surface.value, "position": served.position, "query": query,
                "keyword_id": _nulls_for_zero(out.keyword_id), "price_fen": out.price_click_fen,
                "policy": out.policy, "propensity": out.propensity})
        return served

    def _refs(self, served: AdBatch) -> list[AdRef]:
        """Signed click ids and tracked links for the ads of an API page."""
        refs = []
        for i in range(len(served.unit_id)):
            click_id = sign(served.token(i), self.key)
            url = served.url[i]
            link = f"{url}{'&' if '?' in url else '?'}zc_click={click_id}" if url else None
            refs.append(AdRef(int(served.unit_id[i]), int(served.creative_id[i]), click_id, link))
        return refs

    def feed_ads(self, viewers: Viewers, n: int) -> AdBatch:
        """The ads for many feed pages of ``n`` items at once, sold and recorded as single pages' are: the
        simulator's path. Each ad's ``position`` is its rank among its page's ads (1 first)."""
        assert self.slots is not None
        slots = len(ad_positions(n, self.slots.feed_first, self.slots.feed_every))
        r = len(viewers.consumer)
        d, out, ids = self._decide(viewers, np.zeros(r, dtype=bool), [""] * r, np.full(r, slots))
        return self._served(d, out, ids, viewers, Surface.FEED, [""] * r)

    def search_ads(self, viewers: Viewers, queries: list[str], n: int) -> AdBatch:
        """The ads for many first search pages of ``n`` results at once, matched by keyword and sold and
        recorded as single searches' are: the simulator's path."""
        slots = len(self.content.ad_positions(n, 1))
        r = len(viewers.consumer)
        d, out, ids = self._decide(viewers, np.ones(r, dtype=bool), queries, np.full(r, slots))
        return self._served(d, out, ids, viewers, Surface.SEARCH, queries)

    def feed(self, consumer_id: int, n: int, *, device: str | None = None, city: str | None = None,
             gender: str | None = None, age: int | None = None) -> FeedWithAds:
        assert self.slots is not None
        positions = ad_positions(n, self.slots.feed_first, self.slots.feed_every)
        viewers = Viewers.of(consumer_id, Viewer(device, city, gender, age))
        d, out, ids = self._decide(viewers, np.zeros(1, dtype=bool), [""], np.array([len(positions)]))
        refs = self._refs(self._served(d, out, ids, viewers, Surface.FEED, [""]))
        ad_notes = {int(d.book.creative_note[c]) for c in out.creative}
        page = self.content.feed(consumer_id, n)
        organic = [i for i in page.items if i.note_id not in ad_notes]
        ad_at = dict(zip(positions[: len(refs)], zip(refs, out.creative.tolist(), out.propensity.tolist(),
                                                       strict=True), strict=False))
        items: list[FeedEntry] = []
        it = iter(organic)
        for p in range(1, n + 1):
            if p in ad_at:
                ref, c, prop = ad_at[p]
                items.append(FeedEntry(int(d.book.creative_note[c]), p, False, round(float(prop), 6), ref))
            elif (o := next(it, None)) is not None:
                items.append(FeedEntry(o.note_id, p, o.explore, o.propensity))
        return FeedWithAds(consumer_id, page.policy, items)

    def search(self, query: str, *, n: int = 10, page: int = 1, offset: int | None = None,
               consumer_id: int | None = None, device: str | None = None, city: str | None = None,
               gender: str | None = None, age: int | None = None, kinds: tuple[str, ...] = (),
               since: datetime | None = None, until: datetime | None = None) -> SearchWithAds:
        """A page of ``n`` results at absolute positions: the ads sold at this page's ad positions stand
        there, organic results fill the rest. ``offset`` (the previous page's ``next_offset``) continues
        the organic results exactly; without it a page starts at organic rank ``(page - 1) * n``, so an
        ad sold on an earlier page has pushed that page's last organic result out of sight."""
        first = (page - 1) * n
        start = first if offset is None else offset
        organic = self.content.search(query, n=n, page=page, consumer_id=consumer_id, offset=start, kinds=kinds,
                                      since=since, until=until)
        positions = organic.ad_positions  # the organic ranking reserves them (RankSpec)
        viewers = Viewers.of(consumer_id or 0, Viewer(device, city, gender, age))
        d, out, ids = self._decide(viewers, np.ones(1, dtype=bool), [query], np.array([len(positions)]))
        refs = self._refs(self._served(d, out, ids, viewers, Surface.SEARCH, [query]))
        ad_at = {p: (ref, int(d.book.creative_note[c])) for p, ref, c in zip(positions, refs, out.creative.tolist(),
                                                                              strict=False)}
        items: list[SearchEntry] = []
        it = iter(organic.items)
        used = 0
        for position in range(first + 1, first + n + 1):
            if position in ad_at:
                ref, note = ad_at[position]
                items.append(SearchEntry(note, position, None, ref))
            elif (o := next(it, None)) is not None:
                items.append(SearchEntry(o.note_id, position, o.score))
                used += 1
        return SearchWithAds(query, page, organic.total, items, positions, start + used)

    # -- why not spending ------------------------------------------------------------------------------
    def delivery_status(self, campaign_id: int, *, actor: Actor) -> DeliveryStatus:
        campaign = plans.get_campaign(self.rt, campaign_id, actor=actor)  # also the permission check
        units = plans.list_units(self.rt, campaign_id, actor=actor)
        with self._lock:
            if self.delivery is None:
                self.sync()
            d = self.delivery
            assert d is not None
            b = d.book
            offset = self.rt.settings.budget_day_utc_offset_hours
            reasons: list[dict[str, Any]] = []
            if campaign.status != Status.ACTIVE:
                reasons.append(reason(f"campaign_{campaign.status}"))
            now = self.rt.now().timestamp()
            start = day_start(campaign.start_date, offset)
            end = day_start(campaign.end_date + timedelta(days=1), offset) if campaign.end_date else np.inf
            reasons += schedule_reasons(now, start, end, schedule_mask(campaign.dayparts), offset)
            _, _, per_click, value = d._scores()
            in_book = {int(u): i for i, u in enumerate(b.unit_id)}
            mine = np.array([in_book[u.id] for u in units if u.id in in_book], dtype=np.int64)
            k = int(positions(b.campaign_id, np.array([campaign_id]))[0])
            dearest = int(self._dearest_click(d)[k]) if k >= 0 else 1  # what a lease must hold, keywords included
            wallet = get_wallet(self.rt, campaign.account_id, actor=_SYSTEM)
            if wallet.available_fen < dearest and campaign_id not in self.purse.held:
                reasons.append(reason("insufficient_balance", available_fen=wallet.available_fen,
                                      needed_fen=dearest))
            budget = day_budget(campaign.daily_budget_fen, campaign.holiday_uplift, self.rt.today(), self.rt.settings)
            if np.isfinite(budget):
                used = cap_used_today(self.rt, f"campaign:{campaign_id}")
                held = self.purse.held.get(campaign_id)
                if budget - used + (held.remaining_fen if held else 0) < dearest:
                    reasons.append(reason("budget_exhausted", daily_budget_fen=int(budget), used_fen=used))
            found = diagnose_units(d, self.traffic, mine, per_click, value, self.spec.reserve_ecpm_fen)
        unit_status = []
        for u in units:
            why: list[dict[str, Any]] = []
            if u.status != Status.ACTIVE:
                why.append(reason("unit_paused"))
            elif campaign.status != Status.ACTIVE:
                why.append(reason("paused_up_the_chain"))
            if u.id in in_book:
                why += found[in_book[u.id]]
            elif u.status == Status.ACTIVE and campaign.status == Status.ACTIVE:
                why.append(reason("authorization_ended" if u.substituted_account_id is not None
                                  and not plans.substitution_active(self.rt, campaign.account_id,
                                                                    u.substituted_account_id)
                                  else "no_creative"))
            unit_status.append(UnitStatus(u.id, not why and not reasons, why))
        return DeliveryStatus(campaign_id, not reasons and any(u.serving for u in unit_status), reasons, unit_status)

    # -- impressions (CPM) ----------------------------------------------------------------------------
    def _owe(self, b: Book, out: Decisions, cpm: np.ndarray) -> None:
        """CPM winners owe their price per thousand impressions: that many millifen for this one."""
        campaigns = b.campaign_id[b.unit_campaign[out.unit[cpm]]].tolist()
        with self._owed_lock:
            for camp, unit, creative, keyword, price in zip(
                    campaigns, b.unit_id[out.unit[cpm]].tolist(), b.creative_id[out.creative[cpm]].tolist(),
                    out.keyword_id[cpm].tolist(), out.price_click_fen[cpm].tolist(), strict=True):
                key = (camp, unit, creative, keyword)
                self._owed[key] = self._owed.get(key, 0) + price
                self.purse.owe(camp, price)

    def _charge_impressions(self, b: Book) -> None:
        """Charge what CPM impressions owe, in whole fen, through each campaign's lease as a click is, with
        an ``ad_charge`` event per creative and keyword; fractions of a fen wait for the next sync. A
        campaign whose lease cannot pay is not charged: its impressions were free, never an overspend."""
        with self._owed_lock:
            owed, self._owed = self._owed, {}
            for key, millifen in owed.items():
                if millifen % 1000:
                    self._owed[key] = self._owed.get(key, 0) + millifen % 1000
        due: dict[int, list[tuple[tuple[int, int, int, int], int]]] = {}
        for key, millifen in owed.items():
            if millifen >= 1000:
                due.setdefault(key[0], []).append((key, millifen // 1000))
        for campaign, items in due.items():
            k = int(positions(b.campaign_id, np.array([campaign]))[0])
            total = sum(fen for _, fen in items)
            try:
                if k >= 0:
                    self._charge_owed(campaign, int(b.campaign_account[k]), float(b.budget_fen[k]), items, total)
            except Exception:
                log.exception("charging campaign %s's CPM impressions failed; they go free", campaign)
            finally:
                self.purse.settled(campaign, total * 1000)

    def _charge_owed(self, campaign: int, account: int, budget: float,
                     items: list[tuple[tuple[int, int, int, int], int]], total: int) -> None:
        ids = self.ids.take(len(items))
        with self.purse.charging() as s:
            charged, lease = self.purse.charge(campaign, account, budget, total)
            if charged:
                keys = [key for key, _ in items]
                enqueue(s, self.rt, make_batch({
                    "event_id": ids, "ts": [self.rt.now().replace(tzinfo=None)] * len(items),
                    "kind": EventKind.AD_CHARGE.value, "campaign_id": campaign,
                    "unit_id": [u for _, u, _, _ in keys], "creative_id": [c for _, _, c, _ in keys],
                    "keyword_id": [kw or None for _, _, _, kw in keys],
                    "price_fen": [fen for _, fen in items], "lease_id": lease, "policy": "cpm"}))

    # -- clicks ---------------------------------------------------------------------------------------
    def sign(self, token: ClickToken) -> str:
        """The click id of a served ad, as its page carries it: what a tracked link and a source name."""
        return sign(token, self.key)

    def click(self, click_id: str) -> ClickResult:
        """Charge a click once: a replayed click id gets its first answer, a consumer's repeat click on a
        creative the same day is free, and nothing is charged beyond a lease."""
        token = verify(click_id, self.key, self.rt.now().timestamp())
        return self.click_batch([token])[0]

    def click_batch(self, tokens: Sequence[ClickToken]) -> list[ClickResult]:
        """Charge many clicks in one transaction, each as ``click`` would, in order (the simulator's path;
        tokens come from ``AdBatch.token``). A click racing another process's on the same id or creative
        loses the unique index, and the batch is retried to read the winner's answer."""
        for _ in range(3):
            try:
                return self._charge(list(tokens))
            except IntegrityError:
                continue
        raise RuntimeError("clicks could not be recorded")

    def _charge(self, tokens: list[ClickToken]) -> list[ClickResult]:
        if not tokens:
            return []
        click_ids = [sign(t, self.key) for t in tokens]
        keys = [click_key(c) for c in click_ids]
        with self._lock:
            if self.delivery is None:
                self.sync()
            d = self.delivery
            assert d is not None
            wanted = np.unique([t.campaign_id for t in tokens])  # only the batch's campaigns, not the whole book
            at = positions(d.book.campaign_id, wanted)
            book = {int(c): (int(d.book.campaign_account[k]), float(d.book.budget_fen[k]))
                    for c, k in zip(wanted.tolist(), at.tolist(), strict=True) if k >= 0}
        now, today = self.rt.now(), self.rt.today()
        ids = iter(self.ids.take(2 * len(tokens)).tolist())  # before the transaction takes the write lock
        answers: dict[str, ClickResult] = {}
        rows: list[dict[str, Any]] = []
        events: dict[str, list[Any]] = {k: [] for k in (
            "event_id", "kind", "consumer_id", "campaign_id", "unit_id", "creative_id", "note_id", "surface",
            "position", "price_fen", "lease_id", "keyword_id")}
        with self.purse.charging() as s:
            for chunk in in_lists(keys):
                for seen in s.scalars(select(AdClick).where(AdClick.click_key.in_(chunk))):
                    answers[seen.click_key] = ClickResult("", seen.charged_fen, seen.outcome)
            paid = {(int(c), int(k)) for c, k in s.execute(select(AdClick.consumer_id, AdClick.creative_id).where(
                AdClick.day == today, AdClick.charged_fen > 0,
                AdClick.creative_id.in_({t.creative_id for t in tokens}),
                AdClick.consumer_id.in_({t.consumer_id for t in tokens})))}
            for key, t in zip(keys, tokens, strict=True):
                if key in answers:
                    continue
                repeat = (t.consumer_id, t.creative_id) in paid
                charged, lease = 0, None
                if not repeat and t.campaign_id in book and t.price_fen:
                    account, budget = book[t.campaign_id]
                    charged, lease = self.purse.charge(t.campaign_id, account, budget, t.price_fen)
                outcome = "cpm" if not t.price_fen else "repeat" if repeat else "charged" if charged else "unfunded"
                if charged:
                    paid.add((t.consumer_id, t.creative_id))
                answers[key] = ClickResult("", charged, outcome)
                rows.append({"click_key": key, "consumer_id": t.consumer_id, "campaign_id": t.campaign_id,
                             "unit_id": t.unit_id, "creative_id": t.creative_id, "day": today,
                             "price_fen": t.price_fen, "charged_fen": charged, "outcome": outcome, "lease_id": lease,
                             "at": now})
                for kind in (EventKind.AD_CLICK, EventKind.AD_CHARGE) if charged else (EventKind.AD_CLICK,):
                    for name, value in (("event_id", next(ids)), ("kind", kind.value), ("consumer_id", t.consumer_id),
                                        ("campaign_id", t.campaign_id), ("unit_id", t.unit_id),
                                        ("creative_id", t.creative_id), ("note_id", t.note_id),
                                        ("surface", t.surface), ("position", t.position), ("price_fen", charged),
                                        ("lease_id", lease), ("keyword_id", t.keyword_id or None)):
                        events[name].append(value)
            if rows:
                s.execute(insert(_CLICKS), rows)  # Core: the ORM's bulk path costs more per row
                enqueue(s, self.rt, make_batch(events | {"ts": [now.replace(tzinfo=None)] * len(events["kind"])}))
        return [replace(answers[key], click_id=c) for key, c in zip(keys, click_ids, strict=True)]

    def close(self) -> None:
        self.purse.close()


