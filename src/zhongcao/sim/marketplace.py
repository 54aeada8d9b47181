"""The creator marketplace in the simulated world: what the platform records about creators (profiles,
follower history, a sample of followers, recent comments), with the frauds' traces in it, and the brand's
creator programme, which briefs creators through the marketplace's own actions.

Frauds leave the traces published about bought audiences, not a label the model could read: bought
followers are bot accounts (``sim.accounts.fake``) that arrive on a day or two, and a share of frauds also
buy likes, which arrive without reads and with comments that repeat a handful of phrases. Honest creators
have a few bots too, and some have a viral day, so no single trace gives a fraud away.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from zhongcao import content, market
from zhongcao.accounts import Actor
from zhongcao.core import Conflict, Runtime
from zhongcao.events import EventStore
from zhongcao.sim import accounts, text
from zhongcao.sim.creators import Creators
from zhongcao.sim.population import CITIES, GENDER_TILT, Consumers, city_weights
from zhongcao.sim.scenario import CreatorProgramme

if TYPE_CHECKING:
    from zhongcao.sim.world import BrandSetup

OP, SYSTEM = Actor.operator(), Actor.system()
HISTORY_DAYS = 30
SAMPLE = 60                      # followers sampled per creator
COMMENTS = 30                    # recent comments sampled per creator
NATURAL_BOTS = (0.01, 0.08)      # [U] bots follow everyone a little
VIRAL_SHARE = 0.15               # [U] honest creators with a viral day in the last month
BUYS_ENGAGEMENT = 0.6            # [U] frauds that buy likes as well as followers
BOUGHT_LIKES_PER_READ = 1.5      # [U] bought likes a day, per real read of the fraud's notes that day
FEN_PER_FAN = (15, 8, 6, 5)      # [U] price per note per follower by tier, inside FIELD_FACTS §6's ranges
REPLY, DECLINE = 0.85, 0.1       # [U] creators who answer an invitation in time, and who say no
REVISE = 0.2                     # [U] drafts the brand sends back once
HONEST_COMMENTS = ("质地好舒服", "求链接", "已下单", "真的有用吗", "敏感肌能用吗", "这个价格还可以", "收藏了",
                   "博主皮肤好好", "用了一周确实有变化", "味道怎么样", "学生党冲", "回购第三瓶了", "有点油",
                   "好看", "空瓶记录", "和之前那款比呢")
BOUGHT_COMMENTS = ("太好用了！！", "必须入手", "爱了爱了", "好物推荐")


@dataclass(frozen=True)
class CreatorTruth:
    """What the platform does not see: which frauds also buy engagement."""

    buys_engagement: np.ndarray  # bool per creator


def record(rt: Runtime, people: Consumers, makers: Creators, creator_ids: np.ndarray, start: date,
           rng: np.random.Generator) -> CreatorTruth:
    """Profiles, 30 days of follower history, audience and comment samples for every creator."""
    n = makers.n
    if not n:
        return CreatorTruth(np.zeros(0, dtype=bool))
    categories = [content.CATEGORIES[int(c)][0] for c in makers.category]
    regions = rng.choice(len(CITIES), size=n, p=city_weights())
    female = rng.random(n) < np.array([1 / (1 + np.exp(-(0.8 + 0.6 * GENDER_TILT.get(c, 0.0)))) for c in categories])
    quote = np.round(makers.followers * np.array(FEN_PER_FAN)[makers.tier] * rng.lognormal(0, 0.3, n), -2)
    quote = np.maximum(quote, 10_000).astype(np.int64)
    following = rng.lognormal(np.log(400), 0.8, n).astype(np.int64)
    market.do_set_creator_profiles(rt, [market.CreatorProfile(
        int(creator_ids[i]), categories[i], CITIES[int(regions[i])][0], "female" if female[i] else "male",
        int(quote[i]), int(quote[i] * 3 // 2), int(following[i]), bool(rng.random() < 0.97), False,
        int(rng.integers(10, 121))) for i in range(n)], actor=OP)
    _history(rt, makers, creator_ids, start, rng)
    buys = makers.fraud & (rng.random(n) < BUYS_ENGAGEMENT)
    _audiences(rt, people, makers, creator_ids, rng)
    _comments(rt, creator_ids, buys, rng)
    return CreatorTruth(buys)


def _history(rt: Runtime, makers: Creators, creator_ids: np.ndarray, start: date, rng: np.random.Generator) -> None:
    """Daily follower counts for the 30 days before the start, ending at what the profile shows."""
    n, days = makers.n, HISTORY_DAYS
    growth = rng.lognormal(np.log(0.003), 0.6, n)
    real = makers.real_followers[:, None] / (1 + growth[:, None]) ** np.arange(days, 0, -1)[None, :]
    viral = (~makers.fraud) & (rng.random(n) < VIRAL_SHARE)
    viral_day = rng.integers(1, days, n)
    jump = real[:, -1] * growth * rng.uniform(5, 15, n)
    real += np.where(viral[:, None] & (np.arange(days)[None, :] >= viral_day[:, None]), jump[:, None], 0.0)
    real *= (makers.real_followers / real[:, -1])[:, None]  # end where the ground truth is
    bought = (makers.followers - makers.real_followers).astype(np.float64)
    before = rng.uniform(0.2, 0.6, n)  # the part bought before the window
    spike = rng.integers(1, days, n)
    second = np.minimum(spike + rng.integers(1, 4, n), days - 1)
    day = np.arange(days)[None, :]
    arrived = before[:, None] + (1 - before[:, None]) * np.where(
        day >= second[:, None], 1.0, np.where(day >= spike[:, None], 0.7, 0.0))
    shown = np.round(real + bought[:, None] * arrived).astype(np.int64)
    shown[:, -1] = makers.followers
    for d in range(days):
        market.do_record_followers(rt, start - timedelta(days=days - d), creator_ids, shown[:, d], actor=SYSTEM)


def _audiences(rt: Runtime, people: Consumers, makers: Creators, creator_ids: np.ndarray,
               rng: np.random.Generator) -> None:
    """A sample of each creator's followers: people who like the creator's category, and bots."""
    n = makers.n
    pools = {}
    for c in np.unique(makers.category):
        weight = people.interests[:, int(c)].astype(np.float64)
        pools[int(c)] = rng.choice(people.n, size=min(5_000, people.n), p=weight / weight.sum())
    natural = rng.uniform(*NATURAL_BOTS, n)
    fake_share = natural + (1 - natural) * (1 - makers.real_followers / np.maximum(makers.followers, 1))
    is_fake = rng.random((n, SAMPLE)) < fake_share[:, None]
    rows = np.stack([pools[int(makers.category[i])][rng.integers(0, len(pools[int(makers.category[i])]), SAMPLE)]
                     for i in range(n)]).ravel()
    fake = is_fake.ravel()
    total = n * SAMPLE
    codes = {"gender": np.where(people.female[rows], 0, 1), "age": accounts.age_bucket(people.age[rows]),
             "city_tier": people.tier[rows].astype(np.int64),
             "consumption": np.digitize(1 - people.price_sensitivity[rows], [0.35, 0.65]),
             "device": np.where(people.ios[rows], 0, 1)}
    bots = {"gender": np.where(rng.random(total) < 0.5, 2, rng.integers(0, 2, total)),
            "age": rng.integers(0, 5, total), "city_tier": rng.integers(1, 5, total),
            "consumption": np.where(rng.random(total) < 0.8, 0, rng.integers(0, 3, total)),
            "device": np.where(rng.random(total) < 0.8, 1, 0)}
    columns = {k: np.where(fake, bots[k], codes[k]) for k in codes}
    real_cols, fake_cols = accounts.real(total, rng), accounts.fake(total, rng)
    for k in real_cols:
        columns[k] = np.where(fake, fake_cols[k], real_cols[k])
    market.do_record_audience(rt, np.repeat(creator_ids, SAMPLE), columns, actor=SYSTEM)


def _comments(rt: Runtime, creator_ids: np.ndarray, buys: np.ndarray, rng: np.random.Generator) -> None:
    n = len(creator_ids)
    bought = (rng.random((n, COMMENTS)) < np.where(buys, 0.6, 0.0)[:, None])
    honest = rng.integers(0, len(HONEST_COMMENTS), (n, COMMENTS))
    tail = rng.integers(0, 1_000, (n, COMMENTS))
    fake = rng.integers(0, len(BOUGHT_COMMENTS), (n, COMMENTS))
    texts = [BOUGHT_COMMENTS[fake[i, j]] if bought[i, j] else
             (HONEST_COMMENTS[honest[i, j]] + ("" if tail[i, j] < 300 else f"，第{tail[i, j] % 97 + 1}天打卡"))
             for i in range(n) for j in range(COMMENTS)]
    market.do_record_comments(rt, np.repeat(creator_ids, COMMENTS).tolist(), [None] * len(texts), texts,
                              actor=SYSTEM)


@dataclass
class Deal:
    id: int
    creator: int          # index into the world's creators
    quote_fen: int        # the creator's listed price (nothing for a product trial)
    reply_day: int | None  # None: never answers (the invitation lapses)
    declines: bool
    draft_delay: int
    revise: bool
    published_note: int | None = None


@dataclass
class Programme:
    """The brand's creator programme, driven a day at a time through the marketplace's actions."""

    rt: Runtime
    spec: CreatorProgramme
    brand: BrandSetup
    creator_ids: np.ndarray
    deals: list[Deal] = field(default_factory=list)
    brief_id: int | None = None
    plan: market.Plan | None = None
    candidates: int = 0

    @property
    def actor(self) -> Actor:
        return Actor.of_account(self.brand.account_id)

    def launch(self, day: int, store: EventStore | None, rng: np.random.Generator, until: datetime) -> None:
        """Read the creators' analytics (the store's events before ``until``), brief, plan the mix and
        invite the picks."""
        rt, spec = self.rt, self.spec
        if store is not None:
            market.fold(rt, store, until=until)
        market.refresh(rt)
        now = rt.now()
        category = content.CATEGORIES[self.brand.category][0]
        self.brief_id = market.do_create_brief(rt, self.brand.account_id, {
            "title": f"{self.brand.name.split()[0]} 新品种草 creator seeding", "category": category,
            "product_id": self.brand.product_ids[0], "format": spec.format, "budget_fen": spec.budget_fen,
            "contract": spec.contract, "cps_rate_bp": 2_000 if spec.contract == "cps" else 0,
            "deliverables": "一篇真实使用体验笔记，带产品链接", "sample_required": True, "max_revisions": 1,
            "publish_from": now.isoformat(), "publish_to": (now + timedelta(days=spec.publish_days)).isoformat(),
            "evaluation_days": spec.evaluation_days}, actor=self.actor).id
        index = market.CreatorIndex.load(rt)
        query = market.Query(category=category, min_authenticity=spec.min_authenticity, format=spec.format)
        candidates = index.candidates(query)
        self.candidates = len(candidates.ids)
        self.plan = market.plan(candidates, spec.budget_fen, market.PRESETS[spec.strategy], spec.maximize)
        row_of = {int(c): i for i, c in enumerate(self.creator_ids)}
        for pick in self.plan.picks:
            deal = market.do_invite(rt, self.brief_id, pick.creator_id, actor=self.actor)
            answers = rng.random() < REPLY
            quote = 0 if spec.contract == "trial" else pick.fee_fen
            reply = day + int(rng.integers(0, 2)) if answers else None
            self.deals.append(Deal(deal.id, row_of[pick.creator_id], quote, reply, bool(rng.random() < DECLINE),
                                   int(rng.integers(1, 4)), bool(rng.random() < REVISE)))

    def step(self, day: int) -> list[tuple[int, int]]:
        """Each side's move on each live deal today; the notes published today, as (note id, creator)."""
        published = []
        for deal in self.deals:
            state = market.get_collaboration(self.rt, deal.id, actor=OP).state
            creator = Actor.of_account(int(self.creator_ids[deal.creator]))
            try:
                match state:
                    case "invited" if deal.reply_day is not None and day >= deal.reply_day:
                        if deal.declines:
                            market.do_decline(self.rt, deal.id, actor=creator)
                        else:
                            market.do_quote(self.rt, deal.id, deal.quote_fen, actor=creator)
                    case "quoted":
                        market.do_accept(self.rt, deal.id, actor=self.actor)
                        market.do_fund(self.rt, deal.id, actor=self.actor)
                        market.do_ship_sample(self.rt, deal.id, actor=self.actor)
                        deal.draft_delay += day
                    case "sample_shipped" | "changes_requested" if day >= deal.draft_delay:
                        title, body = text.notes(1, np.array([self.brand.category]), np.random.default_rng(deal.id),
                                                 brand=[self.brand.name.split()[0]], product=[None])[0]
                        market.do_submit_draft(self.rt, deal.id, title=title, body=body, actor=creator)
                    case "draft_submitted":
                        if deal.revise:
                            deal.revise = False
                            deal.draft_delay = day + 1
                            market.do_request_changes(self.rt, deal.id, feedback="请多展示产品质地和使用前后对比",
                                                      actor=self.actor)
                        else:
                            market.do_approve(self.rt, deal.id, actor=self.actor)
                    case "approved":
                        view = market.do_publish(self.rt, deal.id, actor=creator)
                        assert view.note_id is not None
                        deal.published_note = view.note_id
                        published.append((view.note_id, deal.creator))
            except Conflict:
                # the brief's budget is spent or the wallet is short: the brand walks away from this one
                if market.get_collaboration(self.rt, deal.id, actor=OP).state in ("quoted", "accepted"):
                    market.do_cancel(self.rt, deal.id, actor=self.actor)
        return published
