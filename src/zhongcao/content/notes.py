"""Note actions: publish and read notes. The counters a note shows derive from events, never from here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from zhongcao.accounts import (
    AccountKind,
    Actor,
    Capability,
    record_audit,
    record_audits,
    require,
    require_platform,
)
from zhongcao.content.models import NOTE_KINDS, NOTE_STATUSES, Note
from zhongcao.content.taxonomy import CODE
from zhongcao.core import Conflict, Forbidden, Invalid, NotFound, Runtime

AUTHOR_KINDS = {k.value for k in AccountKind} - {AccountKind.AGENCY.value}
MAX_TITLE, MAX_BODY, MAX_TOPICS, MAX_TOPIC = 100, 20_000, 10, 30
MAX_PRODUCTS = 20  # SPU links on one note


@dataclass(frozen=True)
class NoteView:
    id: int
    author_id: int
    kind: str
    title: str
    body: str
    topics: list[str]
    category: str
    status: str
    sponsored: bool
    collaboration_id: int | None
    product_ids: list[int]
    created_at: datetime
    updated_at: datetime
    version: int
    boost_account_id: int | None = None  # a brand that may promote this sponsored note (KFS)

    @classmethod
    def of(cls, n: Note) -> NoteView:
        return cls(n.id, n.author_id, n.kind, n.title, n.body, list(n.topics), n.category, n.status, n.sponsored,
                   n.collaboration_id, list(n.product_ids), n.created_at, n.updated_at, n.version, n.boost_account_id)


def _bad(field: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_note", detail, field=field, allowed=allowed)


def invalid_kind(kind: str) -> Invalid:
    return _bad("kind", f"{kind!r} is not a note kind", list(NOTE_KINDS))


def _clean_topics(topics: Sequence[str]) -> list[str]:
    out: list[str] = []
    for raw in topics:
        topic = str(raw).strip().lstrip("#＃").strip()
        if not topic or len(topic) > MAX_TOPIC:
            raise _bad("topics", f"topic {raw!r} is empty or too long", f"1..{MAX_TOPIC} characters, # optional")
        if topic not in out:
            out.append(topic)
    if len(out) > MAX_TOPICS:
        raise _bad("topics", f"{len(out)} topics", f"at most {MAX_TOPICS}")
    return out


@dataclass(frozen=True)
class NoteDraft:
    """A note to publish, checked by ``draft``: what ``do_create_notes`` takes in bulk."""

    author_id: int
    title: str
    body: str = ""
    topics: Sequence[str] = ()
    kind: str = "image"
    category: str | None = None
    sponsored: bool = False
    collaboration_id: int | None = None
    product_ids: Sequence[int] = ()
    boost_account_id: int | None = None


def _checked(d: NoteDraft) -> dict[str, object]:
    """The note's columns, or the refusal naming the first field out of bounds."""
    if d.kind not in NOTE_KINDS:
        raise invalid_kind(d.kind)
    category = d.category or "other"
    if category not in CODE:
        raise _bad("category", f"{category!r} is not a category", sorted(CODE))
    title, body = d.title.strip(), d.body.strip()
    if not 1 <= len(title) <= MAX_TITLE:
        raise _bad("title", "the title is empty or too long", f"1..{MAX_TITLE} characters")
    if len(body) > MAX_BODY:
        raise _bad("body", "the body is too long", f"at most {MAX_BODY} characters")
    topics = _clean_topics(d.topics)
    if len(d.product_ids) > MAX_PRODUCTS or len(set(d.product_ids)) != len(d.product_ids):
        raise _bad("product_ids", "a note links each product once", f"at most {MAX_PRODUCTS} distinct product ids")
    return {"author_id": d.author_id, "kind": d.kind, "title": title, "body": body, "topics": topics,
            "category": category, "status": "published", "sponsored": d.sponsored,
            "collaboration_id": d.collaboration_id, "product_ids": [int(p) for p in d.product_ids],
            "boost_account_id": d.boost_account_id}


