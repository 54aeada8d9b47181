"""DMs (私信) between consumers and brands, stores or KOS accounts, with their origin, a multi-seat inbox,
and leads left on structured lead cards.

Every conversation records what it came from (note, ad, live, profile, search): the store sees the note a
DM came from, and attribution joins on it. The inbox assigns conversations to members or bound KOS seats
and measures the first response. The report metrics, per FIELD_FACTS §2 and as the DM tool counts them:
- conversations (进线, DM users): consumers who opened a DM;
- openers (开口): conversations in which the consumer wrote at least once;
- consults (有效咨询): conversations in which the consumer wrote and the account answered;
- leads (留资): conversations that produced a lead card.

Contact details travel only on lead cards (phone or WeCom). A lead moves new → contacted → valid → won,
or to lost; one that becomes valid within 7 days of its card counts as a valid-lead conversion.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao.accounts import (
    Actor,
    Capability,
    ancestors,
    descendants,
    list_kos,
    list_members,
    record_audit,
    require,
    require_owner,
    require_platform,
)
from zhongcao.commerce.contact import find_contacts, mask
from zhongcao.commerce.models import ConversationRow, LeadRow, MessageRow
from zhongcao.commerce.orders import account_kind, seller_columns
from zhongcao.commerce.record import emit, emit_many
from zhongcao.commerce.sources import Source
from zhongcao.commerce.webhooks import enqueue_deliveries, enqueue_deliveries_many
from zhongcao.core import Conflict, Invalid, NotFound, Runtime
from zhongcao.events import EventIds, EventKind, Surface

DM_KINDS = ("brand", "store", "distributor", "creator", "consumer")  # consumer: a KOS person's own account
MAX_TEXT = 1_000
VALID_WINDOW = timedelta(days=7)
LEAD_FLOW = {"new": ("contacted", "valid", "lost"), "contacted": ("valid", "lost"), "valid": ("won", "lost"),
             "won": (), "lost": ()}
PHONE = re.compile(r"1[3-9]\d{9}")
WECOM = re.compile(r"[a-zA-Z][-_a-zA-Z0-9]{5,19}")


@dataclass(frozen=True)
class ConversationView:
    id: int
    consumer_id: int
    account_id: int
    origin: dict[str, object]
    seat: dict[str, int] | None
    consumer_messages: int
    account_messages: int
    created_at: datetime
    first_response_seconds: float | None


@dataclass(frozen=True)
class MessageView:
    id: int
    conversation_id: int
    sender: str
    text: str
    masked: bool
    at: datetime


@dataclass(frozen=True)
class LeadView:
    lead_id: int
    account_id: int
    conversation_id: int
    consumer_id: int
    kind: str
    value: str
    origin: dict[str, object]
    status: str
    created_at: datetime
    updated_at: datetime
    valid_at: datetime | None


@dataclass(frozen=True)
class DmStats:
    account_id: int
    since: datetime
    until: datetime
    conversations: int
    openers: int
    consults: int
    leads: int
    consumer_messages: int
    account_messages: int
    avg_first_response_seconds: float | None
    by_origin: dict[str, int]
    by_seat: list[dict[str, object]]


def _conversation(row: ConversationRow) -> ConversationView:
    seat = ({"member_id": row.seat_member_id} if row.seat_member_id is not None else
            {"kos_account_id": row.seat_account_id} if row.seat_account_id is not None else None)
    response = ((row.first_response_at - row.first_consumer_at).total_seconds()
                if row.first_response_at and row.first_consumer_at else None)
    return ConversationView(row.id, row.consumer_id, row.account_id, Source.of(row).view(), seat, row.consumer_messages,
                            row.account_messages, row.created_at, response)


def _lead(row: LeadRow) -> LeadView:
    return LeadView(row.id, row.account_id, row.conversation_id, row.consumer_id, row.kind, row.value,
                    Source.of(row).view(), row.status, row.created_at, row.updated_at, row.valid_at)


def do_open_conversation(rt: Runtime, ids: EventIds, consumer_id: int, account_id: int, origin: Source, *,
                         actor: Actor) -> ConversationView:
    """A consumer opens a DM with an account from a note, an ad, a live room, a profile or a search."""
    require_platform(actor, "open a DM for a consumer")
    with rt.db.transaction() as s:
        kind = _dm_kind(s, account_id)
        row = ConversationRow(consumer_id=consumer_id, account_id=account_id, created_at=rt.now(), consumer_messages=0,
                              account_messages=0, **origin.columns())
        s.add(row)
        s.flush()
        emit(s, rt, ids, EventKind.DM, consumer_id=consumer_id, conversation_id=row.id,
             **_dm_event(origin, kind, account_id))
        return _conversation(row)


def _dm_kind(s: Session, account_id: int, field: str = "account_id") -> str:
    """The account's kind, if it takes DMs."""
    kind = account_kind(s, account_id)
    if kind not in DM_KINDS:
        raise Invalid("invalid_conversation", f"a {kind} account does not take DMs", field=field,
                      allowed=list(DM_KINDS))
    return kind


