"""Ad plan actions: create, change, pause and read campaigns, units, keywords and creatives.

A campaign belongs to an advertiser account and spends that account's wallet: a store's campaign spends
the store's money. Rights flow down KOB, so a brand sees, changes and pauses its stores' plans. A brand
unit may promote a sub-account's notes (代投) only while the authorization chain between them is active,
and such notes are never mixed with others in one unit.

Every change is audited with its before and after; a campaign's history is the audit entries whose
target is the campaign or anything under it (``campaign:7/unit:9/keyword:3``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from zhongcao.accounts import (
    Actor,
    AuditView,
    Capability,
    ancestors,
    descendants,
    read_audit,
    record_audit,
    require,
    require_owner,
)
from zhongcao.ads.enums import Match, Status
from zhongcao.ads.models import CampaignRow, CreativeRow, KeywordRow, UnitRow
from zhongcao.ads.spec import Campaign, CreativeSpec, Keyword, Targeting, Unit, broken, parse_enum
from zhongcao.commerce import get_product
from zhongcao.content import notes_by_id
from zhongcao.core import Conflict, NotFound, Runtime

ADVERTISER_KINDS = ("brand", "store", "distributor", "creator")
MAX_BULK = 500


@dataclass(frozen=True)
class CampaignView:
    id: int
    account_id: int
    name: str
    objective: str
    placement: str
    bidding: str
    optimize_for: str
    daily_budget_fen: int | None
    pacing: str
    start_date: date
    end_date: date | None
    dayparts: list[str]
    holiday_uplift: bool
    billing_event: str
    quick_cast: bool
    quick_cast_coefficient: float
    status: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, r: CampaignRow) -> CampaignView:
        return cls(r.id, r.account_id, r.name, r.objective, r.placement, r.bidding, r.optimize_for, r.daily_budget_fen,
                   r.pacing, r.start_date, r.end_date, list(r.dayparts), r.holiday_uplift, r.billing_event,
                   r.quick_cast, r.quick_cast_coefficient, r.status, r.created_at, r.updated_at)


@dataclass(frozen=True)
class KeywordView:
    id: int
    unit_id: int
    keyword: str
    match: str
    bid_fen: int | None
    negative: bool
    status: str

    @classmethod
    def of(cls, r: KeywordRow) -> KeywordView:
        return cls(r.id, r.unit_id, r.keyword, r.match, r.bid_fen, r.negative, r.status)


@dataclass(frozen=True)
class UnitView:
    id: int
    campaign_id: int
    account_id: int
    name: str
    bid_fen: int | None
    target_cost_fen: int | None
    note_ids: list[int]
    substituted_account_id: int | None  # 代投: whose notes a brand unit promotes
    product_id: int | None              # SPU seeding: the product every note links
    targeting: dict[str, Any]
    keywords: list[KeywordView]
    status: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CreativeView:
    id: int
    unit_id: int
    campaign_id: int
    note_id: int
    component: dict[str, Any]
    status: str
    created_at: datetime

    @classmethod
    def of(cls, r: CreativeRow, campaign_id: int) -> CreativeView:
        return cls(r.id, r.unit_id, campaign_id, r.note_id, dict(r.component), r.status, r.created_at)


def _targeting_json(t: Targeting) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(t).items()
            if v not in ((), None, False) or k == "type"}


def _campaign_spec(r: CampaignRow) -> Campaign:
    return Campaign.parse({"name": r.name, "objective": r.objective, "placement": r.placement, "bidding": r.bidding,
                           "optimize_for": r.optimize_for, "daily_budget_fen": r.daily_budget_fen,
                           "pacing": r.pacing, "start_date": r.start_date, "end_date": r.end_date,
                           "dayparts": r.dayparts, "holiday_uplift": r.holiday_uplift,
                           "billing_event": r.billing_event, "quick_cast": r.quick_cast,
                           "quick_cast_coefficient": r.quick_cast_coefficient})


def _unit_spec(r: UnitRow, keywords: Sequence[KeywordRow]) -> Unit:
    live = [k for k in keywords if k.status != Status.DELETED]
    return Unit(r.name, tuple(r.note_ids), r.bid_fen, r.target_cost_fen, Targeting.parse(r.targeting),
                tuple(Keyword(k.keyword, Match(k.match), k.bid_fen) for k in live if not k.negative),
                tuple(k.keyword for k in live if k.negative), r.product_id)


def _campaign_row(s: Session, actor: Actor, campaign_id: int, cap: Capability) -> CampaignRow:
    row = s.get(CampaignRow, campaign_id)
    if row is None:
        raise NotFound("campaign", campaign_id)
    require_owner(s, actor, row.account_id, cap, "campaign", campaign_id)
    return row


def _unit_row(s: Session, actor: Actor, unit_id: int, cap: Capability) -> tuple[UnitRow, CampaignRow]:
    row = s.get(UnitRow, unit_id)
    if row is None:
        raise NotFound("unit", unit_id)
    campaign = s.get_one(CampaignRow, row.campaign_id)
    require_owner(s, actor, campaign.account_id, cap, "unit", unit_id)
    return row, campaign


def _keywords(s: Session, unit_ids: Iterable[int]) -> dict[int, list[KeywordRow]]:
    out: dict[int, list[KeywordRow]] = {}
    for k in s.scalars(select(KeywordRow).where(KeywordRow.unit_id.in_(list(unit_ids))).order_by(KeywordRow.id)):
        out.setdefault(k.unit_id, []).append(k)
    return out


def _unit_view(r: UnitRow, campaign: CampaignRow, keywords: Sequence[KeywordRow]) -> UnitView:
    return UnitView(r.id, r.campaign_id, campaign.account_id, r.name, r.bid_fen, r.target_cost_fen, list(r.note_ids),
                    r.substituted_account_id, r.product_id, dict(r.targeting),
                    [KeywordView.of(k) for k in keywords if k.status != Status.DELETED], r.status, r.created_at,
                    r.updated_at)


def _check_schedule(rt: Runtime, spec: Campaign) -> None:
    if spec.end_date is not None and spec.end_date < rt.today():
        raise broken("invalid_schedule", "end_date", "the end date has passed", f">= {rt.today()}")


def _changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: _jsonable(before.get(k)) for k in keys}, {k: _jsonable(after[k]) for k in keys}


def _update(s: Session, rt: Runtime, actor: Actor, row: CampaignRow | UnitRow, fields: Mapping[str, Any],
            account_id: int, action: str, target: str) -> None:
    """Write the fields that changed and audit exactly those; an unchanged plan is left untouched."""
    before, after = _changes({k: getattr(row, k) for k in fields}, fields)
    if after:
        for k, v in fields.items():
            setattr(row, k, v)
        row.updated_at = rt.now()
        s.flush()
        record_audit(s, rt, actor, account_id=account_id, action=action, target=target, before=before, after=after)


def _jsonable(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, tuple):
        return [_jsonable(x) for x in v]
    return v


def _campaign_fields(spec: Campaign) -> dict[str, Any]:
    return {"name": spec.name.strip(), "objective": spec.objective.value, "placement": spec.placement.value,
            "bidding": spec.bidding.value, "optimize_for": spec.optimize_for.value,
            "daily_budget_fen": spec.daily_budget_fen, "pacing": spec.pacing.value, "end_date": spec.end_date,
            "dayparts": list(spec.dayparts), "holiday_uplift": spec.holiday_uplift,
            "billing_event": spec.billing_event.value, "quick_cast": spec.quick_cast,
            "quick_cast_coefficient": spec.quick_cast_coefficient}


def do_create_campaign(rt: Runtime, account_id: int, data: Mapping[str, Any], *, actor: Actor) -> CampaignView:
    spec = Campaign.parse(data)
    _check_schedule(rt, spec)
    with rt.db.transaction() as s:
        account = require(s, actor, account_id, Capability.OPERATE)
        if account.kind not in ADVERTISER_KINDS:
            raise broken("invalid_campaign", "account_id", f"a {account.kind} account does not advertise",
                         list(ADVERTISER_KINDS))
        now = rt.now()
        fields = _campaign_fields(spec)
        row = CampaignRow(account_id=account_id, start_date=spec.start_date or rt.today(), status=Status.ACTIVE.value,
                          created_at=now, updated_at=now, **fields)
        s.add(row)
        s.flush()
        record_audit(s, rt, actor, account_id=account_id, action="campaign.create", target=f"campaign:{row.id}",
                     after={k: _jsonable(v) for k, v in fields.items()})
        return CampaignView.of(row)


def do_update_campaign(rt: Runtime, campaign_id: int, data: Mapping[str, Any], *, actor: Actor) -> CampaignView:
    """Change any of a campaign's fields; the whole plan is checked again, its units included."""
    with rt.db.transaction() as s:
        row = _campaign_row(s, actor, campaign_id, Capability.OPERATE)
        if row.status == Status.DELETED:
            raise Conflict("plan_deleted", f"campaign {campaign_id} is deleted", field="status", allowed=[])
        spec = Campaign.parse(data, _campaign_spec(row))
        if "end_date" in data:
            _check_schedule(rt, spec)
        units = s.scalars(select(UnitRow).where(UnitRow.campaign_id == campaign_id,
                                                UnitRow.status != Status.DELETED)).all()
        keywords = _keywords(s, [u.id for u in units])
        for unit in units:
            _unit_spec(unit, keywords.get(unit.id, [])).check(spec)
        fields = _campaign_fields(spec) | ({"start_date": spec.start_date} if "start_date" in data else {})
        _update(s, rt, actor, row, fields, row.account_id, "campaign.update", f"campaign:{campaign_id}")
        return CampaignView.of(row)


