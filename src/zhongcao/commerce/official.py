"""Official-account tools: targeted message pushes, and UGC a brand features on its profile.

A push goes to an audience (followers, a live session's reservations, past buyers, people who sent a DM,
or a segment's consumer ids) under a frequency limit: one account reaches one consumer at most
``ZHONGCAO_PUSH_WEEKLY_LIMIT`` times in 7 days, so a brand cannot spam its followers away. The limit is
checked and the receipts written in one transaction per push, under a lock on the pushing account, so
two concurrent pushes cannot both take a consumer's last slot.

A brand features notes by others (consumers, creators) that mention it, by name or ``@name``, in the
title, body or topics: UGC it did not write and cannot edit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, get_account, lock_accounts, record_audit, require
from zhongcao.commerce.dms import check_text
from zhongcao.commerce.models import (
    ConversationRow,
    FeaturedNoteRow,
    LiveReservationRow,
    OrderRow,
    PushReceiptRow,
    PushRow,
)
from zhongcao.commerce.orders import seller_columns
from zhongcao.content import NoteView, notes_by_id
from zhongcao.core import Invalid, NotFound, Runtime, in_lists
from zhongcao.events import EventIds, EventKind, Surface, enqueue, make_batch

AUDIENCES = ("followers", "reservations", "buyers", "conversations", "consumers")
MAX_RECIPIENTS = 1_000_000
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class PushView:
    id: int
    account_id: int
    text: str
    audience: str
    sent: int
    limited: int  # audience members skipped: they had their pushes from this account this week
    created_at: datetime


def audience_of(rt: Runtime, account_id: int, kind: str, ref: int | None = None) -> np.ndarray:
    """The consumers of a commerce audience: a live session's reservations (``ref``), the account's
    buyers (paid orders), or consumers who opened a DM with it."""
    with rt.db.read() as s:
        if kind == "reservations":
            query = select(LiveReservationRow.consumer_id).where(LiveReservationRow.live_id == ref)
        elif kind == "buyers":
            query = select(OrderRow.consumer_id).where(OrderRow.seller_id == account_id,
                                                       OrderRow.paid_at.is_not(None))
        elif kind == "conversations":
            query = select(ConversationRow.consumer_id).where(ConversationRow.account_id == account_id)
        else:
            raise ValueError(kind)
        return np.unique(np.array(s.scalars(query.distinct()).all(), dtype=np.int64))


def do_push(rt: Runtime, ids: EventIds, account_id: int, text: str, audience: str,
            consumers: Sequence[int] | np.ndarray, *, actor: Actor) -> PushView:
    """Send ``text`` to ``consumers`` (the resolved ``audience``), skipping those over the frequency limit."""
    if audience not in AUDIENCES:
        raise Invalid("invalid_push", f"{audience!r} is not an audience", field="audience", allowed=list(AUDIENCES))
    if not 1 <= len(text.strip()) <= 500:
        raise Invalid("invalid_push", "a push is 1 to 500 characters", field="text", allowed="1..500 characters")
    body, _ = check_text(rt, text)
    targets = np.unique(np.asarray(consumers, dtype=np.int64))
    targets = targets[targets > 0]
    if len(targets) > MAX_RECIPIENTS:
        raise Invalid("invalid_push", f"{len(targets)} recipients is too many for one push", field="consumer_ids",
                      allowed=f"at most {MAX_RECIPIENTS}")
    with rt.db.transaction() as s:
        account = require(s, actor, account_id, Capability.OPERATE)
        lock_accounts(rt, s, account_id)
        now = rt.now()
        counts = _recent(s, account_id, targets, now - WEEK)
        allowed = targets[counts < rt.settings.push_weekly_limit]
        row = PushRow(account_id=account_id, text=body, audience=audience, sent=len(allowed),
                      limited=len(targets) - len(allowed), created_at=now)
        s.add(row)
        s.flush()
        if len(allowed):
            s.execute(insert(PushReceiptRow), [{"push_id": row.id, "consumer_id": int(c), "account_id": account_id,
                                                "at": now} for c in allowed])
            _emit_pushes(s, rt, ids, allowed, row.id, seller_columns(account.kind, account_id))
        record_audit(s, rt, actor, account_id=account_id, action="push.send", target=f"push:{row.id}",
                     after={"audience": audience, "sent": row.sent, "limited": row.limited})
        return PushView(row.id, account_id, body, audience, row.sent, row.limited, now)


def _emit_pushes(s: Session, rt: Runtime, ids: EventIds, consumers: np.ndarray, push_id: int,
              seller: dict[str, int]) -> None:
    enqueue(s, rt, make_batch({"event_id": ids.take(len(consumers)), "ts": np.full(len(consumers), np.datetime64(
        rt.now().replace(tzinfo=None), "us")), "kind": EventKind.PUSH.value, "consumer_id": consumers.astype(np.uint64),
        "surface": Surface.PUSH.value, "source": "push", "query": str(push_id), **seller}))


def _recent(s: Session, account_id: int, consumers: np.ndarray, since: datetime) -> np.ndarray:
    """Pushes each consumer got from the account since ``since``."""
    got: dict[int, int] = {}
    for chunk in in_lists(consumers):
        got.update(s.execute(select(PushReceiptRow.consumer_id, func.count()).where(
            PushReceiptRow.account_id == account_id, PushReceiptRow.consumer_id.in_(chunk),
            PushReceiptRow.at > since).group_by(PushReceiptRow.consumer_id)).all())
    return np.array([got.get(int(c), 0) for c in consumers], dtype=np.int64)


def name_parts(name: str) -> list[str]:
    """How notes name an account: whole, or by a part of two characters or more ("品牌 Brand": 品牌, Brand)."""
    return list(dict.fromkeys(n for n in (name, *name.split()) if len(n) >= 2))


def _mentions(note: NoteView, names: Sequence[str]) -> bool:
    text = " ".join([note.title, note.body, *note.topics]).lower()
    return any(name.lower() in text for name in names if name)


def do_feature_note(rt: Runtime, account_id: int, note_id: int, *, featured: bool = True,
                    actor: Actor) -> list[int]:
    """Feature (or stop featuring) a note about the brand on its profile; returns the featured note ids."""
    name = get_account(rt, account_id, actor=actor).name
    notes = [n for n in notes_by_id(rt, [note_id]) if n.status == "published"]
    if featured:
        if not notes:
            raise NotFound("note", note_id)
        note = notes[0]
        if note.author_id == account_id:
            raise Invalid("invalid_featured_note", "UGC is a note by someone else; the brand's own notes are on "
                          "its profile already", field="note_id", allowed="a note by a consumer or creator")
        names = name_parts(name)
        if not _mentions(note, names):
            raise Invalid("invalid_featured_note", f"note {note_id} does not mention {name!r}", field="note_id",
                          allowed=f"a note whose title, body or topics name {names}")
    with rt.db.transaction() as s:
        require(s, actor, account_id, Capability.OPERATE)
        if featured and s.get(FeaturedNoteRow, (account_id, note_id)) is None:
            s.add(FeaturedNoteRow(account_id=account_id, note_id=note_id, featured_at=rt.now()))
        elif not featured:
            s.execute(delete(FeaturedNoteRow).where(FeaturedNoteRow.account_id == account_id,
                                                    FeaturedNoteRow.note_id == note_id))
        record_audit(s, rt, actor, account_id=account_id, action="ugc.feature" if featured else "ugc.unfeature",
                     target=f"note:{note_id}")
    return featured_notes(rt, account_id)


def featured_notes(rt: Runtime, account_id: int) -> list[int]:
    """What the profile shows, newest first; notes since restricted or deleted drop out."""
    with rt.db.read() as s:
        ids = s.scalars(select(FeaturedNoteRow.note_id).where(FeaturedNoteRow.account_id == account_id)
                        .order_by(FeaturedNoteRow.featured_at.desc(), FeaturedNoteRow.note_id)).all()
    live = {n.id for n in notes_by_id(rt, ids) if n.status == "published"}
    return [i for i in ids if i in live]