@dataclass(frozen=True)
class DmLead:
    """A consumer's DM that ends on a lead card: opened with an account from ``origin``, the consumer's
    question and the account's answer, and the card the consumer leaves."""

    consumer_id: int
    account_id: int
    origin: Source
    question: str
    answer: str
    card_kind: str
    card_value: str


def do_dm_leads(rt: Runtime, ids: EventIds, asks: Sequence[DmLead], *, actor: Actor) -> list[LeadView]:
    """Many consumers' DMs, each opened, asked, answered and closed on a lead card, for the platform (the
    simulator's path), in one transaction and a few statements: the rows, deliveries and events that
    ``do_open_conversation``, ``do_post_message`` from each side and ``do_lead_card`` record one call each.
    One ask refused refuses them all, before anything is written."""
    require_platform(actor, "open DMs for consumers")
    texts: list[tuple[tuple[str, bool], ...]] = []
    cards: list[str] = []
    for i, ask in enumerate(asks):
        said = []
        for name in ("question", "answer"):
            try:
                said.append(check_text(rt, getattr(ask, name)))
            except Invalid as exc:
                raise _of_ask(i, name, exc) from None
        texts.append(tuple(said))
        try:
            cards.append(_card(ask.card_kind, ask.card_value))
        except Invalid as exc:
            raise _of_ask(i, f"card_{exc.field}", exc) from None
    if not asks:
        return []
    with rt.db.transaction() as s:
        kinds: dict[int, str] = {}  # read once per account
        for i, a in enumerate(asks):
            if a.account_id not in kinds:
                kinds[a.account_id] = _dm_kind(s, a.account_id, f"asks[{i}].account_id")
        now = rt.now()
        rows = [ConversationRow(consumer_id=a.consumer_id, account_id=a.account_id, created_at=now, consumer_messages=1,
                                account_messages=1, first_consumer_at=now, first_response_at=now, **a.origin.columns())
                for a in asks]
        s.add_all(rows)
        s.flush()
        leads = [LeadRow(conversation_id=row.id, account_id=a.account_id, consumer_id=a.consumer_id, kind=a.card_kind,
                         value=card, status="new", created_at=now, updated_at=now, **a.origin.columns())
                 for a, row, card in zip(asks, rows, cards, strict=True)]
        s.add_all([MessageRow(conversation_id=row.id, sender=sender, text=body, masked=masked, at=now)
                   for row, pair in zip(rows, texts, strict=True)
                   for sender, (body, masked) in zip(("consumer", "account"), pair, strict=True)])
        s.add_all(leads)
        s.flush()
        enqueue_deliveries_many(s, rt, [(lead.id, lead.account_id) for lead in leads])
        opened = [{"consumer_id": a.consumer_id, "conversation_id": row.id,
                   **_dm_event(a.origin, kinds[a.account_id], a.account_id)} for a, row in zip(asks, rows, strict=True)]
        emit_many(s, rt, ids, EventKind.DM, opened)
        emit_many(s, rt, ids, EventKind.LEAD, [o | {"lead_id": lead.id} for o, lead in zip(opened, leads, strict=True)])
        return [_lead(lead) for lead in leads]


def _dm_event(origin: Source, kind: str, account_id: int) -> dict[str, object]:
    """The columns every DM, lead and valid-lead event carries: its origin, the DM surface, the account."""
    return origin.event() | {"surface": Surface.DM.value} | seller_columns(kind, account_id)


def _of_ask(i: int, field: str, exc: Invalid) -> Invalid:
    """A batch's refusal of one ask, naming the ask's field."""
    return Invalid(exc.code, f"asks[{i}]: {exc.detail}", field=f"asks[{i}].{field}", allowed=exc.allowed)


