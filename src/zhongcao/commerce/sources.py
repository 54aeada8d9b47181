"""What brought a consumer to an order, a live room, a conversation or a lead.

A source is a kind and a reference, checked once when the consumer acts and resolved into the ids that
attribution joins on (note, live session, campaign, unit, creative). An ad click is checked by the ads
slice, which sits above this one: the caller hands in a resolver for click ids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from zhongcao.accounts import Actor, get_account
from zhongcao.commerce.models import SOURCE_KINDS, LiveSessionRow, PushRow
from zhongcao.content import notes_by_id
from zhongcao.core import Invalid, NotFound, Runtime
from zhongcao.events import Surface


@dataclass(frozen=True)
class AdClickRef:
    """What a verified ad click says: who clicked which creative promoting which note."""

    consumer_id: int
    note_id: int
    campaign_id: int
    unit_id: int
    creative_id: int


ClickResolver = Callable[[str], AdClickRef]


@dataclass(frozen=True)
class Source:
    kind: str
    ref: str
    note_id: int | None = None
    live_id: int | None = None
    campaign_id: int | None = None
    unit_id: int | None = None
    creative_id: int | None = None

    def columns(self) -> dict[str, Any]:
        """The row columns of the ``Source`` mixin."""
        return {"source_kind": self.kind, "source_ref": self.ref, "note_id": self.note_id, "live_id": self.live_id,
                "campaign_id": self.campaign_id, "unit_id": self.unit_id, "creative_id": self.creative_id}

    def event(self) -> dict[str, Any]:
        """The event columns every event caused through this source carries: the note (and ad) it
        attributes to, and the live room it happened in."""
        return {"source": self.kind, "note_id": self.note_id, "live_id": self.live_id,
                "campaign_id": self.campaign_id, "unit_id": self.unit_id, "creative_id": self.creative_id,
                "surface": SURFACES[self.kind].value, "query": self.ref if self.kind == "search" else None}

    def view(self) -> dict[str, object]:
        """How an answer (an order, a conversation, a lead, a webhook) shows the source."""
        return {"kind": self.kind, "id": self.ref, "note_id": self.note_id, "live_id": self.live_id,
                "campaign_id": self.campaign_id}

    @classmethod
    def of(cls, row: Any) -> Source:
        return cls(row.source_kind, row.source_ref, row.note_id, row.live_id, row.campaign_id, row.unit_id,
                   row.creative_id)


SURFACES = {"note": Surface.FEED, "ad": Surface.FEED, "live": Surface.LIVE, "search": Surface.SEARCH,
            "profile": Surface.PROFILE, "follow": Surface.FEED, "push": Surface.PUSH}
ALLOWED = {"kind": list(SOURCE_KINDS),
           "id": "a note, live session or push id; an account id (profile, follow); an ad click id; a query"}


def _bad(detail: str, field: str = "source") -> Invalid:
    return Invalid("invalid_source", detail, field=field, allowed=ALLOWED)


def _int(ref: str, what: str) -> int:
    try:
        value = int(ref)
    except ValueError:
        raise _bad(f"a {what} source's id is a whole number, not {ref!r}", "source.id") from None
    if not 1 <= value < 2**63:
        raise _bad(f"no {what} {value}", "source.id")
    return value


def resolve(rt: Runtime, kind: str, ref: object, consumer_id: int, clicks: ClickResolver | None) -> Source:
    """Check a source and resolve it; an unknown id is refused rather than recorded as a dangling one."""
    if kind not in SOURCE_KINDS:
        raise _bad(f"{kind!r} is not a source kind", "source.kind")
    text = str(ref).strip() if ref is not None else ""
    if not 1 <= len(text) <= 400:
        raise _bad("a source names what it is: an id, a click id or a query of 1 to 400 characters", "source.id")
    if kind == "note":
        note = _int(text, "note")
        if not [n for n in notes_by_id(rt, [note]) if n.status == "published"]:
            raise _bad(f"no published note {note}", "source.id")
        return Source(kind, str(note), note_id=note)
    if kind == "ad":
        if clicks is None:
            raise _bad("ad clicks cannot be checked here", "source.kind")
        click = clicks(text)
        if click.consumer_id != consumer_id:
            raise _bad("the ad click was another consumer's", "source.id")
        return Source(kind, text, note_id=click.note_id, campaign_id=click.campaign_id, unit_id=click.unit_id,
                      creative_id=click.creative_id)
    if kind == "search":
        return Source(kind, text)
    ident = _int(text, kind)
    if kind in ("profile", "follow"):
        try:
            get_account(rt, ident, actor=Actor.system())
        except NotFound:
            raise _bad(f"no account {ident}", "source.id") from None
        return Source(kind, str(ident))
    table = LiveSessionRow if kind == "live" else PushRow
    with rt.db.read() as s:
        if s.scalar(select(table.id).where(table.id == ident)) is None:
            raise _bad(f"no {kind} {ident}", "source.id")
    return Source(kind, str(ident), live_id=ident if kind == "live" else None)
