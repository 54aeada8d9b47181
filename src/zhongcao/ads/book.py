"""The ad book: every servable creative, compiled from State into arrays the delivery engine indexes.

A creative is servable when it, its unit and its campaign are active, its note is still published
(a restricted note's creatives stop; the unit's others serve on), and, for 代投, the brand's
authorization over the notes' author is still active. Dates, dayparts, budgets and money are checked
at decision time, since they change by the minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

import numpy as np
from sqlalchemy import func, select

from zhongcao.accounts import ancestors
from zhongcao.ads import audiences
from zhongcao.ads.enums import Bidding, BillingEvent, OptimizeFor, Pacing, Status
from zhongcao.ads.keywords import KeywordEntry, KeywordIndex
from zhongcao.ads.models import AudienceRow, CampaignRow, CreativeRow, KeywordRow, UnitRow
from zhongcao.ads.pacing import schedule_mask
from zhongcao.ads.spec import Campaign, Targeting
from zhongcao.ads.targeting import TargetingIndex
from zhongcao.content import CODE, notes_by_id
from zhongcao.core import Runtime, Settings

CLICK_GOALS = (OptimizeFor.CLICK.value, OptimizeFor.ENGAGEMENT.value)  # priced per click; others per result


@dataclass(frozen=True)
class Book:
    # campaigns, indexed k
    campaign_id: np.ndarray
    campaign_account: np.ndarray
    budget_fen: np.ndarray       # float; inf when unlimited
    even: np.ndarray
    schedule: np.ndarray         # (k, 7, 24)
    serves_feed: np.ndarray
    serves_search: np.ndarray
    search_coefficient: np.ndarray  # 1, or the quick-cast coefficient for a feed campaign in search
    start: np.ndarray            # unix seconds the campaign may start (its first budget day's midnight)
    end: np.ndarray              # unix seconds it must stop (inf when open-ended)
    utc_offset_hours: int        # the platform's budget day: dayparts, pacing and frequency caps count in it
    # units, indexed u
    unit_id: np.ndarray
    unit_campaign: np.ndarray
    bid_fen: np.ndarray          # manual: the bid per result; auto: 0 (the bidder sets it)
    target_cost_fen: np.ndarray  # auto: the cost per result to steer to, or the cap; 0 when none
    auto: np.ndarray             # the bidder sets this unit's bid
    cap: np.ndarray              # the target cost is a hard cap (cost cap bidding)
    per_result: np.ndarray       # the bid is per conversion (oCPC), not per click
    per_mille: np.ndarray        # CPM: the bid is per thousand impressions, and impressions are charged
    keyword_bid_fen: np.ndarray  # the highest own bid among the unit's keywords, 0 when none
    unit_category: np.ndarray
    unit_creatives: list[np.ndarray]  # creative indices of each unit
    # creatives, indexed c
    creative_id: np.ndarray
    creative_unit: np.ndarray
    creative_note: np.ndarray
    creative_url: list[str | None]  # a landing page's URL, for its tracked link
    targeting: TargetingIndex
    keywords: KeywordIndex
    version: tuple[object, ...]  # what State looked like: a change means a rebuild

    @property
    def units(self) -> int:
        return len(self.unit_id)


def positions(sorted_ids: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Where each of ``ids`` stands in ``sorted_ids`` (a book's ids are ascending), -1 where absent."""
    ids = np.asarray(ids, dtype=np.int64)
    if not len(sorted_ids):
        return np.full(len(ids), -1, dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_ids, ids), len(sorted_ids) - 1)
    return np.where(sorted_ids[at] == ids, at, -1)


def plan_version(rt: Runtime) -> tuple[object, ...]:
    """Cheap fingerprint of the plans: the budget day (a holiday changes budgets), the newest change, the row
    counts of each level and how many of them are active (a pause in the same instant as the last change
    still shows), and of the computed audiences."""
    active = Status.ACTIVE.value
    with rt.db.read() as s:
        return (rt.today(), *(s.execute(select(func.max(m.updated_at), func.count(),
                                               func.count().filter(m.status == active)).select_from(m)).one()
                              for m in (CampaignRow, UnitRow, KeywordRow, CreativeRow)),
                s.execute(select(func.max(AudienceRow.computed_at), func.count()).select_from(AudienceRow)).one())