def _load(s: Session, conversation_id: int, *, lock: bool = False) -> ConversationRow:
    row = s.get(ConversationRow, conversation_id, with_for_update=lock)
    if row is None:
        raise NotFound("conversation", conversation_id)
    return row


def _require_account_side(s: Session, actor: Actor, row: ConversationRow) -> None:
    """The account's operators, the chain above it, its agencies, the platform, or the KOS seat it is
    assigned to answer for the account."""
    if actor.kind == "account" and row.seat_account_id is not None and actor.account_id == row.seat_account_id:
        return
    require_owner(s, actor, row.account_id, Capability.OPERATE, "conversation", row.id)


def check_text(rt: Runtime, text: str, most: int = MAX_TEXT) -> tuple[str, bool]:
    """Apply the contact rule: the text to store and whether it was masked, or ``contact_info_not_allowed``."""
    text = text.strip()
    if not 1 <= len(text) <= most:
        raise Invalid("invalid_message", f"a message is 1 to {most} characters", field="text",
                      allowed=f"1..{most} characters")
    findings = find_contacts(text)
    if not findings:
        return text, False
    if rt.settings.dm_contact_rule == "refuse":
        raise Invalid("contact_info_not_allowed", f"the message carries a {findings[0].kind}; contact details "
                      "travel only on a lead card", field="text",
                      allowed="text without phone numbers, WeChat/QQ ids, e-mail or QR links; use a lead card")
    return mask(text, findings), True


def do_post_message(rt: Runtime, conversation_id: int, sender: str, text: str, *, actor: Actor) -> MessageView:
    if sender not in ("consumer", "account"):
        raise Invalid("invalid_message", f"{sender!r} is not a sender", field="sender", allowed=["consumer", "account"])
    with rt.db.read() as s:
        row = _load(s, conversation_id)
        if sender == "consumer":
            require_owner(s, actor, row.account_id, Capability.READ, "conversation", conversation_id)
            require_platform(actor, "write for a consumer")
        else:
            _require_account_side(s, actor, row)
    body, masked = check_text(rt, text)
    with rt.db.transaction() as s:
        row = _load(s, conversation_id, lock=True)
        now = rt.now()
        if sender == "consumer":
            row.consumer_messages += 1
            row.first_consumer_at = row.first_consumer_at or now
        else:
            row.account_messages += 1
            if row.first_consumer_at is not None and row.first_response_at is None:
                row.first_response_at = now
        message = MessageRow(conversation_id=conversation_id, sender=sender, text=body, masked=masked, at=now)
        s.add(message)
        s.flush()
        return MessageView(message.id, conversation_id, sender, body, masked, now)


def list_messages(rt: Runtime, conversation_id: int, *, actor: Actor) -> list[MessageView]:
    with rt.db.read() as s:
        _require_account_side(s, actor, _load(s, conversation_id))
        return [MessageView(m.id, m.conversation_id, m.sender, m.text, m.masked, m.at) for m in s.scalars(
            select(MessageRow).where(MessageRow.conversation_id == conversation_id).order_by(MessageRow.id))]


def do_assign(rt: Runtime, conversation_id: int, *, member_id: int | None = None, kos_account_id: int | None = None,
              actor: Actor) -> ConversationView:
    """Give a conversation to a seat: a member of the account, or a KOS bound to it (or to the brand above)."""
    if (member_id is None) == (kos_account_id is None):
        raise Invalid("invalid_seat", "assign to a member or a KOS account, one of them", field="seat",
                      allowed=["member_id", "kos_account_id"])
    with rt.db.read() as s:
        account_id = _load(s, conversation_id).account_id
        require_owner(s, actor, account_id, Capability.OPERATE, "conversation", conversation_id)
    if member_id is not None:
        seats = {m.id for m in list_members(rt, account_id, actor=Actor.system())}
        if member_id not in seats:
            raise Invalid("invalid_seat", f"member {member_id} is not a member of account {account_id}",
                          field="member_id", allowed=sorted(seats))
    else:
        with rt.db.read() as s:
            chain = [account_id, *ancestors(s, account_id)]
        seats = {k.kos_account_id for a in chain for k in list_kos(rt, a, actor=Actor.system()) if k.status == "active"}
        if kos_account_id not in seats:
            raise Invalid("invalid_seat", f"account {kos_account_id} is not an active KOS of the account or its brand",
                          field="kos_account_id", allowed=sorted(seats))
    with rt.db.transaction() as s:
        row = _load(s, conversation_id, lock=True)
        row.seat_member_id, row.seat_account_id = member_id, kos_account_id
        record_audit(s, rt, actor, account_id=account_id, action="conversation.assign",
                     target=f"conversation:{conversation_id}",
                     after={"member_id": member_id, "kos_account_id": kos_account_id})
        return _conversation(row)


