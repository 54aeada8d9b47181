"""What a collaboration returned: its note's traffic against its cost (CPM, cost per read, cost per
engagement), and the orders it was the last touch of within the evaluation window, with GMV and ROI
against the brief's target. Last touch is the baseline the measurement work improves on (FIELD_FACTS §7:
attribution is last-click).

Also boosting (KFS): a brand promotes a published deal's note with its own ads unit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from zhongcao import ads
from zhongcao.accounts import Actor, Capability, capabilities
from zhongcao.core import Conflict, NotFound, Runtime
from zhongcao.market.analytics import ENGAGEMENTS, cost_per
from zhongcao.market.collaborations import earnings, evaluation_sales
from zhongcao.market.models import BriefRow, CollaborationRow, NoteDayRow

BOOSTABLE = ("published", "settled")


@dataclass(frozen=True)
class Evaluation:
    collaboration_id: int
    note_id: int | None
    state: str
    window_from: datetime | None
    window_to: datetime | None
    cost_fen: int          # the creator's pay and the platform fee: settled, or as it stands
    exposures: int
    reads: int
    engagements: int
    cpm_fen: int | None
    cost_per_read_fen: int | None
    cost_per_engagement_fen: int | None
    orders: int
    gmv_fen: int
    roi: float | None
    roi_target: float | None
    meets_target: bool | None


def evaluate(rt: Runtime, collaboration_id: int, *, actor: Actor) -> Evaluation:
    with rt.db.read() as s:
        row = s.get(CollaborationRow, collaboration_id)
        if row is None or not any(Capability.READ in capabilities(s, actor, a) for a in (row.brand_id, row.creator_id)):
            raise NotFound("collaboration", collaboration_id)
        brief = s.get(BriefRow, row.brief_id)
        assert brief is not None
        traffic: Mapping[str, Any] = {}
        orders = gmv = 0
        start = end = None
        if row.note_id is not None and row.published_at is not None:
            cols = ("exposures", "reads", *ENGAGEMENTS)
            sums = s.execute(select(*(func.coalesce(func.sum(getattr(NoteDayRow, c)), 0) for c in cols)).where(
                NoteDayRow.note_id == row.note_id)).one()
            traffic = dict(zip(cols, (int(v) for v in sums), strict=True))
            start, end, sales = evaluation_sales(s, row, brief)
            orders, gmv = sales.orders, sales.gmv_fen
    if row.settlement is not None and row.state == "settled":
        cost = int(row.settlement["payout_fen"]) + int(row.settlement["platform_fee_fen"])
    else:
        cost = sum(earnings(row, brief, gmv))
    exposures, reads = int(traffic.get("exposures", 0)), int(traffic.get("reads", 0))
    engagements = sum(int(traffic.get(c, 0)) for c in ENGAGEMENTS)
    roi = round(gmv / cost, 4) if cost else None
    return Evaluation(row.id, row.note_id, row.state, start, end, cost, exposures, reads, engagements,
                      cost_per(cost, exposures, 1_000), cost_per(cost, reads), cost_per(cost, engagements), orders,
                      gmv, roi,
                      brief.roi_target, None if roi is None or brief.roi_target is None else roi >= brief.roi_target)


def do_boost(rt: Runtime, collaboration_id: int, campaign_id: int, spec: Mapping[str, Any], *,
             actor: Actor) -> ads.UnitView:
    """An ads unit in one of the brand's campaigns promoting the deal's note, with a DM creative; the
    note's boost grant (set when it was published) lets the ads slice accept a creator's note."""
    with rt.db.read() as s:
        row = s.get(CollaborationRow, collaboration_id)
        if row is None or Capability.OPERATE not in capabilities(s, actor, row.brand_id):
            raise NotFound("collaboration", collaboration_id)
        if row.state not in BOOSTABLE or row.note_id is None:
            raise Conflict("invalid_collaboration_transition", f"collaboration {row.id} is {row.state}; only a "
                           "published note can be boosted", field="state", allowed=list(BOOSTABLE),
                           extra={"state": row.state})
        note = row.note_id
    unit = ads.do_create_unit(rt, campaign_id, {"name": f"KFS 加热 boost #{collaboration_id}", **spec,
                                                "note_ids": [note]}, actor=actor)
    ads.do_create_creative(rt, unit.id, note, {"kind": "dm"}, actor=actor)
    return unit
