"""Creator analytics: what the marketplace shows about a creator, computed from notes and events and
refreshed incrementally.

Inputs: the creator's profile; daily follower snapshots; a sample of followers (profile and public
account columns) and of recent comments, which the platform records; and note traffic, folded from the
event store into one row per note and day from a watermark on, so a refresh reads only new events.
Output: one snapshot row per creator (FIELD_FACTS §4's stats, estimates, tier, audience, authenticity),
which discovery loads into arrays.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import ibis
import numpy as np
from sqlalchemy import delete, insert

from zhongcao.accounts import Actor, Capability, kind_of, record_audits, require, require_platform
from zhongcao.content import CODE, notes_by_id
from zhongcao.core import MAX_FEN, Invalid, NotFound, Runtime, insert_for
from zhongcao.events import EventKind, EventStore, id_floor, local_day
from zhongcao.market import fake_accounts
from zhongcao.market.audience import DIMENSIONS
from zhongcao.market.models import (
    GENDERS,
    AudienceSampleRow,
    CommentSampleRow,
    CreatorProfileRow,
    FollowerDayRow,
    NoteDayRow,
    WatermarkRow,
)

TIERS = (("nano", 1_000), ("micro", 10_000), ("macro", 100_000), ("mega", 1_000_000))  # fans (FIELD_FACTS §6)
KOC_MAX_FOLLOWERS = 50_000      # [U] a KOC is a small creator whose notes are mostly everyday experience
KOC_MAX_SPONSORED_SHARE = 0.3
WINDOW = timedelta(days=30)
FOLD_LAG = timedelta(seconds=60)  # events are folded once this old, so late outbox batches are not skipped
DUPLICATE_AT = 3                 # a comment text seen this often under one creator is a repeat
ENGAGEMENTS = ("likes", "collects", "comments", "shares")  # 互动: what "engagement" counts
COUNTED = {EventKind.IMPRESSION: "exposures", EventKind.AD_IMPRESSION: "exposures", EventKind.READ: "reads",
           EventKind.LIKE: "likes", EventKind.COLLECT: "collects", EventKind.COMMENT: "comments",
           EventKind.SHARE: "shares", EventKind.FOLLOW: "follows"}
ACCOUNT_COLUMNS = fake_accounts.COLUMNS
SAMPLE_COLUMNS = (*DIMENSIONS, *ACCOUNT_COLUMNS)


def cost_per(cost_fen: int, results: float, scale: int = 1) -> int | None:
    """Fen per result (per ``scale`` results: 1,000 for a CPM); None when there are none to price."""
    return round(cost_fen * scale / results) if results > 0 else None


def tier_of(followers: np.ndarray) -> np.ndarray:
    floors = np.array([f for _, f in TIERS])
    return np.clip(np.searchsorted(floors, followers, side="right") - 1, 0, len(TIERS) - 1).astype(np.int8)


@dataclass(frozen=True)
class CreatorProfile:
    creator_id: int
    category: str
    region: str
    gender: str = "unknown"
    quote_image_fen: int = 0
    quote_video_fen: int = 0
    following_count: int = 0
    has_avatar: bool = True
    is_private: bool = False
    bio_length: int = 0


def _bad(field: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_creator_profile", detail, field=field, allowed=allowed)


def _checked(p: CreatorProfile) -> dict[str, Any]:
    if p.category not in CODE:
        raise _bad("category", f"{p.category!r} is not a category", sorted(CODE))
    if not 1 <= len(p.region.strip()) <= 32:
        raise _bad("region", "a region is a city or province name of 1 to 32 characters", "1..32 characters")
    if p.gender not in GENDERS:
        raise _bad("gender", f"{p.gender!r} is not a gender", list(GENDERS))
    for field in ("quote_image_fen", "quote_video_fen", "following_count", "bio_length"):
        value = getattr(p, field)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_FEN:
            raise _bad(field, f"{field} is a non-negative integer", f"0..{MAX_FEN}")
    return {"creator_id": p.creator_id, "category": p.category, "region": p.region.strip(), "gender": p.gender,
            "quote_image_fen": p.quote_image_fen, "quote_video_fen": p.quote_video_fen,
            "following_count": p.following_count, "has_avatar": bool(p.has_avatar), "is_private": bool(p.is_private),
            "bio_length": p.bio_length}


def do_set_creator_profiles(rt: Runtime, profiles: Sequence[CreatorProfile], *, actor: Actor) -> int:
    """Create or replace creators' marketplace profiles (a creator sets its own; an import sets many), each
    audited as if set alone."""
    values = [_checked(p) for p in profiles]
    if not values:
        return 0
    with rt.db.transaction() as s:
        for creator in sorted({v["creator_id"] for v in values}):
            require(s, actor, creator, Capability.OPERATE)
            if kind_of(s, creator) != "creator":
                raise NotFound("creator", creator)
        now = rt.now()
        ins = insert_for(s)(CreatorProfileRow)
        s.execute(ins.on_conflict_do_update(index_elements=["creator_id"], set_={
            c: ins.excluded[c] for c in [*values[0], "updated_at"] if c != "creator_id"}),
            [v | {"updated_at": now} for v in values])
        record_audits(s, rt, actor, [(v["creator_id"], "creator.profile", f"creator:{v['creator_id']}",
                                      {k: v[k] for k in ("category", "region", "quote_image_fen", "quote_video_fen")})
                                     for v in values])
    return len(values)


def do_record_followers(rt: Runtime, day: date, creator_ids: Sequence[int] | np.ndarray,
                        followers: Sequence[int] | np.ndarray, *, actor: Actor) -> int:
    """The day's follower counts as shown (a daily job of the platform; the simulator's world)."""
    require_platform(actor, "record follower snapshots")
    rows = [{"creator_id": int(c), "day": day, "followers": int(f)} for c, f in zip(creator_ids, followers,
                                                                                   strict=True)]
    with rt.db.transaction() as s:
        if rows:
            ins = insert_for(s)(FollowerDayRow)
            s.execute(ins.on_conflict_do_update(index_elements=["creator_id", "day"],
                                                set_={"followers": ins.excluded.followers}), rows)
    return len(rows)


def do_record_audience(rt: Runtime, creator_ids: np.ndarray, columns: Mapping[str, np.ndarray], *,
                       actor: Actor) -> int:
    """Replace the follower samples of the creators named: one row per sampled follower."""
    require_platform(actor, "record audience samples")
    missing = [c for c in SAMPLE_COLUMNS if c not in columns]
    if missing:
        raise Invalid("invalid_request", f"an audience sample needs {missing}", field="columns",
                      allowed=list(SAMPLE_COLUMNS))
    rows = [dict(zip(("creator_id", *SAMPLE_COLUMNS), r, strict=True)) for r in zip(
        np.asarray(creator_ids).tolist(), *(np.asarray(columns[c]).tolist() for c in SAMPLE_COLUMNS), strict=True)]
    with rt.db.transaction() as s:
        s.execute(delete(AudienceSampleRow).where(AudienceSampleRow.creator_id.in_(
            sorted({int(c) for c in creator_ids}))))
        if rows:
            s.execute(insert(AudienceSampleRow), rows)
    return len(rows)


def do_record_comments(rt: Runtime, creator_ids: Sequence[int], note_ids: Sequence[int | None],
                       texts: Sequence[str], *, actor: Actor) -> int:
    """Replace the recent-comment samples of the creators named."""
    require_platform(actor, "record comment samples")
    rows = [{"creator_id": int(c), "note_id": n, "text": t[:500]} for c, n, t in zip(creator_ids, note_ids, texts,
                                                                                    strict=True)]
    with rt.db.transaction() as s:
        named = sorted({int(c) for c in creator_ids})
        s.execute(delete(CommentSampleRow).where(CommentSampleRow.creator_id.in_(named)))
        if rows:
            s.execute(insert(CommentSampleRow), rows)
    return len(rows)


def fold(rt: Runtime, store: EventStore, *, lag: timedelta = FOLD_LAG, until: datetime | None = None) -> int:
    """Fold note traffic from the event store into ``market_note_day``, from the watermark up to events
    ``lag`` old, or minted before ``until`` (a caller that knows how far the store is complete, such as
    the simulator, whose clock runs ahead of its store); returns the note-days touched. One folder at a
    time: the watermark is read before the store is."""
    with rt.db.read() as s:
        mark = s.get(WatermarkRow, "note_day")
        low = mark.event_id if mark else 0
    high = id_floor(until if until is not None else rt.now() - lag)
    if high <= low:
        return 0
    e = store.events()
    picked = e.filter(e.event_id >= low, e.event_id < high, e.note_id.notnull(),
                      e.kind.isin([int(k) for k in COUNTED]))
    organic = picked.campaign_id.isnull()
    aggregates = {
        "exposures": picked.kind.isin([int(EventKind.IMPRESSION), int(EventKind.AD_IMPRESSION)]).sum(),
        "organic_exposures": (picked.kind == int(EventKind.IMPRESSION)).sum(),
        "reads": (picked.kind == int(EventKind.READ)).sum(),
        "organic_reads": ((picked.kind == int(EventKind.READ)) & organic).sum(),
        "organic_engagements": (picked.kind.isin([int(EventKind.LIKE), int(EventKind.COLLECT), int(EventKind.COMMENT),
                                                  int(EventKind.SHARE)]) & organic).sum(),
        **{name: (picked.kind == int(kind)).sum() for kind, name in COUNTED.items()
           if name not in ("exposures", "reads")},
    }
    day = local_day(picked.ts, rt.settings.budget_day_utc_offset_hours)
    grouped = picked.group_by(note_id=picked.note_id, day=day).aggregate(**aggregates)
    table = store.run(grouped.order_by([ibis.asc("note_id"), ibis.asc("day")]))
    data = table.to_pydict()
    notes = sorted({int(n) for n in data["note_id"]})
    authors = {n.id: n.author_id for n in notes_by_id(rt, notes)}
    names = [c for c in data if c not in ("note_id", "day")]
    rows = [{"note_id": int(n), "day": d, "creator_id": int(authors.get(int(n), 0)),
             **{c: int(data[c][i]) for c in names}} for i, (n, d) in enumerate(zip(data["note_id"], data["day"],
                                                                                  strict=True))]
    with rt.db.transaction() as s:
        if rows:
            ins = insert_for(s)(NoteDayRow)
            table_ = NoteDayRow.__table__
            s.execute(ins.on_conflict_do_update(index_elements=["note_id", "day"],
                                                set_={c: table_.c[c] + ins.excluded[c] for c in names}), rows)
        ins = insert_for(s)(WatermarkRow)
        s.execute(ins.on_conflict_do_update(index_elements=["name"], set_={"event_id": ins.excluded.event_id}),
                  [{"name": "note_day", "event_id": high}])
    return len(rows)