def get_conversation(rt: Runtime, conversation_id: int, *, actor: Actor) -> ConversationView:
    with rt.db.read() as s:
        row = _load(s, conversation_id)
        _require_account_side(s, actor, row)
        return _conversation(row)


def list_conversations(rt: Runtime, account_id: int, *, member_id: int | None = None,
                       kos_account_id: int | None = None, unanswered: bool = False, after_id: int = 0,
                       limit: int = 100, actor: Actor) -> list[ConversationView]:
    """The inbox: the account's conversations, oldest first, optionally one seat's, optionally only those
    whose consumer still waits for a first answer. A KOS reads its own seat without rights on the account."""
    where = [ConversationRow.account_id == account_id, ConversationRow.id > after_id]
    if member_id is not None:
        where.append(ConversationRow.seat_member_id == member_id)
    if kos_account_id is not None:
        where.append(ConversationRow.seat_account_id == kos_account_id)
    if unanswered:
        where += [ConversationRow.first_consumer_at.is_not(None), ConversationRow.first_response_at.is_(None)]
    with rt.db.read() as s:
        own_seat = actor.kind == "account" and kos_account_id is not None and actor.account_id == kos_account_id
        if not own_seat:
            require(s, actor, account_id, Capability.READ)
        return [_conversation(r) for r in s.scalars(select(ConversationRow).where(*where)
                                                    .order_by(ConversationRow.id).limit(limit))]


def _card(kind: str, value: str) -> str:
    clean = re.sub(r"[\s-]", "", value)
    if kind == "phone":
        clean = clean.removeprefix("+86")
        if PHONE.fullmatch(clean):
            return clean
        raise Invalid("invalid_lead_card", "a phone card holds a mainland mobile number", field="value",
                      allowed="11 digits starting 13–19, optionally +86")
    if kind == "wecom":
        if WECOM.fullmatch(clean) or PHONE.fullmatch(clean):
            return clean
        raise Invalid("invalid_lead_card", "a WeCom card holds a WeCom / WeChat id or a mobile number",
                      field="value", allowed="6–20 letters, digits, - or _, starting with a letter")
    raise Invalid("invalid_lead_card", f"{kind!r} is not a lead card", field="kind", allowed=["phone", "wecom"])


def do_lead_card(rt: Runtime, ids: EventIds, conversation_id: int, kind: str, value: str, *,
                 actor: Actor) -> LeadView:
    """The consumer leaves contact details on a card: a lead for the account, with the conversation's
    origin, queued for the CRM webhooks of the account and the brands above it. The same card again in
    the same conversation is the same lead."""
    clean = _card(kind, value)
    with rt.db.transaction() as s:
        row = _load(s, conversation_id, lock=True)
        require_owner(s, actor, row.account_id, Capability.READ, "conversation", conversation_id)
        require_platform(actor, "leave a lead card for a consumer")
        seen = s.scalar(select(LeadRow).where(LeadRow.conversation_id == conversation_id, LeadRow.kind == kind,
                                              LeadRow.value == clean))
        if seen is not None:
            return _lead(seen)
        now = rt.now()
        lead = LeadRow(conversation_id=conversation_id, account_id=row.account_id, consumer_id=row.consumer_id,
                       kind=kind, value=clean, status="new", created_at=now, updated_at=now,
                       **Source.of(row).columns())
        s.add(lead)
        s.flush()
        enqueue_deliveries(s, rt, lead.id, row.account_id)
        emit(s, rt, ids, EventKind.LEAD, consumer_id=row.consumer_id, conversation_id=row.id, lead_id=lead.id,
             **_dm_event(Source.of(row), account_kind(s, row.account_id), row.account_id))
        return _lead(lead)