def get_campaign(rt: Runtime, campaign_id: int, *, actor: Actor) -> CampaignView:
    with rt.db.read() as s:
        return CampaignView.of(_campaign_row(s, actor, campaign_id, Capability.READ))


def list_campaigns(rt: Runtime, account_id: int, *, actor: Actor, include_sub_accounts: bool = False,
                   status: str | None = None) -> list[CampaignView]:
    """An advertiser's campaigns; a brand may ask for its stores' too, side by side with its own."""
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        accounts = [account_id] + ([a for a, _, _ in descendants(s, account_id)] if include_sub_accounts else [])
        stmt = select(CampaignRow).where(CampaignRow.account_id.in_(accounts))
        if status is not None:
            stmt = stmt.where(CampaignRow.status == parse_enum(Status, status, "status", "invalid_status").value)
        else:
            stmt = stmt.where(CampaignRow.status != Status.DELETED.value)
        return [CampaignView.of(r) for r in s.scalars(stmt.order_by(CampaignRow.id))]


def _promotable(rt: Runtime, s: Session, advertiser_id: int, note_ids: Sequence[int],
                product_id: int | None = None) -> int | None:
    """Check a unit's notes; returns the sub-account they belong to when this is 代投, else None. A brand
    may also promote creators' sponsored notes from its own deals. An SPU unit's notes must all link its
    product."""
    notes = {n.id: n for n in notes_by_id(rt, note_ids)}
    for note_id in note_ids:
        note = notes.get(note_id)
        if note is None or note.status != "published":
            raise broken("note_not_promotable", "note_ids", f"note {note_id} is not a published note",
                         "published notes of the advertiser or of an authorized sub-account")
    if product_id is not None:
        get_product(rt, product_id)
        if unlinked := [n for n in note_ids if product_id not in notes[n].product_ids]:
            raise broken("invalid_unit", "note_ids", f"notes {unlinked} do not link product {product_id}",
                         f"notes whose product_ids include {product_id}")
    authors = {n.author_id for n in notes.values()}
    if authors == {advertiser_id} or all(n.boost_account_id == advertiser_id for n in notes.values()):
        return None  # its own notes, or creators' notes its deals published (KFS boosting)
    if len(authors) > 1:
        raise broken("mixed_substituted_notes", "note_ids",
                     "a unit promotes either its own notes or one sub-account's notes (代投), never a mix",
                     "notes of one author")
    (author,) = authors
    if advertiser_id not in ancestors(s, author):
        raise broken("not_authorized_sub_account", "note_ids",
                     f"account {author} is not an actively authorized sub-account of {advertiser_id}",
                     "notes of the advertiser or of its authorized sub-accounts")
    return author


