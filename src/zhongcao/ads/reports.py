"""Ad reports: FIELD_FACTS §2's metric dictionary with its attribution windows, computed from the event
store through Ibis and published to State, where any API process reads them.

The process holding the event store computes one row per (budget day, campaign, unit, creative, keyword)
and replaces the recent days' rows in ``ad_report`` (realtime for today, offline for the days before).
Reads aggregate those rows by level over an account, or a brand and its KOB sub-accounts side by side.

Attribution is last click: a result counts for the latest click on the same note by the same consumer
before it, if it came within its window, and on the day of that click. The windows (FIELD_FACTS §2):
- engagement (like, comment, collect, follow, share): 1 hour;
- live-room entries, DMs, and live-room orders and GMV: 24 hours;
- shop visits, add-to-cart, orders and GMV, paid orders and paid GMV, leads and valid leads: 7 days;
- verified store visits (a visit code redeemed): 7 days, as leads [U];
- off-site orders and GMV (postbacks through tracked links): 7, 15 and 30 days, each reported.
Results keep arriving after their click's day, so the days within the longest window are recomputed
as they settle (``refresh`` with ``days``).

Keyword reports add the ads' positions: the average rank among a page's ads, and the shares of
impressions and clicks at the top one and top three.

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
from zhongcao.events import EventKind, EventStore, local_day

HOUR, DAY = timedelta(hours=1), timedelta(days=1)


@dataclass(frozen=True)
class Attributed:
    name: str
    kind: EventKind
    window: timedelta
    value: bool = False  # sum the events' value_fen rather than count them


ENGAGEMENTS = {EventKind.LIKE: "likes", EventKind.COMMENT: "comments", EventKind.COLLECT: "collects",
               EventKind.FOLLOW: "follows", EventKind.SHARE: "shares"}
ATTRIBUTED = (
    *(Attributed(name, kind, HOUR) for kind, name in ENGAGEMENTS.items()),
    Attributed("live_entries", EventKind.LIVE_VIEW, DAY),
    Attributed("dms", EventKind.DM, DAY),
    Attributed("shop_visits", EventKind.SHOP_VISIT, 7 * DAY),
    Attributed("add_to_carts", EventKind.ADD_TO_CART, 7 * DAY),
    Attributed("orders", EventKind.ORDER, 7 * DAY),
    Attributed("gmv_fen", EventKind.ORDER, 7 * DAY, value=True),
    Attributed("paid_orders", EventKind.ORDER_PAID, 7 * DAY),
    Attributed("paid_gmv_fen", EventKind.ORDER_PAID, 7 * DAY, value=True),
    Attributed("live_orders", EventKind.LIVE_ORDER, DAY),
    Attributed("live_gmv_fen", EventKind.LIVE_ORDER, DAY, value=True),
    Attributed("store_visits", EventKind.STORE_VISIT, 7 * DAY),
    Attributed("leads", EventKind.LEAD, 7 * DAY),
    Attributed("valid_leads", EventKind.VALID_LEAD, 7 * DAY),
    *(Attributed(f"offsite_{what}_{days}d", EventKind.OFFSITE_ORDER, days * DAY, value=what == "gmv")
      for days in (7, 15, 30) for what in ("orders", "gmv")),
)
WINDOW = {a.kind: max(b.window for b in ATTRIBUTED if b.kind == a.kind) for a in ATTRIBUTED}
POSITIONS = ("position_sum", "top1_impressions", "top3_impressions", "top1_clicks", "top3_clicks")
COUNTS = ("impressions", "clicks", "fee_fen", *POSITIONS, *(a.name for a in ATTRIBUTED))
LEVELS = ("account", "campaign", "unit", "creative", "keyword")
KEYS = {"account": ("account_id",), "campaign": ("account_id", "campaign_id"),
        "unit": ("account_id", "campaign_id", "unit_id"), "creative": ("account_id", "campaign_id", "unit_id",
                                                                      "creative_id"),
        "keyword": ("account_id", "campaign_id", "unit_id", "keyword_id")}


def compute(store: EventStore, since: date, until: date, offset_hours: int) -> pa.Table:
    """Rows per (day, campaign, unit, creative, keyword) for budget days ``since``..``until``, where the day
    is the impression's, click's or charge's; attributed results count on the day of their click."""
    e = store.events()
    start = datetime(since.year, since.month, since.day) - timedelta(hours=offset_hours)
    end = datetime(until.year, until.month, until.day) + timedelta(days=1) - timedelta(hours=offset_hours)
    ads = e.filter(e.kind.isin([EventKind.AD_IMPRESSION.value, EventKind.AD_CLICK.value,
                                EventKind.AD_CHARGE.value]) & e.campaign_id.notnull() & (e.ts >= start)
                   & (e.ts < end))
    ads = ads.mutate(day=local_day(ads.ts, offset_hours), keyword=ads.keyword_id.fill_null(0),
                     position=ads.position.fill_null(0))
    keys = ["day", "campaign_id", "unit_id", "creative_id", "keyword"]
    shown, clicked = ads.kind == EventKind.AD_IMPRESSION.value, ads.kind == EventKind.AD_CLICK.value
    delivery = ads.group_by(keys).aggregate(
        impressions=shown.sum(), clicks=clicked.sum(),
        fee_fen=ibis.cases(((ads.kind == EventKind.AD_CHARGE.value), ads.price_fen), else_=0).sum(),
        position_sum=ibis.cases((shown, ads.position), else_=0).sum(),
        top1_impressions=(shown & (ads.position == 1)).sum(),
        top3_impressions=(shown & ads.position.between(1, 3)).sum(),
        top1_clicks=(clicked & (ads.position == 1)).sum(), top3_clicks=(clicked & ads.position.between(1, 3)).sum())
    clicks = ads.filter(clicked).select(*keys, click_ts=ads.ts, click_consumer=ads.consumer_id,
                                        click_note=ads.note_id)
    longest = max(WINDOW.values())
    acts = e.filter(e.kind.isin([k.value for k in WINDOW]) & (e.ts >= start) & (e.ts <= end + longest)).select(
        act_id=e.event_id, act_ts=e.ts, act_kind=e.kind, act_consumer=e.consumer_id, act_note=e.note_id,
        act_value=e.value_fen.fill_null(0))
    joined = clicks.join(acts, (clicks.click_consumer == acts.act_consumer) & (clicks.click_note == acts.act_note)
                         & (acts.act_ts >= clicks.click_ts) & (acts.act_ts <= clicks.click_ts + longest))

    def within(kind: EventKind, window: timedelta) -> Any:
        return (joined.act_kind == kind.value) & (joined.act_ts <= joined.click_ts + window)

    joined = joined.filter(ibis.or_(*(within(k, w) for k, w in WINDOW.items())))
    latest = joined.mutate(rank=ibis.row_number().over(group_by=joined.act_id, order_by=ibis.desc(joined.click_ts)))
    won = latest.filter(latest.rank == 0)
    results = won.group_by(keys).aggregate(**{
        a.name: ibis.cases(((won.act_kind == a.kind.value) & (won.act_ts <= won.click_ts + a.window),
                            won.act_value if a.value else 1), else_=0).sum() for a in ATTRIBUTED})
    rows = delivery.left_join(results, keys).select(
        *[delivery[k] for k in keys], *[delivery[c] for c in ("impressions", "clicks", "fee_fen", *POSITIONS)],
        *[results[a.name].fill_null(0).name(a.name) for a in ATTRIBUTED])
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