def list_leads(rt: Runtime, account_id: int, *, status: str | None = None, limit: int = 100,
               after_id: int = 0, actor: Actor) -> list[LeadView]:
    """The account's leads and, for a brand or distributor, its sub-accounts' (a store sees only its own)."""
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        accounts = [account_id, *(a for a, _, _ in descendants(s, account_id))]
        where = [LeadRow.account_id.in_(accounts), LeadRow.id > after_id]
        if status is not None:
            where.append(LeadRow.status == status)
        return [_lead(r) for r in s.scalars(select(LeadRow).where(*where).order_by(LeadRow.id).limit(limit))]


def do_set_lead_status(rt: Runtime, ids: EventIds, lead_id: int, status: str, *, actor: Actor) -> LeadView:
    if status not in LEAD_FLOW:
        raise Invalid("invalid_status", f"{status!r} is not a lead status", field="status", allowed=list(LEAD_FLOW))
    with rt.db.transaction() as s:
        lead = s.get(LeadRow, lead_id, with_for_update=True)
        if lead is None:
            raise NotFound("lead", lead_id)
        require_owner(s, actor, lead.account_id, Capability.OPERATE, "lead", lead_id)
        if status not in LEAD_FLOW[lead.status]:
            raise Conflict("invalid_lead_transition", f"a {lead.status} lead cannot become {status}", field="status",
                           allowed=list(LEAD_FLOW[lead.status]))
        now = rt.now()
        before = lead.status
        lead.status, lead.updated_at = status, now
        if status == "valid":
            lead.valid_at = now
            if now - lead.created_at <= VALID_WINDOW:  # a later confirmation is not a valid-lead conversion
                emit(s, rt, ids, EventKind.VALID_LEAD, consumer_id=lead.consumer_id, lead_id=lead.id,
                     conversation_id=lead.conversation_id,
                     **_dm_event(Source.of(lead), account_kind(s, lead.account_id), lead.account_id))
        record_audit(s, rt, actor, account_id=lead.account_id, action="lead.status", target=f"lead:{lead_id}",
                     before={"status": before}, after={"status": status})
        return _lead(lead)


def dm_stats(rt: Runtime, account_id: int, since: datetime, until: datetime, *, actor: Actor) -> DmStats:
    """The inbox's numbers for conversations opened in [since, until)."""
    if until <= since or until - since > timedelta(days=92):
        raise Invalid("invalid_report", "a DM report spans more than nothing and at most 92 days",
                      field="until", allowed="since < until <= since + 92 days")
    with rt.db.read() as s:
        require(s, actor, account_id, Capability.READ)
        rows = s.scalars(select(ConversationRow).where(ConversationRow.account_id == account_id,
                                                       ConversationRow.created_at >= since,
                                                       ConversationRow.created_at < until)).all()
        ids = [r.id for r in rows]
        with_leads = set(s.scalars(select(LeadRow.conversation_id).where(LeadRow.conversation_id.in_(ids)))) \
            if ids else set()
        leads = int(s.scalar(select(func.count()).where(LeadRow.conversation_id.in_(ids))) or 0) if ids else 0
    views = [_conversation(r) for r in rows]
    responses = [v.first_response_seconds for v in views if v.first_response_seconds is not None]
    by_origin: dict[str, int] = {}
    seats: dict[tuple[str, int], list[ConversationView]] = {}
    for v in views:
        by_origin[str(v.origin["kind"])] = by_origin.get(str(v.origin["kind"]), 0) + 1
        if v.seat:
            (key, value), = v.seat.items()
            seats.setdefault((key, value), []).append(v)
    by_seat: list[dict[str, object]] = [{key: value, "conversations": len(vs),
                "consults": sum(1 for v in vs if v.consumer_messages and v.account_messages),
                "leads": sum(1 for v in vs if v.id in with_leads),
                "avg_first_response_seconds": _mean([v.first_response_seconds for v in vs
                                                     if v.first_response_seconds is not None])}
               for (key, value), vs in sorted(seats.items())]
    return DmStats(account_id, since, until, len(views), sum(1 for v in views if v.consumer_messages),
                   sum(1 for v in views if v.consumer_messages and v.account_messages), leads,
                   sum(v.consumer_messages for v in views), sum(v.account_messages for v in views), _mean(responses),
                   by_origin, by_seat)


def _mean(values: list[float]) -> float | None:
    return round(sum(values) / len(values), 3) if values else None

