"""Briefs: what a brand asks creators for (product, format, deliverables, budget, ROI target, publish window)
and on what terms: a fixed fee, a CPS commission, or a free product trial (FIELD_FACTS §4)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, capabilities, kind_of, record_audit, require
from zhongcao.commerce import get_product
from zhongcao.content import CODE
from zhongcao.core import MAX_FEN, Conflict, Invalid, NotFound, Runtime
from zhongcao.market.models import CONTRACTS, FORMATS, BriefRow, CollaborationRow

BRIEF_KINDS = ("brand", "store", "distributor", "agency")
MAX_REVISIONS = 5
MAX_EVALUATION_DAYS = 60
MAX_CPS_BP = 5_000  # a commission above half the order is not a commission


@dataclass(frozen=True)
class BriefView:
    id: int
    brand_id: int
    product_id: int | None
    title: str
    category: str
    format: str
    deliverables: str
    budget_fen: int
    committed_fen: int  # fees (or CPS caps) of the brief's accepted collaborations
    roi_target: float | None
    contract: str
    cps_rate_bp: int
    sample_required: bool
    max_revisions: int
    publish_from: datetime
    publish_to: datetime
    evaluation_days: int
    status: str
    created_at: datetime


COMMITTED = ("accepted", "funded", "sample_shipped", "draft_submitted", "changes_requested", "approved",
             "published", "settled")


def committed_fen(s: Session, brief_id: int) -> int:
    return int(s.scalar(select(func.coalesce(func.sum(CollaborationRow.fee_fen), 0)).where(
        CollaborationRow.brief_id == brief_id, CollaborationRow.state.in_(COMMITTED))) or 0)


def view(s: Session, row: BriefRow) -> BriefView:
    return BriefView(row.id, row.brand_id, row.product_id, row.title, row.category, row.format, row.deliverables,
                     row.budget_fen, committed_fen(s, row.id), row.roi_target, row.contract, row.cps_rate_bp,
                     row.sample_required, row.max_revisions, row.publish_from, row.publish_to, row.evaluation_days,
                     row.status, row.created_at)


def _bad(field: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_brief", detail, field=field, allowed=allowed)


def _int(spec: Mapping[str, Any], field: str, default: int | None, lo: int, hi: int) -> int:
    value = spec.get(field, default)
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise _bad(field, f"{field} must be an integer from {lo} to {hi}", f"{lo}..{hi}")
    return value


def _when(spec: Mapping[str, Any], field: str) -> datetime:
    value = spec.get(field)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise _bad(field, f"{field} is a time with its offset", "an ISO 8601 time with offset")
    return value


def checked(spec: Mapping[str, Any]) -> dict[str, Any]:
    """A brief's columns, or the refusal naming the first field out of bounds."""
    known = {"title", "product_id", "category", "format", "deliverables", "budget_fen", "roi_target", "contract",
             "cps_rate_bp", "sample_required", "max_revisions", "publish_from", "publish_to", "evaluation_days"}
    for field in spec:
        if field not in known:
            raise _bad(field, f"{field!r} is not a brief field", sorted(known))
    title = str(spec.get("title", "")).strip()
    if not 1 <= len(title) <= 200:
        raise _bad("title", "a brief's title is 1 to 200 characters", "1..200 characters")
    category = spec.get("category")
    if category not in CODE:
        raise _bad("category", f"{category!r} is not a category", sorted(CODE))
    fmt = spec.get("format", "image")
    if fmt not in FORMATS:
        raise _bad("format", f"{fmt!r} is not a note format", list(FORMATS))
    deliverables = str(spec.get("deliverables", "")).strip()
    if len(deliverables) > 2_000:
        raise _bad("deliverables", "deliverables are at most 2,000 characters", "0..2000 characters")
    contract = spec.get("contract", "fixed")
    if contract not in CONTRACTS:
        raise _bad("contract", f"{contract!r} is not a contract type", list(CONTRACTS))
    rate = _int(spec, "cps_rate_bp", 0, 1 if contract == "cps" else 0, MAX_CPS_BP if contract == "cps" else 0)
    roi = spec.get("roi_target")
    if roi is not None and (isinstance(roi, bool) or not isinstance(roi, int | float) or not 0 < roi <= 1_000):
        raise _bad("roi_target", "an ROI target is GMV over cost, above 0 and at most 1,000", "(0, 1000]")
    sample = spec.get("sample_required", True)
    if not isinstance(sample, bool):
        raise _bad("sample_required", "sample_required is true or false", [True, False])
    start, end = _when(spec, "publish_from"), _when(spec, "publish_to")
    if end <= start:
        raise _bad("publish_to", "the publish window ends after it starts", "publish_to > publish_from")
    product = spec.get("product_id")
    if product is not None and (isinstance(product, bool) or not isinstance(product, int)):
        raise _bad("product_id", "product_id is a product's id", "an integer id or null")
    return {"title": title, "product_id": product, "category": category, "format": fmt,
            "deliverables": deliverables, "budget_fen": _int(spec, "budget_fen", None, 1, MAX_FEN),
            "roi_target": None if roi is None else float(roi), "contract": contract, "cps_rate_bp": rate,
            "sample_required": sample, "max_revisions": _int(spec, "max_revisions", 2, 0, MAX_REVISIONS),
            "publish_from": start, "publish_to": end,
            "evaluation_days": _int(spec, "evaluation_days", 14, 1, MAX_EVALUATION_DAYS)}