def do_create_note(rt: Runtime, author_id: int, *, title: str, body: str, topics: Sequence[str] = (),
                   kind: str = "image", category: str | None = None, sponsored: bool = False,
                   product_ids: Sequence[int] = (), actor: Actor) -> NoteView:
    """Publish a note as ``author_id``; it enters the trial pool and search within a second. A marketplace
    deal's note, linked to its collaboration, is published by the market slice (``create_note_in``)."""
    draft = NoteDraft(author_id, title, body, topics, kind, category, sponsored, product_ids=product_ids)
    _checked(draft)
    with rt.db.transaction() as s:
        return create_note_in(rt, s, draft, actor=actor)


def create_note_in(rt: Runtime, s: Session, draft: NoteDraft, *, actor: Actor) -> NoteView:
    """Publish inside the caller's transaction: a sponsored note appears together with the deal that
    published it, or not at all."""
    values = _checked(draft)
    author = require(s, actor, draft.author_id, Capability.OPERATE)
    if author.kind not in AUTHOR_KINDS:
        raise _bad("author_id", f"a {author.kind} account does not publish notes", sorted(AUTHOR_KINDS))
    now = rt.now()
    note = Note(**values, created_at=now, updated_at=now)
    s.add(note)
    s.flush()
    record_audit(s, rt, actor, account_id=draft.author_id, action="note.create", target=f"note:{note.id}",
                 after={"title": note.title, "kind": note.kind, "category": note.category,
                        "sponsored": note.sponsored})
    return NoteView.of(note)


def do_create_notes(rt: Runtime, drafts: Sequence[NoteDraft], *, actor: Actor) -> list[int]:
    """Publish many notes in one transaction (a simulated world's back catalogue, an import), each checked
    and audited as if published alone; all or none. Returns their ids in order."""
    values = [_checked(d) for d in drafts]
    with rt.db.transaction() as s:
        for author_id in sorted({d.author_id for d in drafts}):
            author = require(s, actor, author_id, Capability.OPERATE)
            if author.kind not in AUTHOR_KINDS:
                raise _bad("author_id", f"a {author.kind} account does not publish notes", sorted(AUTHOR_KINDS))
        now = rt.now()
        ids = [int(i) for i in s.scalars(insert(Note).returning(Note.id, sort_by_parameter_order=True),
                                         [v | {"created_at": now, "updated_at": now, "version": 1} for v in values])]
        record_audits(s, rt, actor, [
            (d.author_id, "note.create", f"note:{i}",
             {"title": v["title"], "kind": v["kind"], "category": v["category"], "sponsored": v["sponsored"]})
            for i, v, d in zip(ids, values, drafts, strict=True)])
    return ids


def get_note(rt: Runtime, note_id: int, *, actor: Actor) -> NoteView:
    """Published notes are public; any other status is visible to the author's side and the operator."""
    with rt.db.read() as s:
        note = s.get(Note, note_id)
        if note is None:
            raise NotFound("note", note_id)
        if note.status != "published":
            try:
                require(s, actor, note.author_id, Capability.READ)
            except NotFound:
                raise NotFound("note", note_id) from None
        return NoteView.of(note)


def notes_by_id(rt: Runtime, note_ids: Sequence[int]) -> list[NoteView]:
    """The notes that exist among ``note_ids``, whatever their status: for slices that check notes they use."""
    with rt.db.read() as s:
        return [NoteView.of(n) for n in s.scalars(select(Note).where(Note.id.in_(list(note_ids))))]


def authored_notes(rt: Runtime, author_ids: Sequence[int]) -> np.ndarray:
    """Ids of every note the authors wrote, whatever its status: audiences of a creator's readers."""
    with rt.db.read() as s:
        return np.array(s.scalars(select(Note.id).where(Note.author_id.in_(list(author_ids)))).all(), dtype=np.int64)


def is_author_side(rt: Runtime, note: NoteView, *, actor: Actor) -> bool:
    """Whether the actor reads for the note's author: the author, the chain above it, its agencies and
    the operator. They see how the note is distributed; the public sees only its counters."""
    with rt.db.read() as s:
        try:
            require(s, actor, note.author_id, Capability.READ)
        except (NotFound, Forbidden):
            return False
        return True


