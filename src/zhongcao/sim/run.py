"""A simulated campaign, hour by hour, through the real engine.

Each tick draws who opens the app, asks the content engine for their feed pages and the ads engine for
the ads on them (batch facades, so the platform's ranking, auctions, pacing, frequency caps and leases
decide what is seen), draws reads, interactions and ad clicks, and hands them back: interactions as
events the engine counts, clicks through ``click_batch``, which charges leases in the ledger.

Purchases follow an additive hazard per consumer (SIMULATOR.md): a baseline plus a stock per channel
that each exposure to the brand raises and that decays with the category's decision cycle. A
conversion's ground truth is each channel's share of the hazard at that moment. Converting consumers buy
in the brand's shop (an order through the commerce slice, sourced to the ad click or note that touched
them last), off the platform (only some of which a postback would report), or message the store that
touched them last: a DM, a lead card, a visit code redeemed at the counter.

This first loop runs the feed and feed ads for one brand; search, live and creators' collaborations
join it in the next steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np

from zhongcao import accounts, ads, billing, commerce, content
from zhongcao.core import ManualClock, Runtime
from zhongcao.events import EventKind, Surface
from zhongcao.sim import behaviour
from zhongcao.sim.population import CITIES
from zhongcao.sim.world import OP, World, streams

DECISION_DAYS = {"skincare": 29.0, "beauty": 20.0, "mother_baby": 70.0, "auto": 60.0, "home": 45.0}  # [C]/[U]
BASELINE_PER_DAY = 0.0004      # purchases a day with no exposure, for an average interest [U]
# What one exposure adds to the chance of buying over the decision cycle [U]: its hazard term starts at
# this over the cycle's length and decays with it, so its integral is this probability.
LIFT = {"impression": 0.0002, "read": 0.003, "interaction": 0.008, "ad_impression": 0.0001, "ad_click": 0.015}
CHANNELS = ("baseline", "organic", "feed_ads")
ROUTES = (0.5, 0.2)  # shop share, then off-platform share; the rest go to a store [U]
STORE_VISIT_SHARE = 0.6  # leads that come to the store and redeem their code [U]
STAGES = ("none", "aware", "interest", "deep_interest", "purchase", "loyal")
# Leases for simulated time: a tick is an hour, so the serving default (5 minutes) would expire every lease
# every tick. A lease lives a day and holds a few hours of a campaign's clicks: as exact, far fewer renewals.
LEASES = ads.PurseSpec(ttl_seconds=86_400, clicks_per_lease=200, renew_margin_seconds=3_600, retry_seconds=3_600)


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Simulation:
    """One run of a built world; ``run`` advances it day by day."""

    def __init__(self, rt: Runtime, world: World) -> None:
        if not isinstance(rt.clock, ManualClock):
            raise TypeError("a simulation runs on simulated time: give the runtime a ManualClock")
        self.rt, self.world, self.clock = rt, world, rt.clock
        rngs = streams(world.scenario.seed)
        self.rng = rngs["behaviour"]
        self.content = content.ContentEngine(rt, rng=rngs["engine"])
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
        order = np.argsort(world.note_ids)
        self._note_sorted, self._note_order = world.note_ids[order], order
        brand = world.brands[0]
        self.brand = brand
        self.brand_category = brand.category
        tau_days = DECISION_DAYS.get(content.CATEGORIES[brand.category][0], 30.0)
        self.decay = float(np.exp(-1.0 / (24.0 * tau_days)))
        self.weight = {k: v / tau_days for k, v in LIFT.items()}  # a day's hazard right after the exposure
        self.baseline = BASELINE_PER_DAY * behaviour.match(people.interests, np.arange(people.n),
                                                           np.full(people.n, brand.category))
        self.stock = np.zeros((people.n, 2), dtype=np.float64)  # organic, feed_ads
        self.stage = np.zeros(people.n, dtype=np.int8)
        self.engaged = np.zeros(people.n, dtype=np.int16)
        self.last_store = np.full(people.n, -1, dtype=np.int32)   # index into brand.stores
        self.last_note = np.zeros(people.n, dtype=np.int64)
        self.last_click: dict[int, str] = {}
        # the store behind each note (-1 for none), and behind each store campaign, looked up as arrays per tick
        store_of_account = {s.account_id: k for k, s in enumerate(brand.stores)}
        self.note_store = np.array([store_of_account.get(a, -1) for a in world.note_author.tolist()], dtype=np.int32)
        runs = sorted((c.id, k) for k, s in enumerate(brand.stores) for c in ads.list_campaigns(rt, s.account_id,
                                                                                                    actor=OP))
        self.store_campaigns = np.array([c for c, _ in runs], dtype=np.int64)
        self.campaign_store = np.array([k for _, k in runs], dtype=np.int32)
        self.note_quality = np.full(len(world.note_ids), 0.3, dtype=np.float32)
        by_creator = {int(a): i for i, a in enumerate(world.creator_ids)}
        for i, author in enumerate(world.note_author.tolist()):
            if author in by_creator:
                self.note_quality[i] = world.creators.quality[by_creator[author]]
        self.channel = {c: Tally() for c in CHANNELS}  # baseline: purchases no exposure moved most
        self.stores = [Tally() for _ in brand.stores]
        self.truth = np.zeros(3)
        self.conversions = 0
        self.routes = {"shop": 0, "offsite": 0, "offsite_posted_back": 0, "store": 0, "store_visits": 0}
        # every brand's and note's: what calibration reads
        self.served = {"feed_impressions": 0, "reads": 0, "likes": 0, "comments": 0, "interactions": 0,
                       "ad_impressions": 0, "ad_clicks": 0, "ad_charged_fen": 0, "active_consumer_days": 0}
        self._active_today = np.zeros(people.n, dtype=bool)
        self._start_spend = self._spend()

    def _note_index(self, note_ids: np.ndarray) -> np.ndarray:
        return self._note_order[np.searchsorted(self._note_sorted, note_ids)]

    def _spend(self) -> int:
        """What the brand's stores have spent, from the ledger: allocated minus what is left."""
        return sum(s.allocated_fen - billing.get_wallet(self.rt, s.account_id, actor=OP).balance_fen
                   for s in self.brand.stores)

    def run(self, progress: Callable[[int], None] | None = None) -> Summary:
        for day in range(self.world.scenario.days):
            self._active_today = np.zeros(self.world.consumers.n, dtype=bool)
            for hour in range(24):
                self._tick(hour)
                self.clock.advance(timedelta(hours=1))
            self.served["active_consumer_days"] += int(self._active_today.sum())
            if progress:
                progress(day + 1)
        self.content.flush()
        self.ads.close()  # leases return what they did not spend
        return self._summary()

    def _tick(self, hour: int) -> None:
        people = self.world.consumers
        active = np.flatnonzero(self.rng.poisson(people.activity * behaviour.HOURLY[hour]) > 0)
        self._active_today[active] = True
        self.stock *= self.decay
        if len(active):
            self._feed(active)
        self._convert()
        self.content.flush()
        self.ads.sync()

    def _feed(self, active: np.ndarray) -> None:
        people, world = self.world.consumers, self.world
        page = self.content.feed_batch(self.ids[active], behaviour.PAGE)
        self.served["feed_impressions"] += len(page.note_id)
        rows = page.consumer - people.first_id
        idx = self._note_index(page.note_id)
        brand_note = world.note_brand[idx] == 0
        interest = behaviour.match(people.interests, rows, world.note_category[idx])
        seen = behaviour.react(self.rng, interest, self.note_quality[idx], people.creator_trust[rows])
        interacted = np.zeros(len(rows), dtype=bool)
        kinds, who, notes = [], [], []
        for kind, hit in seen.interactions.items():
            interacted |= hit
            if kind in (EventKind.LIKE, EventKind.COMMENT):
                self.served["likes" if kind == EventKind.LIKE else "comments"] += int(hit.sum())
            kinds.append(np.full(int(hit.sum()), kind.value))
            who.append(page.consumer[hit])
            notes.append(page.note_id[hit])
        read = seen.read
        self.served["reads"] += int(read.sum())
        self.served["interactions"] += int(interacted.sum())
        kinds.insert(0, np.full(int(read.sum()), EventKind.READ.value))
        who.insert(0, page.consumer[read])
        notes.insert(0, page.note_id[read])
        all_notes = np.concatenate(notes)
        if len(all_notes):
            self.content.record(len(all_notes), {
                "kind": np.concatenate(kinds), "consumer_id": np.concatenate(who), "note_id": all_notes,
                "creator_id": world.note_author[self._note_index(all_notes)], "surface": Surface.FEED.value})
        # the brand's notes seen organically seed the hazard
        trust = people.creator_trust[rows]
        w = (self.weight["impression"] + self.weight["read"] * read + self.weight["interaction"] * interacted) * trust
        np.add.at(self.stock[:, 0], rows[brand_note], w[brand_note])
        self._touch(rows[brand_note], idx[brand_note], page.note_id[brand_note], read[brand_note],
                    interacted[brand_note])
        tally = self.channel["organic"]
        tally.impressions += int(brand_note.sum())
        tally.engagements += int(interacted[brand_note].sum())
        self._ads(active)

    def _touch(self, rows: np.ndarray, idx: np.ndarray, note_ids: np.ndarray, read: np.ndarray,
               engaged: np.ndarray) -> None:
        """The brand reached these consumers: AIPL stages move up, and the store behind the note is the one
        they would message."""
        self.stage[rows] = np.maximum(self.stage[rows], 1)
        np.add.at(self.engaged, rows, engaged.astype(np.int16))
        self.stage[rows[read | engaged]] = np.maximum(self.stage[rows[read | engaged]], 2)
        deep = rows[self.engaged[rows] >= 3]  # only these consumers' counts changed
        self.stage[deep] = np.maximum(self.stage[deep], 3)
        stores = self.note_store[idx]
        known = stores >= 0
        self.last_store[rows[known]] = stores[known]
        self.last_note[rows] = note_ids

    def _ads(self, active: np.ndarray) -> None:
        people = self.world.consumers
        viewers = ads.Viewers(self.ids[active], self.viewer_gender[active], self.viewer_age[active],
                              self.viewer_device[active], [self.viewer_city[int(c)] for c in people.city[active]])
        served = self.ads.feed_ads(viewers, behaviour.PAGE)
        self.served["ad_impressions"] += len(served.unit_id)
        if not len(served.unit_id):
            return
        rows = served.consumer - people.first_id
        idx = self._note_index(served.note_id)
        mine = self.world.note_brand[idx] == 0
        interest = behaviour.match(people.interests, rows, self.world.note_category[idx])
        clicked = behaviour.click(self.rng, interest, people.creator_trust[rows])
        np.add.at(self.stock[:, 1], rows[mine], self.weight["ad_impression"] + self.weight["ad_click"] * clicked[mine])
        self._touch(rows[mine], idx[mine], served.note_id[mine], clicked[mine], clicked[mine])
        tally = self.channel["feed_ads"]
        tally.impressions += int(mine.sum())
        store = self._store_of(served.campaign_id)
        for k, count in zip(*np.unique(store[mine & (store >= 0)], return_counts=True), strict=True):
            self.stores[int(k)].impressions += int(count)
        hits = np.flatnonzero(clicked)
        if len(hits):
            tokens = [served.token(int(k)) for k in hits]
            results = self.ads.click_batch(tokens)
            self.served["ad_clicks"] += len(results)
            self.served["ad_charged_fen"] += sum(r.charged_fen for r in results)
            for k, token, r in zip(hits.tolist(), tokens, results, strict=True):
                if mine[k]:
                    tally.clicks += 1
                    tally.spend_fen += r.charged_fen
                    self.last_click[int(rows[k])] = self.ads.sign(token)
                if store[k] >= 0:
                    self.stores[int(store[k])].clicks += 1
                    self.stores[int(store[k])].spend_fen += r.charged_fen

    def _store_of(self, campaign_ids: np.ndarray) -> np.ndarray:
        """The brand's store running each campaign, -1 for another advertiser's."""
        if not len(self.store_campaigns):
            return np.full(len(campaign_ids), -1, dtype=np.int32)
        at = ads.positions(self.store_campaigns, campaign_ids)
        return np.where(at >= 0, self.campaign_store[np.maximum(at, 0)], -1)

    def _convert(self) -> None:
        hazard = self.baseline + self.stock.sum(axis=1)
        p = 1.0 - np.exp(-hazard / 24.0)
        buyers = np.flatnonzero(self.rng.random(len(p)) < p)
        if not len(buyers):
            return
        shares = np.column_stack([self.baseline[buyers], self.stock[buyers]]) / hazard[buyers, None]
        self.truth += shares.sum(axis=0)
        self.conversions += len(buyers)
        route = self.rng.random(len(buyers))
        posted = self.rng.random(len(buyers)) < self.world.scenario.brands[0].postback_coverage
        product = self.rng.integers(0, len(self.brand.product_ids), len(buyers))
        for b, r, post, pick, share in zip(buyers.tolist(), route.tolist(), posted.tolist(), product.tolist(),
                                           shares, strict=True):
            price = self.world.scenario.brands[0].products[pick].price_fen
            channel = CHANNELS[int(np.argmax(share))]  # the channel with the largest true share
            store = int(self.last_store[b])
            if r < ROUTES[0]:
                self._shop_order(b, self.brand.product_ids[pick], price, channel, store)
            elif r < ROUTES[0] + ROUTES[1] or store < 0:
                self.routes["offsite"] += 1
                self.routes["offsite_posted_back"] += int(post)
                self._credit(channel, store, orders=1, gmv=price)  # a sale, whether or not it is reported
            else:
                self._store_visit(b, store, price, channel)
            self.stage[b] = 5 if self.stage[b] >= 4 else 4
        self.stock[buyers] = 0.0  # a purchase satisfies: the next one needs fresh seeding

    def _source(self, row: int, channel: str) -> commerce.Source:
        if channel == "feed_ads" and row in self.last_click:
            return commerce.resolve(self.rt, "ad", self.last_click[row], int(self.ids[row]),
                                    ads.click_resolver(self.rt))
        if self.last_note[row]:
            return commerce.Source("note", str(int(self.last_note[row])), note_id=int(self.last_note[row]))
        return commerce.Source("search", content.CATEGORIES[self.brand_category][1])

    def _credit(self, channel: str, store: int, *, leads: int = 0, orders: int = 0, gmv: int = 0) -> None:
        for tally in [self.channel[channel]] + ([self.stores[store]] if store >= 0 else []):
            tally.leads += leads
            tally.orders += orders
            tally.gmv_fen += gmv

    def _shop_order(self, row: int, product: int, price: int, channel: str, store: int) -> None:
        source = self._source(row, channel)
        order = commerce.do_create_order(self.rt, self.ads.ids, int(self.ids[row]), [(product, 1)], source, actor=OP)
        commerce.do_order_transition(self.rt, self.ads.ids, order.id, "pay", actor=OP)
        self.routes["shop"] += 1
        self._credit(channel, store, orders=1, gmv=price)

    def _store_visit(self, row: int, store: int, price: int, channel: str) -> None:
        account = self.brand.stores[store].account_id
        source = self._source(row, channel)
        ids = self.ads.ids
        conversation = commerce.do_open_conversation(self.rt, ids, int(self.ids[row]), account, source, actor=OP)
        commerce.do_post_message(self.rt, conversation.id, "consumer", "请问门店地址在哪里？", actor=OP)
        commerce.do_post_message(self.rt, conversation.id, "account", "欢迎到店体验，给您发个到店码。",
                                 actor=accounts.Actor.of_account(account))
        commerce.do_lead_card(self.rt, ids, conversation.id, "phone", f"1380000{row % 10_000:04d}", actor=OP)
        self.routes["store"] += 1
        self._credit(channel, store, leads=1)
        if self.rng.random() < STORE_VISIT_SHARE:
            code = commerce.do_issue_visit_code(self.rt, conversation.id, actor=OP).code
            commerce.do_redeem_visit_code(self.rt, ids, code, actor=accounts.Actor.of_account(account))
            self.routes["store_visits"] += 1
            self._credit(channel, store, orders=1, gmv=price)

    def _summary(self) -> Summary:
        spend = self._spend() - self._start_spend
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
        totals["spend_fen"] = self.channel["feed_ads"].spend_fen
        aipl = {STAGES[k]: int(np.sum(self.stage == k)) for k in range(1, len(STAGES))}
        shares = self.truth / self.conversions if self.conversions else np.zeros(3)
        truth = {"conversions": self.conversions, **self.routes,
                 **{f"{c}_share": round(float(v), 4) for c, v in zip(CHANNELS, shares, strict=True)}}
        scenario = self.world.scenario
        return Summary(sum(s.allocated_fen for s in self.brand.stores), totals, channels, stores, aipl, truth, spend,
                       scenario.days, scenario.consumers, scenario.seed, dict(self.served))

