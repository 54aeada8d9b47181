"""A simulated campaign, hour by hour, through the real engine.

Each tick draws who opens the app, asks the content engine for their feed pages and the ads engine for
the ads on them (batch facades, so the platform's ranking, auctions, pacing, frequency caps and leases
decide what is seen), draws reads, interactions and ad clicks, and hands them back: interactions as
events the engine counts, clicks through ``click_batch``, which charges leases in the ledger.

Purchases follow an additive hazard per consumer (SIMULATOR.md): a baseline plus a stock per channel
that each exposure to the brand raises and that decays with the category's decision cycle. A
conversion's ground truth is each channel's share of the hazard at that moment, and each channel is
credited that share of its leads, orders and GMV. Converting consumers buy
in the brand's shop (an order through the commerce slice, sourced to the ad click or note that touched
them last), off the platform (only some of which a postback would report), or message the store that
touched them last: a DM, a lead card, a visit code redeemed at the counter.

The loop follows the first brand's consumers through feed, search, its live room and its creators' notes;
the other brands of the scenario are its competitors, whose campaigns take part in the same auctions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

from zhongcao import accounts, ads, billing, commerce, content, events, market
from zhongcao.core import Invalid, ManualClock, RowsOf, Runtime
from zhongcao.events import EventKind, Surface
from zhongcao.sim import behaviour, marketplace, text
from zhongcao.sim.population import CITIES
from zhongcao.sim.world import OP, World, streams

DECISION_DAYS = {"skincare": 29.0, "beauty": 20.0, "mother_baby": 70.0, "auto": 60.0, "home": 45.0}  # [C]/[U]
BASELINE_PER_DAY = 0.0004      # purchases a day with no exposure, for an average interest [U]
# A buyer comes back for more: this share of buyers buys again within two decision cycles, exposed or not
# (the product runs out), so it joins the buyer's baseline [U].
REPURCHASE_SHARE = 0.3
# What one exposure adds to the chance of buying over the decision cycle [U]: its hazard term starts at
# this over the cycle's length and decays with it, so its integral is this probability.
# A search ad lifts less than a feed ad: the consumer searched, so the intent was there already.
# An hour in the brand's live room, the product shown and talked through, lifts like a click or more.
LIFT = {"impression": 0.0002, "read": 0.003, "interaction": 0.008, "ad_impression": 0.0001, "ad_click": 0.015,
        "search_ad_click": 0.008, "live_view": 0.02}
CHANNELS = ("baseline", "organic", "feed_ads", "search_ads", "live", "kol")
STOCK = {"organic": 0, "feed_ads": 1, "search_ads": 2, "live": 3, "kol": 4}  # the hazard's stock per channel
# Live (直播): the brand's account goes on air every LIVE_EVERY days from day LIVE_FIRST, in the evening
# hours of LIVE_HOURS; an active consumer who knows the brand drops in with chance LIVE_JOIN an hour [U].
LIVE_EVERY, LIVE_FIRST, LIVE_HOURS, LIVE_JOIN = 7, 0, (20, 21), 0.05
SEARCH_SCALE = 0.72  # consumers' search rates count every user; the active ones search this much of it [U]
RESEARCH = 0.5  # 回搜: seeding worth one read or more raises the chance to search by up to this much again [U]
SEARCH_PAGE = 10
SEARCH_INTENT = 3.0  # a search result is read this much more often than a feed card, at the top position [U]
SEARCH_AD_INTENT = 3.0  # and a search ad clicked this much more often than a feed ad [U]
CONCERNS = ("active", "feed", "feed_ads", "search", "search_ads", "convert", "live", "kol", "bought",  # append only
            "feed_engine", "feed_ad_engine", "search_engine", "search_ad_engine")
PROGRAMME_HOUR = 10  # the brand and its creators act on their deals in office hours
SPONSORED_QUALITY = 0.7  # [U] a sponsored note engages less than the creator's everyday notes (商单 vs 日常)
ROUTES = (0.5, 0.2)  # shop share, then off-platform share; the rest go to a store [U]
STORE_VISIT_SHARE = 0.6  # leads that come to the store and redeem their code [U]
STAGES = ("none", "aware", "interest", "deep_interest", "purchase", "loyal")
# Leases for simulated time: a tick is an hour, so the serving default (5 minutes) would expire every lease
# every tick. A lease lives a day and holds a few hours of a campaign's clicks: as exact, far fewer renewals.
# Served events held for the rollups' fold at most: a day of 100,000 consumers folds once, a day of a
# million in a few goes, so the held columns stay near a hundred megabytes.
FOLD_EVENTS = 4_000_000
# Served events land in the store once this many wait (or at the day's end): a DuckDB insert has a fixed
# cost, so a tick's worth at a time costs more than a few hours' worth, and a million events stay small.
LAND_EVENTS = 1_000_000
# A store DM: where is the store; come, here is a visit code.
QUESTION, ANSWER = "请问门店地址在哪里？", "欢迎到店体验，给您发个到店码。"
# Consumer-interest rows per transaction on the ingest thread: a few tens of milliseconds of SQLite's writer.
LEARN_ROWS = 20_000
LEASES = ads.PurseSpec(ttl_seconds=86_400, clicks_per_lease=200, renew_margin_seconds=3_600, retry_seconds=3_600)


TRUTH_TABLE = "truth_conversions"
# One row per conversion: how it happened, and each channel's true share of the hazard that moved it.
TRUTH_SCHEMA = pa.schema([
    ("ts", pa.timestamp("us", tz="UTC")), ("consumer_id", pa.int64()), ("route", pa.string()),
    ("ref_id", pa.int64()), ("posted_back", pa.bool_()), ("product_id", pa.int64()), ("value_fen", pa.int64()),
    ("store_id", pa.int64()), ("channel", pa.string()),
    *[(f"{c}_share", pa.float64()) for c in CHANNELS]])


@dataclass(frozen=True)
class Switch:
    """What a counterfactual run switches off: a paid channel, one store's ads, or both (one store's
    channel); nothing, when empty."""

    channel: str | None = None  # feed_ads, search_ads or kol (no creator programme)
    store: int | None = None    # index of the store in the brand's stores

    @classmethod
    def parse(cls, spec: str, stores: int) -> Switch:
        """``channel=search_ads``, ``store=12`` (the 12th store, from 1), or both joined by a comma."""
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, _, value = part.partition("=")
            value = value.removesuffix(" off").strip()
            if key.strip() == "channel" and value in ("feed_ads", "search_ads", "kol"):
                values["channel"] = value
            elif key.strip() == "store" and value.isdigit() and 1 <= int(value) <= stores:
                values["store"] = int(value) - 1
            else:
                raise Invalid("invalid_counterfactual", f"cannot switch off {part!r}", field="counterfactual",
                              allowed=f"channel=feed_ads|search_ads|kol and/or store=1..{stores}")
        if not values:
            raise Invalid("invalid_counterfactual", "nothing to switch off", field="counterfactual",
                          allowed=f"channel=feed_ads|search_ads|kol and/or store=1..{stores}")
        return cls(**values)

    @property
    def label(self) -> str:
        return ",".join(f"{k}={v + 1 if k == 'store' else v}" for k, v in asdict(self).items()
                        if v is not None) or "nothing"


@dataclass(frozen=True)
class Clicks:
    """One surface's ad clicks of the hour, waiting to be charged: each click's token, whether the ad was the
    brand's, and the clicker's row, the ad's brand (0 the brand's, -1 none) and its store (-1 none)."""

    channel: str
    tokens: list[ads.ClickToken]
    mine: np.ndarray
    rows: np.ndarray
    brand: np.ndarray
    store: np.ndarray


@dataclass
class Tally:
    impressions: int = 0
    clicks: int = 0
    engagements: int = 0
    leads: int = 0
    orders: int = 0
    gmv_fen: int = 0
    spend_fen: int = 0


@dataclass
class Summary:
    allocated_fen: int
    totals: dict[str, int]
    channels: list[dict[str, Any]]
    stores: list[dict[str, Any]]
    aipl: dict[str, int]
    truth: dict[str, Any]
    ledger_spend_fen: int
    days: int
    consumers: int
    seed: int
    extra: dict[str, Any] = field(default_factory=dict)
    creators: list[dict[str, Any]] = field(default_factory=list)  # the creator programme's deals, as measured
    programme: dict[str, Any] | None = None  # the plan the brand made: strategy, candidates and its estimates
    competition: dict[str, Any] = field(default_factory=dict)  # the competing brands in the same auctions

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Simulation:
    """One run of a built world; ``run`` advances it day by day."""

    def __init__(self, rt: Runtime, world: World, store: events.EventStore | None = None,
                 off: Switch | None = None) -> None:
        if not isinstance(rt.clock, ManualClock):
            raise TypeError("a simulation runs on simulated time: give the runtime a ManualClock")
        self.rt, self.world, self.clock, self.store = rt, world, rt.clock, store
        rngs = streams(world.scenario.seed)
        self._tick_no = 0
        self._day = 0
        self._day_start = rt.now()
        self.off = off
        # With a store, serving events go straight to it, and to the ads engine that learns from them; the
        # outbox would only hold them for this same process to read back.
        self._batches: list[pa.Table] = []
        self._clicks: list[Clicks] = []
        self._folds: list[pa.Table] = []  # the day's served events, in the columns the rollups read
        self._landing: list[Future[Any]] = []  # writes to the store, in order, running beside the ticks
        self._ingested: Future[Any] | None = None  # the last outbox ingest sent, which folds rollups too
        self.content = content.ContentEngine(rt, rng=rngs["engine"], sink=self._keep if store is not None else None)
        self.ads = ads.AdEngine(rt, self.content, purse_spec=LEASES,
                                rng=np.random.default_rng(rngs["engine"].integers(1 << 62)))
        self.content.sync()
        self.ads.sync()
        people = world.consumers
        self.ids = people.ids.astype(np.int64)
        self.viewer_gender = np.where(people.female, 1, 0)
        self.viewer_age = np.array([ads.age_bucket(int(a)) for a in people.age])
        self.viewer_device = np.where(people.ios, 0, 1)
        self.viewer_city = [c for c, _ in CITIES]
        # The notes the consumers may meet, as arrays: the world's, and the creators' sponsored notes as the
        # programme publishes them.
        self.note_ids, self.note_author = world.note_ids.copy(), world.note_author.copy()
        self.note_category, self.note_brand = world.note_category.copy(), world.note_brand.copy()
        self.note_kol = np.zeros(len(world.note_ids), dtype=bool)
        creator_row = {int(a): i for i, a in enumerate(world.creator_ids)}
        self.note_creator = np.array([creator_row.get(a, -1) for a in world.note_author.tolist()], dtype=np.int32)
        self._sort_notes()
        brand = world.brands[0]
        self.brand = brand
        self.brand_category = brand.category
        tau_days = DECISION_DAYS.get(content.CATEGORIES[brand.category][0], 30.0)
        self.decay = float(np.exp(-1.0 / (24.0 * tau_days)))
        self.weight = {k: v / tau_days for k, v in LIFT.items()}  # a day's hazard right after the exposure
        self.baseline = BASELINE_PER_DAY * behaviour.match(people.interests, np.arange(people.n),
                                                           np.full(people.n, brand.category))
        self.stock = np.zeros((people.n, len(STOCK)), dtype=np.float64)
        self.stage = np.zeros(people.n, dtype=np.int8)
        self.engaged = np.zeros(people.n, dtype=np.int16)
        self.touched = np.zeros(people.n, dtype=np.int32)  # the day of the brand's last touch
        self.tau_days = tau_days
        self.last_store = np.full(people.n, -1, dtype=np.int32)   # index into brand.stores
        self.last_note = np.zeros(people.n, dtype=np.int64)
        # consumer row → (channel, signed click id, the clicked campaign's account, when)
        self.last_click: dict[int, tuple[str, str, int, datetime]] = {}
        # each store's postback secret: its shop's server reports off-platform orders that followed a click
        self.postback_secret = {s.account_id: ads.do_issue_conversion_secret(rt, s.account_id, actor=OP).secret
                                for s in brand.stores}
        self.last_query: dict[int, str] = {}
        words = [text.VOCABULARY[key] for key, *_ in content.CATEGORIES]
        self.words = np.array(words)  # (categories, words per category)
        keywords = [k for c in world.scenario.brands[0].campaigns if c.placement == "search" for k in c.keywords]
        self.brand_words = np.array(keywords or words[brand.category])
        # the store behind each note (-1 for none), and behind each store campaign, looked up as arrays per tick
        store_of_account = {s.account_id: k for k, s in enumerate(brand.stores)}
        self.note_store = np.array([store_of_account.get(a, -1) for a in world.note_author.tolist()], dtype=np.int32)
        runs = sorted((c.id, k) for k, s in enumerate(brand.stores) for c in ads.list_campaigns(rt, s.account_id,
                                                                                                    actor=OP))
        self.store_campaigns = np.array([c for c, _ in runs], dtype=np.int64)
        self.campaign_store = np.array([k for _, k in runs], dtype=np.int32)
        self.note_quality = np.where(self.note_creator >= 0, world.creators.quality[np.maximum(self.note_creator, 0)],
                                     0.3).astype(np.float32)
        self.note_reads_today = np.zeros(len(self.note_ids), dtype=np.int64)
        self.follows = np.zeros(world.creators.n, dtype=np.int64)  # followers the creators gained in the run
        self.programme = None
        spec = world.scenario.brands[0].creator_programme
        if spec is not None and (off is None or off.channel != "kol"):
            self.programme = marketplace.Programme(rt, spec, brand, world.creator_ids)
        self.channel = {c: Tally() for c in CHANNELS}  # baseline: purchases no exposure moved most
        self.stores = [Tally() for _ in brand.stores]
        self.rivals = [Tally() for _ in world.brands[1:]]  # the competing brands' ads, in the same auctions
        self.truth = np.zeros(len(CHANNELS))
        self.credit = np.zeros((len(CHANNELS), 3))  # each channel's true share of leads, orders and GMV
        self._truth_rows: list[dict[str, Any]] = []
        self.conversions = 0
        self.routes = {"shop": 0, "live": 0, "offsite": 0, "offsite_posted_back": 0, "postbacks_recorded": 0,
                       "store": 0, "store_visits": 0}
        self.live_id: int | None = None  # the session on air
        self.in_room: dict[int, int] = {}  # consumer row → the live session they watch this hour
        self.live_sessions: list[int] = []
        # every brand's and note's: what calibration reads
        self.served = {"feed_impressions": 0, "reads": 0, "likes": 0, "comments": 0, "interactions": 0,
                       "ad_impressions": 0, "ad_clicks": 0, "ad_charged_fen": 0, "active_consumer_days": 0,
                       "searches": 0, "searcher_days": 0, "search_reads": 0, "search_ad_impressions": 0,
                       "search_ad_clicks": 0, "search_ad_charged_fen": 0, "creator_note_reads": 0,
                       "creator_note_interactions": 0, "brand_note_reads": 0, "brand_note_interactions": 0,
                       "clicked_offsite_conversions": 0, "clicked_offsite_after_7_days": 0}
        self._searched_today = np.zeros(people.n, dtype=bool)
        if off is not None:
            self._switch_off(off)
        self._active_today = np.zeros(people.n, dtype=bool)
        self._start_spend = [self._spend(b) for b in range(len(world.brands))]

    def _keep(self, batch: pa.Table) -> None:
        self._batches.append(batch)
        self.ads.learn(batch)

    def _sort_notes(self) -> None:
        """Index the notes by id, as they stand (after a creator's sponsored note joins them)."""
        self._brand_account = (self.note_creator < 0) & (self.note_brand >= 0)  # a brand's or store's own note
        self._note_rows = RowsOf(self.note_ids)

    def _add_note(self, note_id: int, creator: int) -> None:
        """A creator's sponsored note for the brand, published through the marketplace, joins the notes."""
        self.note_ids = np.append(self.note_ids, note_id)
        self.note_author = np.append(self.note_author, self.world.creator_ids[creator])
        self.note_category = np.append(self.note_category, np.int16(self.brand_category))
        self.note_brand = np.append(self.note_brand, np.int16(0))
        self.note_kol = np.append(self.note_kol, True)
        self.note_creator = np.append(self.note_creator, np.int32(creator))
        self.note_quality = np.append(self.note_quality, self.world.creators.quality[creator] * SPONSORED_QUALITY)
        self.note_store = np.append(self.note_store, np.int32(-1))
        self.note_reads_today = np.append(self.note_reads_today, 0)
        self._sort_notes()

    def _note_index(self, note_ids: np.ndarray) -> np.ndarray:
        return self._note_rows(note_ids)

    def _spend(self, brand: int = 0) -> int:
        """What a brand and its stores have spent, from the ledger: the stores' allocations minus what is
        left, and what left the brand's own wallet (its creators' escrows, net of refunds)."""
        setup = self.world.brands[brand]
        stores = sum(s.allocated_fen - billing.get_wallet(self.rt, s.account_id, actor=OP).balance_fen
                     for s in setup.stores)
        return stores - billing.get_wallet(self.rt, setup.account_id, actor=OP).balance_fen

    def _switch_off(self, off: Switch) -> None:
        """A counterfactual: pause the channel's or the store's campaigns through the ads slice, before the
        first tick, so the engine simply has nothing of theirs to sell. An empty switch turns nothing off:
        the counterfactual path that must give the base run back."""
        if (off.channel is None and off.store is None) or off.channel == "kol":
            return  # nothing, or the creator programme, which is simply not run
        stores = self.brand.stores
        accounts_off = {stores[off.store].account_id} if off.store is not None else {s.account_id for s in stores}
        placements = {"feed_ads": "feed", "search_ads": "search"}
        ids = [c.id for a in sorted(accounts_off) for c in ads.list_campaigns(self.rt, a, actor=OP)
               if off.channel is None or c.placement == placements[off.channel]]
        if ids:
            ads.do_set_status(self.rt, "campaign", ids, "paused", actor=OP)
            self.ads.sync()

    def _draws(self, concern: str) -> np.random.Generator:
        """This tick's generator for one concern, from the seed, the tick and the concern alone: a
        counterfactual that changes how many draws one concern takes leaves every other draw as it was
        (common random numbers). The engines' own draws (feed exploration, pacing) are concerns too, handed
        to them before each surface serves: one stream through the whole run would carry any change in one
        tick's draws into every later auction, and a budget level or a switched-off store would then differ
        from the base run by noise as much as by what it changed."""
        return np.random.default_rng([self.world.scenario.seed, self._tick_no, CONCERNS.index(concern)])

    def run(self, progress: Callable[[int], None] | None = None) -> Summary:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="sim-ingest") as self._ingester:
            for day in range(self.world.scenario.days):
                self._day_start = self.rt.now()
                # Yesterday's leases ended with its budget day: the new day's, before its first hour serves.
                self.ads.sync()
                self._active_today[:] = False
                self._searched_today[:] = False
                for hour in range(24):
                    self._tick(hour)
                    self.clock.advance(timedelta(hours=1))
                self.served["active_consumer_days"] += int(self._active_today.sum())
                self.served["searcher_days"] += int(self._searched_today.sum())
                self._fade()
                self._creators_day()
                self._day += 1
                self._ingest()
                if progress:
                    progress(day + 1)
            self.content.flush()
            self.ads.close()  # leases return what they did not spend
            self._ingest()
            self._settle()
        return self._summary()

    def _fade(self) -> None:
        """Stages decay without fresh exposure: a decision cycle untouched drops awareness, interest or
        deep interest one step, and repeated engagement counts again from nothing. Buyers stay buyers."""
        stale = np.flatnonzero((self.stage >= 1) & (self.stage <= 3) & (self._day - self.touched >= self.tau_days))
        self.stage[stale] -= 1
        self.touched[stale] = self._day
        self.engaged[stale] = 0

    def _land_served(self) -> None:
        """Served events into the event store, beside the next ticks on the other core: DuckDB
        writes without holding the GIL. Only the columns the rollups read wait for the day's fold, or for
        ``FOLD_EVENTS`` of them, so a day of a million consumers' events is never held whole."""
        if not self._batches:
            return
        served = pa.concat_tables(self._batches)  # chunked: nothing is copied
        self._batches = []
        self._folds.append(served.select(content.FOLDED))
        self._settle(keep=1)  # one write in flight beside this one at most: what waits to land is bounded
        if sum(t.num_rows for t in self._folds) >= FOLD_EVENTS:
            self._fold()
        assert self.store is not None
        self._landing.append(self._ingester.submit(self.store.write, served))

    def _ingest(self) -> None:
        """The day's rollups and the outbox's batches (charges, orders, leads: the few events written with
        the changes that caused them) into the event store, as the server's ingester moves them, and the
        day's ground truth into its own table beside them; without a store the events wait in the outbox
        for ``zhongcao serve``.

        The rollups fold in this thread, where SQLite's one writer would stall the ticks anyway; the
        writes, the day's events and then the outbox's, run beside the next day's ticks (one writer thread:
        the store fills in order). The next fold waits for the outbox's ingest, so the rollups fold in the
        same order every run; an error in any write stops the run at its next wait. A crash loses the run,
        which is repeated whole."""
        if self.store is None:
            return
        self.content.flush()
        self._land_served()
        self._fold()
        truth, self._truth_rows = self._truth_rows, []
        self._ingested = self._ingester.submit(self._land, self.store, truth, self.rt.now())
        self._landing.append(self._ingested)

    def _fold(self) -> None:
        """The served events held since the last fold into the rollups, after the outbox batches ingested
        before them (the one ordering that pool promotions depend on); the store's writes of served events
        need not wait."""
        if self._ingested is not None:
            self._ingested.result()
            self._ingested = None
        if self._folds:
            with self.rt.db.transaction() as s:
                learned = self.content.fold_all_but_interests(s, pa.concat_tables(self._folds))
            self._folds = []
            self._landing.append(self._ingester.submit(self._learn, learned))

    def _learn(self, learned: content.Interests) -> None:
        """The fold's consumer interests, added beside the next ticks (nothing reads them back before a
        restart): a day of them is hundreds of thousands of rows, and they took a third of the fold's time in
        this thread (100,000 consumers, 8 days: 8.5 s → 5.3 s). Each slice commits on its own, so a tick waits
        for SQLite's one writer a slice at most."""
        for start in range(0, len(learned), LEARN_ROWS):
            with self.rt.db.transaction() as s:
                content.add_interests(s, learned, start, start + LEARN_ROWS)

    def _land(self, store: events.EventStore, truth: list[dict[str, Any]], until: datetime) -> None:
        """The outbox and the ground truth into the store, then the creator analytics folded up to ``until``
        (every event before it has landed), as the server's ingester folds them on its timer."""
        while events.ingest(self.rt, store, fold=self.content.fold) > 0:
            pass
        if truth:
            store.append(TRUTH_TABLE, pa.Table.from_pylist(truth, schema=TRUTH_SCHEMA))
        market.fold(self.rt, store, until=until)

    def _settle(self, keep: int = 0) -> None:
        """Wait for what was sent to land, all but the last ``keep``; an error in any stops the run."""
        while len(self._landing) > keep:
            self._landing.pop(0).result()

    def _tick(self, hour: int) -> None:
        people = self.world.consumers
        self._tick_no += 1
        active = np.flatnonzero(self._draws("active").poisson(people.activity * behaviour.HOURLY[hour]) > 0)
        self._active_today[active] = True
        self.stock *= self.decay
        if len(active):
            self._feed(active)
        self._search(hour)
        self._charge()
        self._live(hour, active)
        if hour == PROGRAMME_HOUR:
            self._programme()
        self._convert()
        self.ads.sync()  # flushes the content engine's events first
        if sum(t.num_rows for t in self._batches) >= LAND_EVENTS:
            self._land_served()

    def _programme(self) -> None:
        """The brand's creator programme: on its first day the brand reads the marketplace's analytics
        (what the store holds so far), plans and invites; each day both sides move their deals on, and
        the notes published join the ones consumers meet."""
        p = self.programme
        if p is None or self._day < p.spec.start_day:
            return
        if self._day == p.spec.start_day:
            self._settle()  # the analytics read what the store holds: the days before this one
            p.launch(self._day, self.store, self._draws("kol"), self._day_start)
        published = p.step(self._day)
        for note_id, creator in published:
            self._add_note(note_id, creator)
        if published:
            self.content.sync()

    def _creators_day(self) -> None:
        """The day's end for creators: frauds' bought likes arrive (on their notes, from bot accounts, with
        no reads), the platform snapshots follower counts, and deadlines run."""
        world = self.world
        buys = world.creator_truth.buys_engagement
        noted = (self.note_creator >= 0) & (self.note_reads_today > 0)
        fraud_notes = np.flatnonzero(noted & buys[np.maximum(self.note_creator, 0)])
        if len(fraud_notes):
            rate = marketplace.BOUGHT_LIKES_PER_READ * self.note_reads_today[fraud_notes]
            likes = self._draws("bought").poisson(rate)
            notes = np.repeat(self.note_ids[fraud_notes], likes)
            if len(notes):
                bots = world.consumers.first_id + world.consumers.n + np.arange(len(notes), dtype=np.int64) % 50_000
                self.content.record(len(notes), {
                    "kind": np.full(len(notes), EventKind.LIKE.value), "consumer_id": bots, "note_id": notes,
                    "creator_id": np.repeat(self.note_author[fraud_notes], likes), "surface": Surface.FEED.value})
        self.note_reads_today[:] = 0
        if world.creators.n:
            ended = self.rt.today() - timedelta(days=1)  # the clock stands at the next day's midnight
            market.do_record_followers(self.rt, ended, world.creator_ids, world.creators.followers + self.follows,
                                       actor=marketplace.SYSTEM)
        if self.programme is not None:
            market.sweep(self.rt)

    def _react(self, consumer: np.ndarray, note_id: np.ndarray, surface: Surface, rng: np.random.Generator,
               intent: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Reads and interactions with the notes shown, handed to the engine as events; returns the consumer
        rows, the note indices, and who read and who interacted."""
        people = self.world.consumers
        rows = consumer - people.first_id
        idx = self._note_index(note_id)
        interest = behaviour.match(people.interests, rows, self.note_category[idx])
        seen = behaviour.react(rng, interest, self.note_quality[idx], people.creator_trust[rows], intent,
                               np.where(self._brand_account[idx], behaviour.BRAND_ACCOUNT_ENGAGEMENT, 1.0))
        np.add.at(self.note_reads_today, idx[seen.read], 1)
        interacted = np.zeros(len(rows), dtype=bool)
        kinds, who, notes = [np.full(int(seen.read.sum()), EventKind.READ.value)], [consumer[seen.read]], \
            [note_id[seen.read]]
        for kind, hit in seen.interactions.items():
            interacted |= hit
            if kind == EventKind.FOLLOW:
                makers = self.note_creator[idx[hit]]
                np.add.at(self.follows, makers[makers >= 0], 1)
            if kind in (EventKind.LIKE, EventKind.COMMENT):
                self.served["likes" if kind == EventKind.LIKE else "comments"] += int(hit.sum())
            kinds.append(np.full(int(hit.sum()), kind.value))
            who.append(consumer[hit])
            notes.append(note_id[hit])
        self.served["interactions"] += int(interacted.sum())
        brand = self._brand_account[idx]  # the rest are creators' notes, sponsored ones included
        for author, hit in (("creator", ~brand), ("brand", brand)):
            self.served[f"{author}_note_reads"] += int((seen.read & hit).sum())
            self.served[f"{author}_note_interactions"] += int((interacted & hit).sum())
        all_notes = np.concatenate(notes)
        if len(all_notes):
            self.content.record(len(all_notes), {
                "kind": np.concatenate(kinds), "consumer_id": np.concatenate(who), "note_id": all_notes,
                "creator_id": self.note_author[self._note_index(all_notes)], "surface": surface.value})
        return rows, idx, seen.read, interacted

    def _seed(self, rows: np.ndarray, idx: np.ndarray, note_ids: np.ndarray, read: np.ndarray,
              interacted: np.ndarray) -> None:
        """The brand's notes seen without an ad (feed or search) add to the hazard's stock: the organic one
        for its own and its stores' notes, the kol one for its creators' sponsored notes."""
        mine = self.note_brand[idx] == 0
        trust = self.world.consumers.creator_trust[rows]
        w = (self.weight["impression"] + self.weight["read"] * read + self.weight["interaction"] * interacted) * trust
        kol = self.note_kol[idx]
        for channel, hit in (("organic", mine & ~kol), ("kol", mine & kol)):
            np.add.at(self.stock[:, STOCK[channel]], rows[hit], w[hit])
            tally = self.channel[channel]
            tally.impressions += int(hit.sum())
            tally.engagements += int(interacted[hit].sum())
        self._touch(rows[mine], idx[mine], note_ids[mine], read[mine], interacted[mine])

    def _feed(self, active: np.ndarray) -> None:
        self.content.rng = self._draws("feed_engine")
        page = self.content.feed_batch(self.ids[active], behaviour.PAGE)
        self.served["feed_impressions"] += len(page.note_id)
        rows, idx, read, interacted = self._react(page.consumer, page.note_id, Surface.FEED, self._draws("feed"))
        self.served["reads"] += int(read.sum())
        self._seed(rows, idx, page.note_id, read, interacted)
        self.ads.rng = self._draws("feed_ad_engine")
        served = self.ads.feed_ads(self._viewers(active), behaviour.PAGE)
        self._sell(served, "feed_ads", self._draws("feed_ads"))

    def _viewers(self, rows: np.ndarray) -> ads.Viewers:
        return ads.Viewers(self.ids[rows], self.viewer_gender[rows], self.viewer_age[rows], self.viewer_device[rows],
                           [self.viewer_city[int(c)] for c in self.world.consumers.city[rows]])

    def _search(self, hour: int) -> None:
        """Who searches this hour, and for what: seeding makes a consumer likelier to search, and to search
        the brand's words (回搜); everyone else searches a word of a category they like."""
        people = self.world.consumers
        rng = self._draws("search")
        seeded = self.stock[:, STOCK["organic"]] + self.stock[:, STOCK["feed_ads"]]
        primed = seeded / (seeded + self.weight["read"])
        who = np.flatnonzero(rng.poisson(people.search_rate * SEARCH_SCALE * behaviour.HOURLY[hour] *
                                         (1 + RESEARCH * primed)) > 0)
        if not len(who):
            return
        self._active_today[who] = True
        self._searched_today[who] = True
        brand_query = rng.random(len(who)) < primed[who]
        category = (people.interests[who].cumsum(axis=1) < rng.random(len(who))[:, None]).sum(axis=1)
        category = np.minimum(category, self.words.shape[0] - 1)
        pick = rng.integers(0, self.words.shape[1], len(who))
        queries = np.where(brand_query, self.brand_words[pick % len(self.brand_words)],
                           self.words[category, pick]).tolist()
        self.last_query.update(zip(who[brand_query].tolist(), np.array(queries)[brand_query].tolist(), strict=True))
        searched_brand = who[brand_query]  # searching the brand is interest (AIPL's I), read or not
        self.stage[searched_brand] = np.maximum(self.stage[searched_brand], 2)
        self.touched[searched_brand] = self._day
        self.served["searches"] += len(who)
        self.content.rng = self._draws("search_engine")
        page = self.content.search_batch(queries, self.ids[who], SEARCH_PAGE)
        rows, idx, read, interacted = self._react(page.consumer, page.note_id, Surface.SEARCH, rng,
                                                  SEARCH_INTENT / np.sqrt(page.position))
        self.served["search_reads"] += int(read.sum())
        self.served["reads"] += int(read.sum())  # reads count both surfaces; search_reads is the search part
        self._seed(rows, idx, page.note_id, read, interacted)
        self.ads.rng = self._draws("search_ad_engine")
        served = self.ads.search_ads(self._viewers(who), queries, SEARCH_PAGE)
        self._sell(served, "search_ads", self._draws("search_ads"), SEARCH_AD_INTENT)

    def _live(self, hour: int, active: np.ndarray) -> None:
        """The brand's live session: on air in its hours, through the commerce slice's live rooms. Viewers
        drop in from what brought them (the brand's last note they saw); an hour in the room lifts the
        live stock, and a viewer who buys this hour buys in the room."""
        self.in_room = {}
        on_air = self._day % LIVE_EVERY == LIVE_FIRST % LIVE_EVERY and hour in LIVE_HOURS
        if not on_air:
            if self.live_id is not None:
                commerce.do_live_transition(self.rt, self.live_id, "end", actor=OP)
                self.live_id = None
            return
        if self.live_id is None:
            live = commerce.do_create_live(self.rt, self.brand.account_id, title=f"{self.brand.name} 直播间 · 新品试用",
                                           product_ids=list(self.brand.product_ids), actor=OP)
            commerce.do_live_transition(self.rt, live.id, "start", actor=OP)
            self.live_id = live.id
            self.live_sessions.append(live.id)
        knows = active[self.stage[active] >= 1]
        viewers = knows[self._draws("live").random(len(knows)) < LIVE_JOIN]
        commerce.do_join_many(self.rt, self.ads.ids, self.live_id,
                              [(int(self.ids[row]), self._source(row, "organic")) for row in viewers.tolist()],
                              actor=OP)
        self.in_room = dict.fromkeys(viewers.tolist(), self.live_id)
        self.stock[viewers, STOCK["live"]] += self.weight["live_view"]
        self.stage[viewers] = np.maximum(self.stage[viewers], 2)
        self.touched[viewers] = self._day
        self.channel["live"].impressions += len(viewers)
        self.channel["live"].engagements += len(viewers)

    def _touch(self, rows: np.ndarray, idx: np.ndarray, note_ids: np.ndarray, read: np.ndarray,
               engaged: np.ndarray) -> None:
        """The brand reached these consumers: AIPL stages move up, and the store behind the note is the one
        they would message."""
        self.stage[rows] = np.maximum(self.stage[rows], 1)
        self.touched[rows] = self._day
        np.add.at(self.engaged, rows, engaged.astype(np.int16))
        self.stage[rows[read | engaged]] = np.maximum(self.stage[rows[read | engaged]], 2)
        deep = rows[self.engaged[rows] >= 3]  # only these consumers' counts changed
        self.stage[deep] = np.maximum(self.stage[deep], 3)
        stores = self.note_store[idx]
        known = stores >= 0
        self.last_store[rows[known]] = stores[known]
        self.last_note[rows] = note_ids

    def _sell(self, served: ads.AdBatch, channel: str, rng: np.random.Generator, intent: float = 1.0) -> None:
        """Ads the engine sold: exposures and clicks lift the channel's stock; clicks wait for ``_charge``."""
        prefix = "ad" if channel == "feed_ads" else "search_ad"
        self.served[f"{prefix}_impressions"] += len(served.unit_id)
        if not len(served.unit_id):
            return
        people = self.world.consumers
        rows = served.consumer - people.first_id
        idx = self._note_index(served.note_id)
        mine = self.note_brand[idx] == 0
        interest = behaviour.match(people.interests, rows, self.note_category[idx])
        clicked = behaviour.click(rng, interest * intent, people.creator_trust[rows])
        lift = self.weight["ad_click" if channel == "feed_ads" else "search_ad_click"]
        np.add.at(self.stock[:, STOCK[channel]], rows[mine], self.weight["ad_impression"] + lift * clicked[mine])
        self._touch(rows[mine], idx[mine], served.note_id[mine], clicked[mine], clicked[mine])
        self.channel[channel].impressions += int(mine.sum())
        brand_of = self.note_brand[idx]
        for b, count in zip(*np.unique(brand_of[brand_of > 0], return_counts=True), strict=True):
            self.rivals[int(b) - 1].impressions += int(count)
        store = self._store_of(served.campaign_id)
        for k, count in zip(*np.unique(store[mine & (store >= 0)], return_counts=True), strict=True):
            self.stores[int(k)].impressions += int(count)
        hits = np.flatnonzero(clicked)
        if len(hits):
            self._clicks.append(Clicks(channel, [served.token(int(k)) for k in hits], mine[hits], rows[hits],
                                       brand_of[hits], store[hits]))

    def _charge(self) -> None:
        """The hour's ad clicks, feed and search, through one ``click_batch``, which charges the leases: one
        charge transaction, and one ledger commit, an hour instead of one per surface."""
        pending, self._clicks = self._clicks, []
        if not pending:
            return
        results = iter(self.ads.click_batch([t for c in pending for t in c.tokens]))
        for c in pending:
            prefix = "ad" if c.channel == "feed_ads" else "search_ad"
            tally = self.channel[c.channel]
            self.served[f"{prefix}_clicks"] += len(c.tokens)
            for token, mine, row, brand, store in zip(c.tokens, c.mine.tolist(), c.rows.tolist(), c.brand.tolist(),
                                                      c.store.tolist(), strict=True):
                charged = next(results).charged_fen
                self.served[f"{prefix}_charged_fen"] += charged
                if mine:
                    tally.clicks += 1
                    tally.spend_fen += charged
                    self.last_click[row] = (c.channel, self.ads.sign(token), self.brand.stores[store].account_id,
                                            self.rt.now())
                elif brand > 0:
                    self.rivals[brand - 1].clicks += 1
                    self.rivals[brand - 1].spend_fen += charged
                if store >= 0:
                    self.stores[store].clicks += 1
                    self.stores[store].spend_fen += charged

    def _store_of(self, campaign_ids: np.ndarray) -> np.ndarray:
        """The brand's store running each campaign, -1 for another advertiser's."""
        if not len(self.store_campaigns):
            return np.full(len(campaign_ids), -1, dtype=np.int32)
        at = ads.positions(self.store_campaigns, campaign_ids)
        return np.where(at >= 0, self.campaign_store[np.maximum(at, 0)], -1)

    def _convert(self) -> None:
        rng = self._draws("convert")
        hazard = self.stock[:, 0] + self.stock[:, 1]  # column by column, in order: the row sums' own rounding
        for k in range(2, self.stock.shape[1]):       # at a third of their cost
            hazard += self.stock[:, k]
        hazard += self.baseline
        p = 1.0 - np.exp(-hazard / 24.0)
        buyers = np.flatnonzero(rng.random(len(p)) < p)  # one draw per consumer per tick, whatever happens
        if not len(buyers):
            return
        shares = np.column_stack([self.baseline[buyers], self.stock[buyers]]) / hazard[buyers, None]
        self.truth += shares.sum(axis=0)
        self.conversions += len(buyers)
        route = rng.random(len(buyers))
        posted = rng.random(len(buyers)) < self.world.scenario.brands[0].postback_coverage
        product = rng.integers(0, len(self.brand.product_ids), len(buyers))
        visits = rng.random(len(buyers)) < STORE_VISIT_SHARE
        at = self.rt.now()
        # The hour's orders, DMs, leads and postbacks commit as one transaction (each step joins it): the
        # same rows and events as a commit per step, without five commits per buyer. The hour's shop and live
        # orders are placed, then paid, together at its end.
        orders: list[commerce.OrderAsk] = []
        placed: list[dict[str, Any]] = []  # the ground truth of each order, waiting for the order's id
        dms: list[tuple[int, int, str, bool, dict[str, Any]]] = []  # and of each DM, waiting for its lead's
        with self.rt.db.transaction():
            for b, r, post, pick, visit, share in zip(buyers.tolist(), route.tolist(), posted.tolist(),
                                                      product.tolist(), visits.tolist(), shares, strict=True):
                price = self.world.scenario.brands[0].products[pick].price_fen
                channel = CHANNELS[int(np.argmax(share))]  # the channel with the largest true share
                store = int(self.last_store[b])
                ref = 0
                if b in self.in_room:
                    way = "live"
                    orders.append(self._order(b, pick, commerce.Source("live", str(self.in_room[b]),
                                                                       live_id=self.in_room[b])))
                elif r < ROUTES[0]:
                    way = "shop"
                    orders.append(self._order(b, pick, self._source(b, channel)))
                elif r < ROUTES[0] + ROUTES[1] or store < 0:
                    way = "offsite"  # a sale, whether or not it is reported
                    self.routes["offsite_posted_back"] += int(post)
                    clicked = self.last_click.get(b)
                    # T+7 (FIELD_FACTS §6): an off-platform sale's lag behind the tracked click that sourced it,
                    # counted once a lag over 7 days is possible
                    if clicked is not None and at - clicked[3] <= ads.CONVERSION_WINDOW and self._day >= 8:
                        self.served["clicked_offsite_conversions"] += 1
                        self.served["clicked_offsite_after_7_days"] += int(at - clicked[3] > timedelta(days=7))
                    if post:
                        ref = self._postback(b, price)
                else:
                    way = "store"
                self.routes[way] += 1
                sold = way != "store" or visit
                self._credit(share, store, leads=int(way == "store"), orders=int(sold), gmv=price * int(sold))
                self.stage[b] = 5 if self.stage[b] >= 4 else 4  # a repeat purchase makes a loyal customer
                truth = {
                    "ts": at, "consumer_id": int(self.ids[b]), "route": way, "ref_id": ref,
                    "posted_back": way != "offsite" or post, "product_id": self.brand.product_ids[pick],
                    "value_fen": price if way != "store" or visit else 0,
                    "store_id": self.brand.stores[store].account_id if store >= 0 else None, "channel": channel,
                    **{f"{c}_share": round(float(s), 6) for c, s in zip(CHANNELS, share, strict=True)}}
                self._truth_rows.append(truth)
                if way in ("live", "shop"):
                    placed.append(truth)
                elif way == "store":
                    dms.append((b, store, channel, visit, truth))
            self._store_visits(dms)
            if orders:
                made = commerce.do_create_orders(self.rt, self.ads.ids, orders, actor=OP)
                commerce.do_order_transition_many(self.rt, self.ads.ids, [o.id for o in made], "pay", actor=OP)
                for truth, order in zip(placed, made, strict=True):
                    truth["ref_id"] = order.id
        self.stock[buyers] = 0.0  # a purchase satisfies: the next one needs fresh seeding, or running out
        self.baseline[buyers] = np.maximum(self.baseline[buyers], REPURCHASE_SHARE / (2 * self.tau_days))

    def _source(self, row: int, channel: str) -> commerce.Source:
        clicked = self.last_click.get(row)
        if channel in ("feed_ads", "search_ads") and clicked is not None and clicked[0] == channel:
            return commerce.resolve(self.rt, "ad", clicked[1], int(self.ids[row]), ads.click_resolver(self.rt))
        if channel == "search_ads" and row in self.last_query:
            return commerce.Source("search", self.last_query[row])
        if self.last_note[row]:
            return commerce.Source("note", str(int(self.last_note[row])), note_id=int(self.last_note[row]))
        return commerce.Source("search", content.CATEGORIES[self.brand_category][1])

    def _postback(self, row: int, price: int) -> int:
        """The shop's server reports an off-platform order through the platform's postback, signed with the
        store's secret, when the consumer came through a tracked ad link; the conversion's id, or 0 when
        there was no click inside the postback window to report."""
        clicked = self.last_click.get(row)
        if clicked is None or self.rt.now() - clicked[3] > ads.CONVERSION_WINDOW:
            return 0
        body = json.dumps({"click_id": clicked[1], "type": "order", "value_fen": price, "platform": "tmall",
                           "external_id": f"sim-{self._tick_no}-{row}"}, sort_keys=True).encode()
        view = ads.record_conversion(self.rt, self.ads.ids, body, ads.sign_body(body, self.postback_secret[clicked[2]]))
        self.routes["postbacks_recorded"] += 1
        return view.id

    def _credit(self, share: np.ndarray, store: int, *, leads: int, orders: int, gmv: int) -> None:
        """A conversion's results: each channel's true share of them (whole numbers at the summary), and
        the whole of them to the store the consumer would message."""
        self.credit += share[:, None] * np.array([leads, orders, gmv], dtype=np.float64)
        if store >= 0:
            tally = self.stores[store]
            tally.leads += leads
            tally.orders += orders
            tally.gmv_fen += gmv

    def _order(self, row: int, pick: int, source: commerce.Source) -> commerce.OrderAsk:
        """A shop or live-room order of one unit of the brand's ``pick``-th product, placed and paid through
        the commerce slice with the hour's others."""
        return commerce.OrderAsk(int(self.ids[row]), [(self.brand.product_ids[pick], 1)], source)

    def _store_visits(self, dms: list[tuple[int, int, str, bool, dict[str, Any]]]) -> None:
        """The hour's DMs to stores (consumer row, store, channel, visits, ground truth): each a question,
        an answer and a lead card, through one ``do_dm_leads``; then, for those who come, a visit code
        issued and redeemed at the counter. Each lead's id goes into its ground truth."""
        if not dms:
            return
        asks = [commerce.DmLead(int(self.ids[row]), self.brand.stores[store].account_id, self._source(row, channel),
                                QUESTION, ANSWER, "phone", f"1380000{row % 10_000:04d}")
                for row, store, channel, _, _ in dms]
        leads = commerce.do_dm_leads(self.rt, self.ads.ids, asks, actor=OP)
        for (_, _, _, visit, truth), lead in zip(dms, leads, strict=True):
            truth["ref_id"] = lead.lead_id
            if visit:
                code = commerce.do_issue_visit_code(self.rt, lead.conversation_id, actor=OP).code
                store = accounts.Actor.of_account(lead.account_id)
                commerce.do_redeem_visit_code(self.rt, self.ads.ids, code, actor=store)
                self.routes["store_visits"] += 1

    def _creator_results(self) -> list[dict[str, Any]]:
        """Each deal as the platform measures it (the marketplace's evaluation over the folded events and
        the orders the note was the last touch of), beside the creator's tier and authenticity; the kol
        channel's spend is what left the brand's wallet for them."""
        p = self.programme
        if p is None or not p.deals:
            return []
        if self.store is not None:
            market.fold(self.rt, self.store, lag=timedelta(0))
        market.refresh(self.rt)
        index = market.CreatorIndex.load(self.rt)
        rows = []
        for deal in p.deals:
            view = market.get_collaboration(self.rt, deal.id, actor=OP)
            measured = market.evaluate(self.rt, deal.id, actor=OP)
            creator = int(self.world.creator_ids[deal.creator])
            at = int(np.flatnonzero(index.ids == creator)[0])
            # what left the brand's wallet: still in escrow, or paid out to the creator and the platform
            paid = view.settlement["payout_fen"] + view.settlement["platform_fee_fen"] if view.settlement else 0
            spent = view.escrow_fen + int(paid)
            rows.append({"creator_id": creator, "collaboration_id": deal.id, "state": view.state,
                         "tier": index.stats[at]["tier"], "followers": index.stats[at]["followers"],
                         "authenticity": int(index.authenticity[at]),
                         "fraud": bool(self.world.creators.fraud[deal.creator]),
                         "spend_fen": spent, "exposures": measured.exposures, "reads": measured.reads,
                         "engagements": measured.engagements,
                         "cost_per_engagement_fen": measured.cost_per_engagement_fen, "orders": measured.orders,
                         "gmv_fen": measured.gmv_fen, "roi": measured.roi})
        self.channel["kol"].spend_fen = sum(r["spend_fen"] for r in rows)
        return rows

    def _summary(self) -> Summary:
        creators = self._creator_results()
        spend = self._spend() - self._start_spend[0]
        for t, (leads, orders, gmv) in zip(self.channel.values(), whole(self.credit).tolist(), strict=True):
            t.leads, t.orders, t.gmv_fen = leads, orders, gmv
        channels = []
        for name, t in self.channel.items():
            channels.append({"channel": name, **asdict(t),
                             "roi": round(t.gmv_fen / t.spend_fen, 4) if t.spend_fen else None})
        stores = [{"store_id": s.account_id, "city": self.viewer_city[s.city], "tier": s.tier,
                   "allocated_fen": s.allocated_fen, **asdict(t),
                   "roi": round(t.gmv_fen / t.spend_fen, 4) if t.spend_fen else None}
                  for s, t in zip(self.brand.stores, self.stores, strict=True)]
        totals = {k: sum(getattr(t, k) for t in self.channel.values())
                  for k in ("impressions", "clicks", "engagements", "leads", "orders", "gmv_fen")}
        totals["spend_fen"] = sum(self.channel[c].spend_fen for c in ("feed_ads", "search_ads", "kol"))
        aipl = {STAGES[k]: int(np.sum(self.stage == k)) for k in range(1, len(STAGES))}
        shares = self.truth / self.conversions if self.conversions else np.zeros(len(CHANNELS))
        truth = {"conversions": self.conversions, **self.routes,
                 **{f"{c}_share": round(float(v), 4) for c, v in zip(CHANNELS, shares, strict=True)}}
        scenario = self.world.scenario
        plan = self.programme.plan if self.programme is not None else None
        programme = None if plan is None or self.programme is None else {
            "strategy": plan.strategy, "maximize": plan.objective, "budget_fen": plan.budget_fen,
            "candidates": self.programme.candidates, "status": plan.status, "picks": len(plan.picks),
            "cost_fen": plan.cost_fen, "exposures": round(plan.exposures), "reads": round(plan.reads),
            "engagements": round(plan.engagements), "conversions": round(plan.conversions, 2)}
        served = dict(self.served)
        done = [c for c in creators if c["state"] == "settled"]  # evaluated over their whole window
        if done:  # the programme as the platform measured its deals: what calibration holds it against
            served |= {f"programme_{k}": sum(c[k] for c in done) for k in ("spend_fen", "reads", "engagements")}
        return Summary(sum(s.allocated_fen for s in self.brand.stores), totals, channels, stores, aipl, truth, spend,
                       scenario.days, scenario.consumers, scenario.seed, served, creators, programme,
                       self._competition())

    def _competition(self) -> dict[str, Any]:
        """The competing brands' ads beside the brand's: what each spent (the ledger's figure, which is
        the simulated one), bought and paid a click, and the brand's share of the ads sold in their auctions."""
        brands = []
        for b, (setup, t) in enumerate(zip(self.world.brands[1:], self.rivals, strict=True), start=1):
            brands.append({"brand": setup.name, "account_id": setup.account_id, "stores": len(setup.stores),
                           "allocated_fen": sum(s.allocated_fen for s in setup.stores),
                           "spend_fen": self._spend(b) - self._start_spend[b], "simulated_spend_fen": t.spend_fen,
                           "impressions": t.impressions, "clicks": t.clicks,
                           "cpc_fen": t.spend_fen // t.clicks if t.clicks else None})
        paid = self.channel["feed_ads"].impressions + self.channel["search_ads"].impressions
        sold = paid + sum(t.impressions for t in self.rivals)
        return {"brands": brands, "share_of_ad_impressions": round(paid / sold, 4) if sold else None}


def whole(credit: np.ndarray) -> np.ndarray:
    """Fractional credit as whole numbers, column by column, by largest remainder: each column still sums
    to its (whole) total, and no channel is off by a unit or more."""
    floor = np.floor(credit + 1e-9)
    out = floor.astype(np.int64)
    for k in range(credit.shape[1]):
        left = round(float(credit[:, k].sum())) - int(out[:, k].sum())
        if left > 0:
            out[np.argsort(floor[:, k] - credit[:, k], kind="stable")[:left], k] += 1
    return out


def incremental(base: Summary, other: Summary, off: Switch) -> dict[str, Any]:
    """What switching something off took away, run against run on the same random numbers: the true
    incremental conversions, GMV and spend of what was switched off."""
    gmv = base.totals["gmv_fen"] - other.totals["gmv_fen"]
    return {"switched_off": off.label, "base_conversions": base.truth["conversions"],
            "conversions": other.truth["conversions"],
            "incremental_conversions": base.truth["conversions"] - other.truth["conversions"],
            "incremental_gmv_fen": gmv, "spend_saved_fen": base.totals["spend_fen"] - other.totals["spend_fen"],
            "incremental_roi": round(gmv / (base.totals["spend_fen"] - other.totals["spend_fen"]), 4)
            if base.totals["spend_fen"] != other.totals["spend_fen"] else None}