def day_budget(daily_budget_fen: int | None, holiday_uplift: bool, day: date, settings: Settings) -> float:
    """A campaign's budget for one budget day, inf when unlimited: on a holiday, a campaign that switched
    holiday uplift on gets the platform's uplift on top (FIELD_FACTS §1)."""
    if daily_budget_fen is None:
        return np.inf
    if holiday_uplift and day in settings.holidays:
        return float(daily_budget_fen * (100 + settings.holiday_uplift_pct) // 100)
    return float(daily_budget_fen)


def day_start(day: date, utc_offset_hours: int) -> float:
    return datetime.combine(day, time(), timezone(timedelta(hours=utc_offset_hours))).timestamp()


def _group(owner: np.ndarray, n: int) -> list[np.ndarray]:
    """Indices of ``owner`` grouped by value 0..n-1, in one sort."""
    order = np.argsort(owner, kind="stable")
    return np.split(order, np.searchsorted(owner[order], np.arange(1, n)))


def load_book(rt: Runtime) -> Book:
    version = plan_version(rt)
    day = version[0]
    assert isinstance(day, date)
    active = Status.ACTIVE.value
    with rt.db.read() as s:
        campaigns = s.scalars(select(CampaignRow).where(CampaignRow.status == active).order_by(CampaignRow.id)).all()
        by_campaign = {c.id: k for k, c in enumerate(campaigns)}
        units = [u for u in s.scalars(select(UnitRow).where(UnitRow.status == active).order_by(UnitRow.id))
                 if u.campaign_id in by_campaign]
        creatives = s.scalars(select(CreativeRow).where(CreativeRow.status == active).order_by(CreativeRow.id)).all()
        keywords = s.scalars(select(KeywordRow).where(KeywordRow.status == active).order_by(KeywordRow.id)).all()
        # 代投 holds only while the chain from the brand to the notes' author is active.
        authorized = {u.id for u in units if u.substituted_account_id is None
                      or campaigns[by_campaign[u.campaign_id]].account_id in ancestors(s, u.substituted_account_id)}
    notes = {n.id: n for n in notes_by_id(rt, sorted({i for u in units for i in u.note_ids}))}
    published = {i for i, n in notes.items() if n.status == "published"}
    with_creative = {c.unit_id for c in creatives if c.note_id in published}
    units = [u for u in units if u.id in authorized and u.id in with_creative]
    by_unit = {u.id: i for i, u in enumerate(units)}
    targets = [Targeting.parse(u.targeting) for u in units]
    creatives = [c for c in creatives if c.unit_id in by_unit and c.note_id in published]
    specs = [Campaign.parse({"name": c.name, "objective": c.objective, "placement": c.placement,
                             "bidding": c.bidding, "optimize_for": c.optimize_for, "pacing": c.pacing,
                             "quick_cast": c.quick_cast, "quick_cast_coefficient": c.quick_cast_coefficient})
                for c in campaigns]
    offset = rt.settings.budget_day_utc_offset_hours
    unit_campaign = np.array([by_campaign[u.campaign_id] for u in units], dtype=np.int64)
    bidding = [campaigns[k].bidding for k in unit_campaign]
    cpm = np.array([c.billing_event == BillingEvent.IMPRESSION.value for c in campaigns], dtype=bool)
    creative_unit = np.array([by_unit[c.unit_id] for c in creatives], dtype=np.int64)
    entries = []
    keyword_bid = np.zeros(len(units), dtype=np.int64)
    for kw in keywords:
        u = by_unit.get(kw.unit_id)
        if u is not None:
            bid = kw.bid_fen if kw.bid_fen is not None else (units[u].bid_fen or 0)
            entries.append((KeywordEntry(u, kw.id, kw.match, bid, kw.negative), kw.keyword))
            if not kw.negative:
                keyword_bid[u] = max(keyword_bid[u], bid)
    return Book(
        campaign_id=np.array([c.id for c in campaigns], dtype=np.int64),
        campaign_account=np.array([c.account_id for c in campaigns], dtype=np.int64),
        budget_fen=np.array([day_budget(c.daily_budget_fen, c.holiday_uplift, day, rt.settings) for c in campaigns],
                            dtype=float),
        even=np.array([c.pacing == Pacing.EVEN.value for c in campaigns], dtype=bool),
        schedule=np.array([schedule_mask(c.dayparts) for c in campaigns], dtype=bool).reshape(-1, 7, 24),
        serves_feed=np.array([s.serves_feed for s in specs], dtype=bool),
        serves_search=np.array([s.serves_search for s in specs], dtype=bool),
        search_coefficient=np.array([s.quick_cast_coefficient if s.quick_cast else 1.0 for s in specs]),
        start=np.array([day_start(c.start_date, offset) for c in campaigns]),
        end=np.array([day_start(c.end_date + timedelta(days=1), offset) if c.end_date else np.inf
                      for c in campaigns]),
        utc_offset_hours=offset,
        unit_id=np.array([u.id for u in units], dtype=np.int64),
        unit_campaign=unit_campaign,
        bid_fen=np.array([u.bid_fen or 0 for u in units], dtype=np.int64),
        target_cost_fen=np.array([u.target_cost_fen or 0 for u in units], dtype=np.int64),
        auto=np.array([b != Bidding.MANUAL.value for b in bidding], dtype=bool),
        cap=np.array([b == Bidding.COST_CAP.value for b in bidding], dtype=bool),
        per_result=np.array([campaigns[k].optimize_for not in CLICK_GOALS and not cpm[k] for k in unit_campaign],
                            dtype=bool),
        per_mille=cpm[unit_campaign],
        keyword_bid_fen=keyword_bid,
        unit_category=np.array([CODE[notes[u.note_ids[0]].category] for u in units], dtype=np.int64),
        unit_creatives=_group(creative_unit, len(units)),
        creative_id=np.array([c.id for c in creatives], dtype=np.int64),
        creative_unit=creative_unit,
        creative_note=np.array([c.note_id for c in creatives], dtype=np.int64),
        creative_url=[str(c.component["url"]) if c.component.get("url") else None for c in creatives],
        targeting=TargetingIndex(targets, audiences.load(rt, list(zip([u.id for u in units], targets, strict=True)))),
        keywords=KeywordIndex(entries),
        version=version,
    )