def do_set_note_status(rt: Runtime, note_id: int, status: str, *, reason: str = "", actor: Actor) -> NoteView:
    """Moderate or delete a note. The author's side may delete its note; restricting, sending to review and
    republishing are the operator's. A deleted note stays deleted: its counters and events remain as history.
    Engines apply the change within a sync interval: a restricted note leaves search and the feed."""
    if status not in NOTE_STATUSES:
        raise _bad("status", f"{status!r} is not a note status", list(NOTE_STATUSES))
    if len(reason) > 500:
        raise _bad("reason", "the reason is too long", "at most 500 characters")
    with rt.db.transaction() as s:
        note = s.get(Note, note_id)
        if note is None:
            raise NotFound("note", note_id)
        try:
            require(s, actor, note.author_id, Capability.READ if actor.is_platform else Capability.OPERATE)
        except NotFound:
            if note.status != "published":
                raise NotFound("note", note_id) from None
            raise Forbidden("forbidden", f"{actor.label} may not change note {note_id}", field="actor",
                            allowed=["the author's side", "operator"]) from None
        if status != "deleted":
            require_platform(actor, f"set a note's status to {status}")
        if note.status == "deleted":
            raise Conflict("note_deleted", f"note {note_id} is deleted", field="status", allowed=[])
        if note.status == status:
            return NoteView.of(note)
        before = note.status
        note.status, note.updated_at = status, rt.now()
        s.flush()
        record_audit(s, rt, actor, account_id=note.author_id, action="note.status", target=f"note:{note_id}",
                     before={"status": before}, after={"status": status, "reason": reason})
        return NoteView.of(note)


@dataclass(frozen=True)
class Changes:
    notes: list[NoteView]  # the versions the caller has not applied, oldest change first
    mark: datetime | None  # the newest change read, applied or not
    more: bool             # a full page: read on from ``mark``


def notes_changed_since(rt: Runtime, since: datetime, applied: Mapping[int, int], limit: int = 5_000) -> Changes:
    """Notes created or changed at or after ``since`` that are newer than the version in ``applied``: what
    engines tail. Ids and versions are read first and whole notes only where new, so re-reading the
    lookback window after a burst of writes costs a few columns, not every note again."""
    with rt.db.read() as s:
        heads = s.execute(select(Note.id, Note.version, Note.updated_at).where(Note.updated_at >= since)
                          .order_by(Note.updated_at, Note.id).limit(limit)).all()
        new = [i for i, version, _ in heads if applied.get(i, 0) < version]
        rows = {n.id: NoteView.of(n) for n in s.scalars(select(Note).where(Note.id.in_(new)))} if new else {}
    return Changes([rows[i] for i in new if i in rows], heads[-1][2] if heads else None, len(heads) == limit)


LOOKBACK = timedelta(seconds=5)  # commits land out of timestamp order across processes; re-read a margin


@dataclass(frozen=True)
class RecentNotes:
    """Notes published since a time, as columns: what creator analytics group by author."""

    ids: np.ndarray        # int64
    authors: np.ndarray    # int64
    sponsored: np.ndarray  # bool
    category: np.ndarray   # int16 code (taxonomy.CODE)
    created_at: np.ndarray  # datetime64[s] (UTC)


def recent_notes(rt: Runtime, since: datetime) -> RecentNotes:
    with rt.db.read() as s:
        rows = s.execute(select(Note.id, Note.author_id, Note.sponsored, Note.category, Note.created_at).where(
            Note.created_at >= since, Note.status != "deleted").order_by(Note.id)).all()
    return RecentNotes(np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64),
                       np.array([bool(r[2]) for r in rows], dtype=bool),
                       np.array([CODE.get(r[3], CODE["other"]) for r in rows], dtype=np.int16),
                       np.array([r[4].replace(tzinfo=None) for r in rows], dtype="datetime64[s]"))