def substitution_active(rt: Runtime, advertiser_id: int, author_id: int) -> bool:
    """Whether the KOB chain from the advertiser down to the notes' author is active (代投 may serve)."""
    with rt.db.read() as s:
        return advertiser_id in ancestors(s, author_id)


def _keyword_rows(rt: Runtime, unit_id: int, spec: Unit) -> list[KeywordRow]:
    now = rt.now()
    return ([KeywordRow(unit_id=unit_id, keyword=k.keyword, match=k.match.value, bid_fen=k.bid_fen, negative=False,
                        status=Status.ACTIVE.value, created_at=now, updated_at=now) for k in spec.keywords]
            + [KeywordRow(unit_id=unit_id, keyword=w, match="phrase", bid_fen=None, negative=True,
                          status=Status.ACTIVE.value, created_at=now, updated_at=now) for w in spec.negative_keywords])


def do_create_unit(rt: Runtime, campaign_id: int, data: Mapping[str, Any], *, actor: Actor) -> UnitView:
    spec = Unit.parse(data)
    with rt.db.transaction() as s:
        campaign = _campaign_row(s, actor, campaign_id, Capability.OPERATE)
        if campaign.status == Status.DELETED:
            raise Conflict("plan_deleted", f"campaign {campaign_id} is deleted", field="campaign_id", allowed=[])
        spec.check(_campaign_spec(campaign))
        substituted = _promotable(rt, s, campaign.account_id, spec.note_ids, spec.product_id)
        now = rt.now()
        row = UnitRow(campaign_id=campaign_id, name=spec.name.strip(), bid_fen=spec.bid_fen,
                      target_cost_fen=spec.target_cost_fen, note_ids=list(spec.note_ids),
                      substituted_account_id=substituted, product_id=spec.product_id,
                      targeting=_targeting_json(spec.targeting), status=Status.ACTIVE.value, created_at=now,
                      updated_at=now)
        s.add(row)
        s.flush()
        keywords = _keyword_rows(rt, row.id, spec)
        s.add_all(keywords)
        s.flush()
        record_audit(s, rt, actor, account_id=campaign.account_id, action="unit.create",
                     target=f"campaign:{campaign_id}/unit:{row.id}",
                     after={"name": row.name, "bid_fen": row.bid_fen, "target_cost_fen": row.target_cost_fen,
                            "note_ids": row.note_ids, "product_id": row.product_id, "targeting": row.targeting,
                            "keywords": [[k.keyword, k.match, k.bid_fen, k.negative] for k in keywords]})
        return _unit_view(row, campaign, keywords)