def do_create_brief(rt: Runtime, brand_id: int, spec: Mapping[str, Any], *, actor: Actor) -> BriefView:
    values = checked(spec)
    if values["product_id"] is not None:
        try:
            product = get_product(rt, values["product_id"])
        except NotFound:
            raise _bad("product_id", f"no product {values['product_id']}", "a product the brand sells") from None
        if product.account_id != brand_id:
            raise _bad("product_id", "a brief promotes the brand's own product", "a product the brand sells")
    with rt.db.transaction() as s:
        account = require(s, actor, brand_id, Capability.OPERATE)
        if account.kind not in BRIEF_KINDS:
            raise _bad("brand_id", f"a {account.kind} account does not brief creators", list(BRIEF_KINDS))
        row = BriefRow(brand_id=brand_id, status="open", created_at=rt.now(), **values)
        s.add(row)
        s.flush()
        record_audit(s, rt, actor, account_id=brand_id, action="brief.create", target=f"brief:{row.id}",
                     after={"title": row.title, "budget_fen": row.budget_fen, "contract": row.contract})
        return view(s, row)


def load(s: Session, actor: Actor, brief_id: int) -> BriefRow:
    """The brief if the actor may see it: its brand's side always, any creator while it is open."""
    row = s.get(BriefRow, brief_id)
    if row is None:
        raise NotFound("brief", brief_id)
    if Capability.READ in capabilities(s, actor, row.brand_id):
        return row
    if row.status == "open" and actor.account_id is not None and kind_of(s, actor.account_id) == "creator":
        return row
    raise NotFound("brief", brief_id)


def get_brief(rt: Runtime, brief_id: int, *, actor: Actor) -> BriefView:
    with rt.db.read() as s:
        return view(s, load(s, actor, brief_id))


def list_briefs(rt: Runtime, brand_id: int, *, actor: Actor) -> list[BriefView]:
    with rt.db.read() as s:
        require(s, actor, brand_id, Capability.READ)
        return [view(s, r) for r in s.scalars(select(BriefRow).where(BriefRow.brand_id == brand_id)
                                               .order_by(BriefRow.id))]


def do_close_brief(rt: Runtime, brief_id: int, *, actor: Actor) -> BriefView:
    """Closed briefs take no new invitations or applications; running collaborations go on."""
    with rt.db.transaction() as s:
        row = s.get(BriefRow, brief_id)
        if row is None:
            raise NotFound("brief", brief_id)
        require(s, actor, row.brand_id, Capability.OPERATE)
        if row.status == "closed":
            raise Conflict("brief_closed", f"brief {brief_id} is already closed", field="status", allowed=["open"])
        row.status = "closed"
        record_audit(s, rt, actor, account_id=row.brand_id, action="brief.close", target=f"brief:{row.id}",
                     before={"status": "open"}, after={"status": "closed"})
        return view(s, row)