SETTLE_DAYS = 31  # the longest window (30 days after the click) and the click's own day


def refresh(rt: Runtime, store: EventStore, days: int = 2) -> int:
    """Recompute today and the ``days - 1`` before it: realtime for today, settling windows for the rest."""
    until = rt.today()
    since = until - timedelta(days=days - 1)
    return publish(rt, compute(store, since, until, rt.settings.budget_day_utc_offset_hours), since, until)


@dataclass(frozen=True)
class ReportRow:
    """One row of a report: counts as attributed (see the module), and the field's ratios of them. A ratio
    is null where its denominator is zero. Money is fen; ROI is GMV per fen of fee."""

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
    live_entries: int   # within 24 h
    dms: int            # DM conversations opened within 24 h (私信进线)
    cost_per_dm: float | None
    shop_visits: int    # within 7 days, as the rest of the shop
    add_to_carts: int
    orders: int
    gmv_fen: int
    roi: float | None   # gmv / fee
    paid_orders: int    # paid within 7 days (shop and live)
    paid_gmv_fen: int
    paid_roi: float | None
    live_orders: int    # placed in a live room within 24 h
    live_gmv_fen: int
    live_roi: float | None
    store_visits: int   # visit codes redeemed within 7 days
    cost_per_store_visit: float | None
    leads: int          # within 7 days
    cpl: float | None   # fee per lead
    valid_leads: int    # confirmed by the advertiser's postback within 7 days
    lead_valid_rate: float | None
    offsite_orders_7d: int
    offsite_gmv_7d: int
    offsite_roi_7d: float | None
    offsite_orders_15d: int
    offsite_gmv_15d: int
    offsite_roi_15d: float | None
    offsite_orders_30d: int
    offsite_gmv_30d: int
    offsite_roi_30d: float | None
    avg_position: float | None          # the ads' mean rank among a page's ads (1 is first)
    top1_impression_share: float | None
    top3_impression_share: float | None
    top1_click_share: float | None
    top3_click_share: float | None


