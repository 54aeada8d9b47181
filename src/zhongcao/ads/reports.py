"""Ad reports: FIELD_FACTS §2's metric dictionary with its attribution windows, computed from the event
store through Ibis and published to State, where any API process reads them.

The process holding the event store computes one row per (budget day, campaign, unit, creative, keyword)
and replaces the recent days' rows in ``ad_report`` (realtime for today, offline for the days before).
Reads aggregate those rows by level over an account, or a brand and its KOB sub-accounts side by side.

Windows, from the click:
- engagement (like, comment, collect, follow, share on the ad's note by the clicking consumer): 1 hour.
  An engagement counts once, for the latest click before it.
- the rest of the dictionary (live 24 h, DMs 24 h/7 d, shop and leads 7 d, off-site 7/15/30 d) joins here
  as the commerce slice records those events.

Fees are ``ad_charge`` events: each is written in the transaction that commits its lease, so the fees
here equal the ledger's ad spend to the fen.
"""

from __future__ import annotations

import csv
import io
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import pyarrow as pa
from sqlalchemy import delete, func, insert, select

from zhongcao.accounts import Actor, Capability, descendants, require
from zhongcao.ads.models import AdReportRow, CampaignRow
from zhongcao.core import Invalid, Runtime
from zhongcao.events import EventKind, EventStore

ENGAGEMENT_WINDOW = timedelta(hours=1)
ENGAGEMENTS = {EventKind.LIKE: "likes", EventKind.COMMENT: "comments", EventKind.COLLECT: "collects",
               EventKind.FOLLOW: "follows", EventKind.SHARE: "shares"}
COUNTS = ("impressions", "clicks", "fee_fen", *ENGAGEMENTS.values())
LEVELS = ("account", "campaign", "unit", "creative", "keyword")
KEYS = {"account": ("account_id",), "campaign": ("account_id", "campaign_id"),
        "unit": ("account_id", "campaign_id", "unit_id"), "creative": ("account_id", "campaign_id", "unit_id",
                                                                      "creative_id"),
        "keyword": ("account_id", "campaign_id", "unit_id", "keyword_id")}


def _local_day(ts: Any, offset_hours: int) -> Any:
    return (ts + ibis.interval(hours=offset_hours)).date()


def compute(store: EventStore, since: date, until: date, offset_hours: int) -> pa.Table:
    """Rows per (day, campaign, unit, creative, keyword) for budget days ``since``..``until``, where the day
    is the impression's, click's or charge's; engagement counts on the day of its click."""
    e = store.events()
    start = datetime(since.year, since.month, since.day) - timedelta(hours=offset_hours)
    end = datetime(until.year, until.month, until.day) + timedelta(days=1) - timedelta(hours=offset_hours)
    ads = e.filter(e.kind.isin([EventKind.AD_IMPRESSION.value, EventKind.AD_CLICK.value,
                                EventKind.AD_CHARGE.value]) & e.campaign_id.notnull() & (e.ts >= start)
                   & (e.ts < end))
    ads = ads.mutate(day=_local_day(ads.ts, offset_hours), keyword=ads.keyword_id.fill_null(0))
    keys = ["day", "campaign_id", "unit_id", "creative_id", "keyword"]
    delivery = ads.group_by(keys).aggregate(
        impressions=(ads.kind == EventKind.AD_IMPRESSION.value).sum(),
        clicks=(ads.kind == EventKind.AD_CLICK.value).sum(),
        fee_fen=ibis.cases(((ads.kind == EventKind.AD_CHARGE.value), ads.price_fen), else_=0).sum())
    clicks = ads.filter(ads.kind == EventKind.AD_CLICK.value).select(
        *keys, click_ts=ads.ts, click_consumer=ads.consumer_id, click_note=ads.note_id)
    late = end + ENGAGEMENT_WINDOW
    acts = e.filter(e.kind.isin([k.value for k in ENGAGEMENTS]) & (e.ts >= start) & (e.ts < late)).select(
        act_id=e.event_id, act_ts=e.ts, act_kind=e.kind, act_consumer=e.consumer_id, act_note=e.note_id)
    joined = clicks.join(acts, (clicks.click_consumer == acts.act_consumer) & (clicks.click_note == acts.act_note)
                         & (acts.act_ts >= clicks.click_ts)
                         & (acts.act_ts <= clicks.click_ts + ibis.interval(hours=1)))
    latest = joined.mutate(rank=ibis.row_number().over(group_by=joined.act_id, order_by=ibis.desc(joined.click_ts)))
    attributed = latest.filter(latest.rank == 0)
    engagement = attributed.group_by(keys).aggregate(**{
        name: (attributed.act_kind == kind.value).sum() for kind, name in ENGAGEMENTS.items()})
    rows = delivery.left_join(engagement, keys).select(
        *[delivery[k] for k in keys], delivery.impressions, delivery.clicks, delivery.fee_fen,
        *[engagement[name].fill_null(0).name(name) for name in ENGAGEMENTS.values()])
    return store.run(rows.order_by(keys))


