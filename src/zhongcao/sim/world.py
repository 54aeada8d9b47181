"""A scenario's world, generated from its seed and created in State through the slices' own actions.

Consumers and creators are arrays (the platform sees consumers as ids only). The brand, its stores (KOB,
certified and authorized), wallets and allocations by city tier, products and shop, store locations,
creators' accounts, the back catalogue of notes and the stores' seeding notes, and the campaigns are all
made by the same actions the API calls, so every rule holds in a simulation as in production: a
simulated world cannot be one a real platform would refuse. Bulk actions (``do_create_accounts``,
``do_create_notes``) keep a 100-store, 4,000-note world to a few seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import numpy as np

from zhongcao import accounts, ads, billing, commerce, content
from zhongcao.accounts import Actor
from zhongcao.core import Runtime
from zhongcao.sim import creators as creator_model
from zhongcao.sim import marketplace, population, text
from zhongcao.sim.scenario import Brand, CampaignPlan, Scenario

OP = Actor.operator()
BRAND_FOLLOWERS = 50_000  # [U] a brand running a 100-store KOB programme has an audience


@dataclass(frozen=True)
class StoreSetup:
    account_id: int
    city: int        # index into population.CITIES
    tier: int
    allocated_fen: int
    note_ids: list[int]


@dataclass(frozen=True)
class BrandSetup:
    account_id: int
    name: str
    category: int
    product_ids: list[int]
    stores: list[StoreSetup]
    campaign_ids: list[int]
    top_up_fen: int


@dataclass(frozen=True)
class World:
    scenario: Scenario
    consumers: population.Consumers
    creators: creator_model.Creators
    creator_ids: np.ndarray   # account id of creator i
    note_ids: np.ndarray      # every note, creators' then stores'
    note_author: np.ndarray   # account id
    note_category: np.ndarray
    note_brand: np.ndarray    # index into brands, -1 for none
    brands: list[BrandSetup]
    creator_truth: marketplace.CreatorTruth


def streams(seed: int) -> dict[str, np.random.Generator]:
    """One generator per concern, spawned from the scenario seed: a counterfactual that changes one concern
    leaves the others' draws unchanged (common random numbers)."""
    names = ("consumers", "creators", "notes", "stores", "behaviour", "engine", "market")
    return {n: np.random.default_rng(s) for n, s in zip(names, np.random.SeedSequence(seed).spawn(len(names)),
                                                          strict=True)}


def start_of(scenario: Scenario, offset_hours: int) -> datetime:
    """The instant the first simulated budget day begins."""
    return datetime.combine(scenario.start, time.min, tzinfo=UTC) - timedelta(hours=offset_hours)


def build(rt: Runtime, scenario: Scenario) -> World:
    rngs = streams(scenario.seed)
    people = population.generate(scenario.consumers, rngs["consumers"])
    makers = creator_model.generate(scenario.creators, rngs["creators"])
    creator_ids = np.array(accounts.do_create_accounts(
        rt, "creator", [f"达人{i + 1:05d}" for i in range(makers.n)], certified=True, actor=OP), dtype=np.int64)
    truth = marketplace.record(rt, people, makers, creator_ids, rt.today(), rngs["market"])
    categories = np.where(rngs["notes"].random(scenario.creator_notes) < 0.8,  # 80% in their home category
                          -1, rngs["notes"].integers(0, content.N_CATEGORIES, scenario.creator_notes))
    writers = _writers(makers, scenario.creator_notes, rngs["notes"])
    categories = np.where(categories < 0, makers.category[writers], categories).astype(np.int16)
    drafts = [content.NoteDraft(int(creator_ids[w]), title, body, category=content.CATEGORIES[int(c)][0])
              for w, c, (title, body) in zip(writers, categories,
                                             text.notes(len(writers), categories, rngs["notes"]), strict=True)]
    note_ids = content.do_create_notes(rt, drafts, actor=OP) if drafts else []
    authors = [int(creator_ids[w]) for w in writers]
    brand_of = [-1] * len(note_ids)
    cats = [int(c) for c in categories]
    brands = []
    for b, plan in enumerate(scenario.brands):
        setup = _brand(rt, plan, rngs["stores"], rngs["notes"])
        brands.append(setup)
        for store in setup.stores:
            note_ids += store.note_ids
            authors += [store.account_id] * len(store.note_ids)
            brand_of += [b] * len(store.note_ids)
            cats += [setup.category] * len(store.note_ids)
    return World(scenario, people, makers, creator_ids, np.array(note_ids, dtype=np.int64),
                 np.array(authors, dtype=np.int64), np.array(cats, dtype=np.int16), np.array(brand_of, dtype=np.int16),
                 brands, truth)