def _ratio(a: int, b: int, digits: int = 2) -> float | None:
    return round(a / b, digits) if b else None


def _row(key: dict[str, Any], c: dict[str, int]) -> ReportRow:
    imp, clk, fee = c["impressions"], c["clicks"], c["fee_fen"]
    inter = sum(c[n] for n in ENGAGEMENTS.values())
    offsite: dict[str, Any] = {f"offsite_{what}_{days}d": c[f"offsite_{what}_{days}d"] for days in (7, 15, 30)
                               for what in ("orders", "gmv")}
    offsite |= {f"offsite_roi_{days}d": _ratio(c[f"offsite_gmv_{days}d"], fee, 4) for days in (7, 15, 30)}
    return ReportRow(
        account_id=key.get("account_id", 0), campaign_id=key.get("campaign_id"), unit_id=key.get("unit_id"),
        creative_id=key.get("creative_id"), keyword_id=key.get("keyword_id"), day=key.get("day"),
        impressions=imp, clicks=clk, fee_fen=fee, ctr=_ratio(clk, imp, 6), acp=_ratio(fee, clk),
        cpm=_ratio(fee * 1000, imp), **{n: c[n] for n in ENGAGEMENTS.values()}, interactions=inter,
        cpi=_ratio(fee, inter), live_entries=c["live_entries"], dms=c["dms"], cost_per_dm=_ratio(fee, c["dms"]),
        shop_visits=c["shop_visits"], add_to_carts=c["add_to_carts"], orders=c["orders"], gmv_fen=c["gmv_fen"],
        roi=_ratio(c["gmv_fen"], fee, 4), paid_orders=c["paid_orders"], paid_gmv_fen=c["paid_gmv_fen"],
        paid_roi=_ratio(c["paid_gmv_fen"], fee, 4), live_orders=c["live_orders"], live_gmv_fen=c["live_gmv_fen"],
        live_roi=_ratio(c["live_gmv_fen"], fee, 4), store_visits=c["store_visits"],
        cost_per_store_visit=_ratio(fee, c["store_visits"]), leads=c["leads"], cpl=_ratio(fee, c["leads"]),
        valid_leads=c["valid_leads"], lead_valid_rate=_ratio(c["valid_leads"], c["leads"], 4), **offsite,
        avg_position=_ratio(c["position_sum"], imp), top1_impression_share=_ratio(c["top1_impressions"], imp, 4),
        top3_impression_share=_ratio(c["top3_impressions"], imp, 4),
        top1_click_share=_ratio(c["top1_clicks"], clk, 4), top3_click_share=_ratio(c["top3_clicks"], clk, 4))


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