def do_update_unit(rt: Runtime, unit_id: int, data: Mapping[str, Any], *, actor: Actor) -> UnitView:
    """Change a unit's name, bid, target cost, notes or targeting (keywords have their own actions)."""
    if "keywords" in data or "negative_keywords" in data:
        raise broken("invalid_unit", "keywords", "keywords change through the keyword actions",
                     "POST /v1/units/{id}/keywords, PATCH /v1/keywords/{id}")
    with rt.db.transaction() as s:
        row, campaign = _unit_row(s, actor, unit_id, Capability.OPERATE)
        if row.status == Status.DELETED:
            raise Conflict("plan_deleted", f"unit {unit_id} is deleted", field="status", allowed=[])
        keywords = _keywords(s, [unit_id]).get(unit_id, [])
        spec = Unit.parse(data, _unit_spec(row, keywords))
        spec.check(_campaign_spec(campaign))
        substituted = _promotable(rt, s, campaign.account_id, spec.note_ids, spec.product_id) \
            if "note_ids" in data or "product_id" in data else row.substituted_account_id
        fields = {"name": spec.name.strip(), "bid_fen": spec.bid_fen, "target_cost_fen": spec.target_cost_fen,
                  "note_ids": list(spec.note_ids), "substituted_account_id": substituted, "product_id": spec.product_id,
                  "targeting": _targeting_json(spec.targeting)}
        _update(s, rt, actor, row, fields, campaign.account_id, "unit.update", f"campaign:{campaign.id}/unit:{unit_id}")
        return _unit_view(row, campaign, keywords)


def get_unit(rt: Runtime, unit_id: int, *, actor: Actor) -> UnitView:
    with rt.db.read() as s:
        row, campaign = _unit_row(s, actor, unit_id, Capability.READ)
        return _unit_view(row, campaign, _keywords(s, [unit_id]).get(unit_id, []))


def list_units(rt: Runtime, campaign_id: int, *, actor: Actor) -> list[UnitView]:
    with rt.db.read() as s:
        campaign = _campaign_row(s, actor, campaign_id, Capability.READ)
        rows = s.scalars(select(UnitRow).where(UnitRow.campaign_id == campaign_id,
                                               UnitRow.status != Status.DELETED.value).order_by(UnitRow.id)).all()
        keywords = _keywords(s, [r.id for r in rows])
        return [_unit_view(r, campaign, keywords.get(r.id, [])) for r in rows]