def _writers(makers: creator_model.Creators, n: int, rng: np.random.Generator) -> np.ndarray:
    """Who wrote each back-catalogue note: creators in proportion to how often they post."""
    if makers.n == 0:
        return np.zeros(0, dtype=np.int64)
    p = makers.notes_per_week / makers.notes_per_week.sum()
    return rng.choice(makers.n, size=n, p=p)


def _brand(rt: Runtime, plan: Brand, rng: np.random.Generator, note_rng: np.random.Generator) -> BrandSetup:
    brand = accounts.do_create_accounts(rt, "brand", [plan.name], certified=True, actor=OP)[0]
    as_brand = Actor.of_account(brand)
    tiers = np.array([t for _, t in population.CITIES])
    city = rng.choice(len(population.CITIES), size=plan.stores, p=population.city_weights())
    names = [f"{plan.name.split()[0]}·{population.CITIES[int(c)][0]}{i + 1:03d}店" for i, c in enumerate(city)]
    store_ids = accounts.do_create_accounts(rt, "store", names, certified=True, actor=OP)
    budgets = [int(round(plan.budget_fen_by_tier[int(tiers[c]) - 1] * rng.uniform(0.8, 1.2), -2)) for c in city]
    programme = plan.creator_programme
    # the stores' budgets, a reserve, and the creator programme's fees with the platform's 10%
    top_up = sum(budgets) + 1_000_000 + (programme.budget_fen * 11 // 10 if programme else 0)
    billing.do_top_up(rt, brand, top_up, idempotency_key=f"sim-{brand}", actor=OP, memo="simulated top-up")
    category = content.CODE[plan.category]
    commerce.do_open_shop(rt, brand, followers=BRAND_FOLLOWERS, actor=OP)
    products = [commerce.do_create_product(rt, brand, name=p.name, price_fen=p.price_fen, category=plan.category,
                                           stock=10**9, actor=OP).id for p in plan.products]
    stores: list[StoreSetup] = []
    for store, c, budget in zip(store_ids, city, budgets, strict=True):
        invite = accounts.do_invite(rt, brand, store, actor=as_brand)
        accounts.do_confirm(rt, invite.id, actor=Actor.of_account(store))
        if budget:
            billing.do_allocate(rt, brand, store, budget, actor=as_brand, idempotency_key=f"sim-{store}")
        city_name = population.CITIES[int(c)][0]
        commerce.do_set_poi(rt, store, name=names[len(stores)], address=f"{city_name}市中心商场 1 层", city=city_name,
                            lat=float(rng.uniform(22, 40)), lng=float(rng.uniform(104, 122)), actor=OP)
        picks = note_rng.integers(0, len(products), plan.store_notes)
        written = text.notes(plan.store_notes, np.full(plan.store_notes, category), note_rng,
                             brand=[plan.name.split()[0]] * plan.store_notes,
                             product=[plan.products[int(p)].name for p in picks], city=[city_name] * plan.store_notes)
        notes = content.do_create_notes(rt, [
            content.NoteDraft(store, title, body, category=plan.category, product_ids=[products[int(p)]])
            for (title, body), p in zip(written, picks, strict=True)], actor=OP) if plan.store_notes else []
        stores.append(StoreSetup(store, int(c), int(tiers[c]), budget, notes))
    campaigns = [cid for campaign in plan.campaigns for cid in _campaigns(rt, campaign, brand, stores)]
    return BrandSetup(brand, plan.name, category, products, stores, campaigns, top_up)


def _campaigns(rt: Runtime, plan: CampaignPlan, brand: int, stores: list[StoreSetup]) -> list[int]:
    """A store-level plan is one campaign per store with notes, spending the store's wallet; a brand-level
    one is a single brand campaign promoting the first store's notes (代投)."""
    runners = [(s.account_id, s.note_ids) for s in stores if s.note_ids] if plan.level == "store" else \
        [(brand, next((s.note_ids for s in stores if s.note_ids), []))]
    ids = []
    for account, notes in runners:
        if not notes:
            continue
        campaign = ads.do_create_campaign(rt, account, {
            "name": plan.name, "objective": plan.objective, "placement": plan.placement, "bidding": "manual",
            "optimize_for": "click", "daily_budget_fen": plan.daily_budget_fen}, actor=OP).id
        unit = ads.do_create_unit(rt, campaign, {
            "name": plan.name, "bid_fen": plan.bid_fen, "note_ids": notes,
            "keywords": [{"keyword": k} for k in plan.keywords] if plan.placement == "search" else []}, actor=OP).id
        for note in notes:
            ads.do_create_creative(rt, unit, note, {"kind": "dm"}, actor=OP)
        ids.append(campaign)
    return ids
