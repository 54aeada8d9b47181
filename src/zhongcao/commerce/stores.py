"""Stores as places (POI) and the offline conversion KOB brands buy: a verified store visit.

A store issues a visit code to a consumer in a DM (or on their lead); the consumer shows it at the
counter and the store redeems it, once, before it expires. The redemption is a ``store_visit`` event that
carries the conversation's origin, so a visit attributes to the note or ad that started the DM. Codes are
credentials, so they come from the operating system's generator rather than the simulation's seed.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from zhongcao.accounts import Actor, Capability, record_audit, require, require_owner
from zhongcao.commerce.models import ConversationRow, LeadRow, PoiRow, VisitCodeRow
from zhongcao.commerce.orders import seller_columns
from zhongcao.commerce.record import emit
from zhongcao.commerce.sources import Source
from zhongcao.core import Conflict, Invalid, NotFound, Runtime
from zhongcao.events import EventIds, EventKind

CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O or 1/I: read aloud at a counter
CODE_LENGTH = 8


@dataclass(frozen=True)
class PoiView:
    account_id: int
    name: str
    address: str
    city: str
    lat: float
    lng: float
    updated_at: datetime


@dataclass(frozen=True)
class VisitCodeView:
    code: str
    store_id: int
    conversation_id: int
    lead_id: int | None
    consumer_id: int
    issued_at: datetime
    expires_at: datetime
    redeemed_at: datetime | None


def _poi(row: PoiRow) -> PoiView:
    return PoiView(row.account_id, row.name, row.address, row.city, row.lat, row.lng, row.updated_at)


def _code(row: VisitCodeRow) -> VisitCodeView:
    return VisitCodeView(row.code, row.store_id, row.conversation_id, row.lead_id, row.consumer_id, row.issued_at,
                         row.expires_at, row.redeemed_at)


def do_set_poi(rt: Runtime, account_id: int, *, name: str, address: str, city: str, lat: float, lng: float,
               actor: Actor) -> PoiView:
    """Place a store on the map (create or move it)."""
    for field, value, most in (("name", name.strip(), 200), ("address", address.strip(), 300),
                               ("city", city.strip(), 20)):
        if not 1 <= len(value) <= most:
            raise Invalid("invalid_poi", f"a store's {field} is 1 to {most} characters", field=field,
                          allowed=f"1..{most} characters")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise Invalid("invalid_poi", "coordinates are WGS-84 degrees", field="lat" if abs(lat) > 90 else "lng",
                      allowed={"lat": "-90..90", "lng": "-180..180"})
    with rt.db.transaction() as s:
        account = require(s, actor, account_id, Capability.OPERATE)
        if account.kind != "store":
            raise Invalid("invalid_poi", f"a {account.kind} account is not a store", field="account_id",
                          allowed=["store"])
        row = s.get(PoiRow, account_id)
        values = {"name": name.strip(), "address": address.strip(), "city": city.strip(), "lat": lat, "lng": lng,
                  "updated_at": rt.now()}
        if row is None:
            row = PoiRow(account_id=account_id, **values)
            s.add(row)
        else:
            for name, new in values.items():
                setattr(row, name, new)
        record_audit(s, rt, actor, account_id=account_id, action="poi.set", target=f"account:{account_id}",
                     after={k: v for k, v in values.items() if k != "updated_at"})
        return _poi(row)


def list_pois(rt: Runtime, *, city: str | None = None, limit: int = 100) -> list[PoiView]:
    """Stores on the map are public: consumers look for one near them."""
    with rt.db.read() as s:
        query = select(PoiRow).order_by(PoiRow.account_id).limit(limit)
        if city:
            query = query.where(PoiRow.city == city)
        return [_poi(r) for r in s.scalars(query)]


def do_issue_visit_code(rt: Runtime, conversation_id: int, *, actor: Actor) -> VisitCodeView:
    """The store hands the consumer of a DM a code to redeem at the counter."""
    with rt.db.transaction() as s:
        conversation = s.get(ConversationRow, conversation_id)
        if conversation is None:
            raise NotFound("conversation", conversation_id)
        require_owner(s, actor, conversation.account_id, Capability.OPERATE, "conversation", conversation_id)
        if s.get(PoiRow, conversation.account_id) is None:
            raise Conflict("store_not_located", f"account {conversation.account_id} has no store location",
                           field="conversation_id", allowed="a conversation with a store that has set its POI")
        lead = s.scalar(select(LeadRow.id).where(LeadRow.conversation_id == conversation_id).order_by(LeadRow.id))
        now = rt.now()
        row = VisitCodeRow(code="".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH)),
                           store_id=conversation.account_id, conversation_id=conversation_id, lead_id=lead,
                           consumer_id=conversation.consumer_id, issued_at=now,
                           expires_at=now + timedelta(days=rt.settings.visit_code_days))
        s.add(row)
        s.flush()
        return _code(row)


def do_redeem_visit_code(rt: Runtime, ids: EventIds, code: str, *, actor: Actor) -> VisitCodeView:
    """The store confirms the visit; a code is good once, at its store, before it expires."""
    clean = code.strip().upper()
    with rt.db.transaction() as s:
        row = s.get(VisitCodeRow, clean, with_for_update=True)
        if row is None:
            raise NotFound("visit_code", clean)
        require_owner(s, actor, row.store_id, Capability.OPERATE, "visit_code", clean)
        now = rt.now()
        if row.redeemed_at is not None:
            raise Conflict("visit_code_used", f"code {clean} was redeemed at {row.redeemed_at.isoformat()}",
                           field="code", allowed="a code not yet redeemed")
        if now > row.expires_at:
            raise Conflict("visit_code_expired", f"code {clean} expired at {row.expires_at.isoformat()}",
                           field="code", allowed=f"within {rt.settings.visit_code_days} days of issue")
        row.redeemed_at = now
        conversation = s.get(ConversationRow, row.conversation_id)
        assert conversation is not None
        emit(s, rt, ids, EventKind.STORE_VISIT, consumer_id=row.consumer_id, conversation_id=row.conversation_id,
             lead_id=row.lead_id, **Source.of(conversation).event(), **seller_columns("store", row.store_id))
        record_audit(s, rt, actor, account_id=row.store_id, action="visit.redeem", target=f"visit_code:{clean}")
        return _code(row)