def do_add_keywords(rt: Runtime, unit_id: int, keywords: Sequence[object], *, negative: bool = False,
                    actor: Actor) -> UnitView:
    """Add keywords (or negative keywords) to a unit; the unit's rules are checked with them included."""
    with rt.db.transaction() as s:
        row, campaign = _unit_row(s, actor, unit_id, Capability.OPERATE)
        existing = _keywords(s, [unit_id]).get(unit_id, [])
        base = _unit_spec(row, existing)
        if negative:
            spec = Unit.parse({"negative_keywords": [*base.negative_keywords, *keywords]}, base)
            added = [w for w in spec.negative_keywords if w not in base.negative_keywords]
            rows = [KeywordRow(unit_id=unit_id, keyword=w, match="phrase", bid_fen=None, negative=True,
                               status=Status.ACTIVE.value, created_at=rt.now(), updated_at=rt.now()) for w in added]
        else:
            new = [Keyword.parse(k) for k in keywords]
            spec = replace(base, keywords=(*base.keywords, *new))
            rows = [KeywordRow(unit_id=unit_id, keyword=k.keyword, match=k.match.value, bid_fen=k.bid_fen,
                               negative=False, status=Status.ACTIVE.value, created_at=rt.now(), updated_at=rt.now())
                    for k in new]
        if len(spec.keywords) > 500:
            raise broken("invalid_keyword", "keywords", "a unit holds at most 500 keywords", "<= 500")
        spec.check(_campaign_spec(campaign))
        s.add_all(rows)
        s.flush()
        record_audit(s, rt, actor, account_id=campaign.account_id, action="keyword.add",
                     target=f"campaign:{campaign.id}/unit:{unit_id}",
                     after={"keywords": [[k.keyword, k.match, k.bid_fen, k.negative] for k in rows]})
        return _unit_view(row, campaign, [*existing, *rows])


def do_update_keyword(rt: Runtime, keyword_id: int, data: Mapping[str, Any], *, actor: Actor) -> KeywordView:
    """Change a keyword's bid or match type."""
    with rt.db.transaction() as s:
        kw = s.get(KeywordRow, keyword_id)
        if kw is None:
            raise NotFound("keyword", keyword_id)
        try:
            row, campaign = _unit_row(s, actor, kw.unit_id, Capability.OPERATE)
        except NotFound:
            raise NotFound("keyword", keyword_id) from None
        if kw.status == Status.DELETED:
            raise Conflict("plan_deleted", f"keyword {keyword_id} is deleted", field="status", allowed=[])
        if kw.negative and data.get("bid_fen") is not None:
            raise broken("invalid_keyword", "bid_fen", "a negative keyword has no bid", "null")
        new = Keyword.parse({"keyword": kw.keyword, "match": data.get("match", kw.match),
                             "bid_fen": data.get("bid_fen", kw.bid_fen)})
        others = [k for k in _keywords(s, [kw.unit_id])[kw.unit_id] if k.id != keyword_id]
        base = _unit_spec(row, others)
        spec = replace(base, keywords=(*base.keywords, *(() if kw.negative else (new,))))
        spec.check(_campaign_spec(campaign))
        before, after = _changes({"match": kw.match, "bid_fen": kw.bid_fen},
                                 {"match": new.match.value, "bid_fen": new.bid_fen})
        if after:
            kw.match, kw.bid_fen, kw.updated_at = new.match.value, new.bid_fen, rt.now()
            record_audit(s, rt, actor, account_id=campaign.account_id, action="keyword.update",
                         target=f"campaign:{campaign.id}/unit:{row.id}/keyword:{keyword_id}", before=before,
                         after=after)
        return KeywordView.of(kw)


