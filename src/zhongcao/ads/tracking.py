"""How much of the off-site sales ads drove comes back as postbacks.

A tracked link carries the click id to Taobao, JD or a mini-program, and the advertiser posts the order
back. Some never come back: the buyer switched devices, the shop's plug-in dropped the id, the order came
days later through another link. Off-site ROI is only as good as that share, so the advertiser reports its
own daily totals of orders from this platform's traffic (from its shop back office), and the tracking report
sets the postbacks of each budget day and platform against them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from zhongcao.accounts import Actor, Capability, record_audit, require
from zhongcao.ads.conversions import PLATFORMS
from zhongcao.ads.models import ConversionRow, OffsiteTotalRow
from zhongcao.ads.reports import parse_range
from zhongcao.core import Invalid, Runtime, budget_day


@dataclass(frozen=True)
class TrackingRow:
    day: date
    platform: str
    postback_orders: int
    postback_gmv_fen: int
    reported_orders: int | None       # null: the advertiser has not reported the day
    reported_gmv_fen: int | None
    tracked_share: float | None       # postback orders / reported orders
    tracked_gmv_share: float | None


def do_report_offsite_total(rt: Runtime, account_id: int, day: date, platform: str, orders: int, gmv_fen: int, *,
                            actor: Actor) -> TrackingRow:
    """Record (or correct) the advertiser's count for a day and platform."""
    if platform not in PLATFORMS:
        raise Invalid("invalid_conversion", f"{platform!r} is not a shop platform", field="platform",
                      allowed=list(PLATFORMS))
    for field, value in (("orders", orders), ("gmv_fen", gmv_fen)):
        if not 0 <= value <= 10**12:
            raise Invalid("invalid_conversion", f"{field} is a whole number from 0", field=field, allowed="0..10^12")
    if day > rt.today():
        raise Invalid("invalid_conversion", "a day's total is reported once the day has begun", field="day",
                      allowed=f"<= {rt.today().isoformat()}")
    with rt.db.transaction() as s:
        require(s, actor, account_id, Capability.OPERATE)
        row = s.get(OffsiteTotalRow, (account_id, day, platform))
        if row is None:
            s.add(OffsiteTotalRow(account_id=account_id, day=day, platform=platform, orders=orders, gmv_fen=gmv_fen,
                                  reported_at=rt.now()))
        else:
            row.orders, row.gmv_fen, row.reported_at = orders, gmv_fen, rt.now()
        record_audit(s, rt, actor, account_id=account_id, action="offsite_total.report",
                     target=f"account:{account_id}/{day.isoformat()}/{platform}",
                     after={"orders": orders, "gmv_fen": gmv_fen})
    return tracking(rt, account_id, range_=f"{day.isoformat()}..{day.isoformat()}", actor=actor, platform=platform)[0]


def tracking(rt: Runtime, account_id: int, *, range_: str, actor: Actor,
             platform: str | None = None) -> list[TrackingRow]:
    """Per budget day and platform: postback orders and GMV beside the advertiser's totals."""
    since, until = parse_range(range_, rt.today())
    offset = rt.settings.budget_day_utc_offset_hours
    start = datetime.combine(since, time.min, tzinfo=UTC) - timedelta(hours=offset)  # the budget day's start
    end = start + timedelta(days=(until - since).days + 1)
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        posted = s.execute(select(ConversionRow.occurred_at, ConversionRow.platform, ConversionRow.value_fen).where(
            ConversionRow.account_id == account_id, ConversionRow.type == "order", ConversionRow.occurred_at >= start,
            ConversionRow.occurred_at < end)).all()
        reported = {(r.day, r.platform): r for r in s.scalars(select(OffsiteTotalRow).where(
            OffsiteTotalRow.account_id == account_id, OffsiteTotalRow.day >= since, OffsiteTotalRow.day <= until))}
    counts: dict[tuple[date, str], list[int]] = {}
    for at, where, value in posted:
        c = counts.setdefault((budget_day(at, offset), where), [0, 0])
        c[0] += 1
        c[1] += value
    rows = []
    for key in sorted(set(counts) | set(reported)):
        if platform is not None and key[1] != platform:
            continue
        got, total = counts.get(key, [0, 0]), reported.get(key)
        rows.append(TrackingRow(key[0], key[1], got[0], got[1], total.orders if total else None,
                                total.gmv_fen if total else None,
                                round(got[0] / total.orders, 4) if total and total.orders else None,
                                round(got[1] / total.gmv_fen, 4) if total and total.gmv_fen else None))
    if platform is not None and not rows:
        rows.append(TrackingRow(since, platform, 0, 0, None, None, None, None))
    return rows