def publish(rt: Runtime, rows: pa.Table, since: date, until: date) -> int:
    """Replace the report rows of days ``since``..``until`` in one transaction."""
    campaigns = dict(_accounts(rt, {int(x) for x in rows.column("campaign_id").to_pylist()}))
    values = [{"day": r["day"], "account_id": campaigns[r["campaign_id"]], "campaign_id": r["campaign_id"],
               "unit_id": r["unit_id"], "creative_id": r["creative_id"], "keyword_id": r["keyword"],
               **{c: int(r[c] or 0) for c in COUNTS}} for r in rows.to_pylist() if r["campaign_id"] in campaigns]
    with rt.db.transaction() as s:
        s.execute(delete(AdReportRow).where(AdReportRow.day >= since, AdReportRow.day <= until))
        if values:
            s.execute(insert(AdReportRow), values)
    return len(values)


def _accounts(rt: Runtime, campaign_ids: set[int]) -> list[tuple[int, int]]:
    with rt.db.read() as s:
        return [(c, a) for c, a in s.execute(select(CampaignRow.id, CampaignRow.account_id)
                                             .where(CampaignRow.id.in_(sorted(campaign_ids))))]


def refresh(rt: Runtime, store: EventStore, days: int = 2) -> int:
    """Recompute today and the ``days - 1`` before it: realtime for today, settling windows for the rest."""
    until = rt.today()
    since = until - timedelta(days=days - 1)
    return publish(rt, compute(store, since, until, rt.settings.budget_day_utc_offset_hours), since, until)


@dataclass(frozen=True)
class ReportRow:
    account_id: int
    campaign_id: int | None
    unit_id: int | None
    creative_id: int | None
    keyword_id: int | None
    day: date | None
    impressions: int
    clicks: int
    fee_fen: int
    ctr: float | None   # clicks / impressions
    acp: float | None   # fee per click, fen
    cpm: float | None   # fee per thousand impressions, fen
    likes: int
    comments: int
    collects: int
    follows: int
    shares: int
    interactions: int   # the five engagements within an hour of the click
    cpi: float | None   # fee per interaction, fen


def _row(key: dict[str, Any], counts: dict[str, int]) -> ReportRow:
    imp, clk, fee = counts["impressions"], counts["clicks"], counts["fee_fen"]
    inter = sum(counts[n] for n in ENGAGEMENTS.values())
    return ReportRow(
        account_id=key.get("account_id", 0), campaign_id=key.get("campaign_id"), unit_id=key.get("unit_id"),
        creative_id=key.get("creative_id"), keyword_id=key.get("keyword_id"), day=key.get("day"),
        impressions=imp, clicks=clk, fee_fen=fee, ctr=round(clk / imp, 6) if imp else None,
        acp=round(fee / clk, 2) if clk else None, cpm=round(fee / imp * 1000, 2) if imp else None,
        likes=counts["likes"], comments=counts["comments"], collects=counts["collects"], follows=counts["follows"],
        shares=counts["shares"], interactions=inter, cpi=round(fee / inter, 2) if inter else None)


def parse_range(text: str, today: date) -> tuple[date, date]:
    """today | yesterday | 7d | 30d | YYYY-MM-DD..YYYY-MM-DD (budget days, inclusive)."""
    named = {"today": (today, today), "yesterday": (today - timedelta(days=1),) * 2,
             "7d": (today - timedelta(days=6), today), "30d": (today - timedelta(days=29), today)}
    if text in named:
        return named[text]
    try:
        a, b = text.split("..")
        since, until = date.fromisoformat(a), date.fromisoformat(b)
    except ValueError:
        raise Invalid("invalid_report", f"{text!r} is not a report range", field="range",
                      allowed=["today", "yesterday", "7d", "30d", "YYYY-MM-DD..YYYY-MM-DD"]) from None
    if since > until or (until - since).days > 366:
        raise Invalid("invalid_report", "a range runs forward and spans at most a year", field="range",
                      allowed="since <= until, at most 367 days")
    return since, until


def report(rt: Runtime, account_id: int, *, level: str, range_: str, include_sub_accounts: bool = False,
           by_day: bool = False, actor: Actor) -> list[ReportRow]:
    """Rows at ``level`` for an account, or a brand and its sub-accounts side by side (each row names
    its account); ``by_day`` splits them by budget day."""
    if level not in LEVELS:
        raise Invalid("invalid_report", f"{level!r} is not a report level", field="level", allowed=list(LEVELS))
    since, until = parse_range(range_, rt.today())
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        accounts = [account_id] + ([a for a, _, _ in descendants(s, account_id)] if include_sub_accounts else [])
        key_cols = [getattr(AdReportRow, k) for k in KEYS[level]] + ([AdReportRow.day] if by_day else [])
        sums = [_sum(getattr(AdReportRow, c)).label(c) for c in COUNTS]
        rows = s.execute(select(*key_cols, *sums).where(AdReportRow.account_id.in_(accounts),
                                                        AdReportRow.day >= since, AdReportRow.day <= until)
                         .group_by(*key_cols).order_by(*key_cols)).mappings().all()
    names = [*KEYS[level], *(["day"] if by_day else [])]
    return [_row({n: r[n] for n in names}, {c: int(r[c] or 0) for c in COUNTS}) for r in rows]


def _sum(column: Any) -> Any:
    return func.coalesce(func.sum(column), 0)


def to_csv(rows: list[ReportRow]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, [f.name for f in fields(ReportRow)])
    writer.writeheader()
    writer.writerows(asdict(r) for r in rows)
    return out.getvalue()