def do_create_creative(rt: Runtime, unit_id: int, note_id: int, component: Mapping[str, Any], *,
                       actor: Actor) -> CreativeView:
    spec = CreativeSpec.parse(note_id, component)
    with rt.db.transaction() as s:
        row, campaign = _unit_row(s, actor, unit_id, Capability.OPERATE)
        if row.status == Status.DELETED:
            raise Conflict("plan_deleted", f"unit {unit_id} is deleted", field="unit_id", allowed=[])
        if note_id not in row.note_ids:
            raise broken("invalid_creative", "note_id", f"note {note_id} is not one of the unit's notes",
                         list(row.note_ids))
        if spec.store_id is not None:
            try:
                store = require(s, actor, spec.store_id, Capability.READ)
            except NotFound:
                raise broken("invalid_creative", "store_id", f"store {spec.store_id} is not visible to you",
                             "a store in your KOB tree") from None
            if store.kind != "store":
                raise broken("invalid_creative", "store_id", f"account {spec.store_id} is not a store", "a store")
        now = rt.now()
        component_json = {k: v for k, v in asdict(spec).items() if k != "note_id" and v is not None}
        creative = CreativeRow(unit_id=unit_id, note_id=note_id, component=component_json,
                               status=Status.ACTIVE.value, created_at=now, updated_at=now)
        s.add(creative)
        s.flush()
        record_audit(s, rt, actor, account_id=campaign.account_id, action="creative.create",
                     target=f"campaign:{campaign.id}/unit:{unit_id}/creative:{creative.id}",
                     after={"note_id": note_id, "component": component_json})
        return CreativeView.of(creative, campaign.id)


def list_creatives(rt: Runtime, unit_id: int, *, actor: Actor) -> list[CreativeView]:
    with rt.db.read() as s:
        _, campaign = _unit_row(s, actor, unit_id, Capability.READ)
        rows = s.scalars(select(CreativeRow).where(CreativeRow.unit_id == unit_id,
                                                   CreativeRow.status != Status.DELETED.value)
                         .order_by(CreativeRow.id)).all()
        return [CreativeView.of(r, campaign.id) for r in rows]


LEVELS = ("campaign", "unit", "creative", "keyword")


@dataclass(frozen=True)
class StatusChange:
    level: str
    id: int
    before: str
    after: str


def do_set_status(rt: Runtime, level: str, ids: Sequence[int], status: str, *, actor: Actor) -> list[StatusChange]:
    """Pause, resume or delete many plans at one level, all or none: one id the actor may not change
    refuses the whole batch. Deleting is final."""
    if level not in LEVELS:
        raise broken("invalid_status", "level", f"{level!r} is not a plan level", list(LEVELS))
    new = parse_enum(Status, status, "status", "invalid_status")
    if not 1 <= len(ids) <= MAX_BULK or len(set(ids)) != len(ids):
        raise broken("invalid_status", "ids", f"1 to {MAX_BULK} distinct ids", f"1..{MAX_BULK}")
    changes: list[StatusChange] = []
    with rt.db.transaction() as s:
        for ident in ids:
            row, account_id, target = _plan(s, actor, level, ident)
            if row.status == new.value:
                continue
            if row.status == Status.DELETED:
                raise Conflict("plan_deleted", f"{level} {ident} is deleted", field="ids", allowed=[])
            changes.append(StatusChange(level, ident, row.status, new.value))
            row.status, row.updated_at = new.value, rt.now()
            record_audit(s, rt, actor, account_id=account_id, action=f"{level}.status", target=target,
                         before={"status": changes[-1].before}, after={"status": new.value})
        s.flush()
    return changes


def _plan(s: Session, actor: Actor, level: str, ident: int) -> tuple[Any, int, str]:
    """The row at ``level`` with its owner and audit target, if the actor may operate it."""
    if level == "campaign":
        c = _campaign_row(s, actor, ident, Capability.OPERATE)
        return c, c.account_id, f"campaign:{c.id}"
    if level == "unit":
        u, c = _unit_row(s, actor, ident, Capability.OPERATE)
        return u, c.account_id, f"campaign:{c.id}/unit:{u.id}"
    row = s.get(CreativeRow, ident) if level == "creative" else s.get(KeywordRow, ident)
    if row is None:
        raise NotFound(level, ident)
    try:
        u, c = _unit_row(s, actor, row.unit_id, Capability.OPERATE)
    except NotFound:
        raise NotFound(level, ident) from None
    return row, c.account_id, f"campaign:{c.id}/unit:{u.id}/{level}:{ident}"


def campaign_history(rt: Runtime, campaign_id: int, *, actor: Actor, limit: int = 100) -> list[AuditView]:
    """Every change to the campaign and everything under it, newest first."""
    with rt.db.read() as s:
        row = _campaign_row(s, actor, campaign_id, Capability.READ)
    return read_audit(rt, row.account_id, actor=actor, limit=limit, target_prefix=f"campaign:{campaign_id}")

