"""Audiences built from behaviour: keyword behaviour and creator fans (FIELD_FACTS §1 unit targeting).

- Keyword behaviour: people who, within the last 3, 7, 15 or 30 days, *searched* a query containing one
  of the keywords, or *read* or *engaged with* (liked, collected, commented, shared, followed from) a
  note about one of them, a note holding every word of the keyword.
- Creator fans: people who, within 30 or 90 days, saw (an organic or an ad impression, as the rule's
  traffic says) or read one of the chosen creators' notes.

A unit with both rules admits those in both. The process holding the event store computes each
unit's members with Ibis and publishes them to State as one sorted array per unit; every serving
process loads them with its book. Audience packages stay with the measurement slice: a unit that names
one admits no one until it is filled.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import ibis
import numpy as np
from sqlalchemy import delete, insert, select

from zhongcao.ads.enums import Status, TargetingType
from zhongcao.ads.models import AudienceRow, UnitRow
from zhongcao.ads.spec import CreatorFans, KeywordBehaviour, Targeting
from zhongcao.content import authored_notes
from zhongcao.core import Runtime
from zhongcao.events import EventKind, EventStore

ENGAGED = (EventKind.LIKE, EventKind.COLLECT, EventKind.COMMENT, EventKind.SHARE, EventKind.FOLLOW)
SAW = {"organic": (EventKind.IMPRESSION,), "ad": (EventKind.AD_IMPRESSION,),
       "all": (EventKind.IMPRESSION, EventKind.AD_IMPRESSION)}
NotesAbout = Callable[[str], np.ndarray]  # keyword → ids of the notes about it


def ruled(t: Targeting) -> bool:
    """Whether a unit's targeting needs behaviour to be computed (keyword behaviour or creator fans)."""
    return t.type == TargetingType.ADVANCED and (t.keyword_behaviour is not None or t.creator_fans is not None)


def _fingerprint(t: Targeting) -> str:
    rules = {"kb": t.keyword_behaviour and [list(t.keyword_behaviour.keywords), list(t.keyword_behaviour.actions),
                                             t.keyword_behaviour.days],
             "fans": t.creator_fans and [list(t.creator_fans.creator_ids), t.creator_fans.days,
                                         t.creator_fans.traffic]}
    return hashlib.sha256(json.dumps(rules, sort_keys=True).encode()).hexdigest()


def _consumers(store: EventStore, expr: Any) -> np.ndarray:
    table = store.run(expr.select(expr.consumer_id).filter(expr.consumer_id.notnull()).distinct())
    return np.sort(np.asarray(table.column("consumer_id").to_numpy(), dtype=np.uint64))


def _keyword_members(store: EventStore, kb: KeywordBehaviour, now: datetime, notes_about: NotesAbout) -> np.ndarray:
    e = store.events()
    recent = e.filter(e.ts >= now - timedelta(days=kb.days))
    parts = []
    if "searched" in kb.actions:
        parts.append(recent.filter((recent.kind == EventKind.SEARCH.value)
                                   & ibis.or_(*(recent.query.contains(k) for k in kb.keywords))))
    kinds = ([EventKind.READ.value] if "read" in kb.actions else []) + (
        [k.value for k in ENGAGED] if "engaged" in kb.actions else [])
    notes = np.unique(np.concatenate([notes_about(k) for k in kb.keywords])) if kinds else np.empty(0)
    if len(notes):
        parts.append(recent.filter(recent.kind.isin(kinds) & recent.note_id.isin(notes.tolist())))
    found = [_consumers(store, p) for p in parts]
    return np.unique(np.concatenate(found)) if found else np.empty(0, np.uint64)


def _fan_members(rt: Runtime, store: EventStore, fans: CreatorFans, now: datetime) -> np.ndarray:
    notes = authored_notes(rt, list(fans.creator_ids))
    if not len(notes):
        return np.empty(0, np.uint64)
    e = store.events()
    kinds = [k.value for k in (*SAW[fans.traffic], EventKind.READ)]
    return _consumers(store, e.filter((e.ts >= now - timedelta(days=fans.days)) & e.kind.isin(kinds)
                                      & e.note_id.isin(notes.tolist())))


def members(rt: Runtime, store: EventStore, t: Targeting, notes_about: NotesAbout) -> np.ndarray:
    """The consumers ``t``'s behaviour rules admit now, sorted."""
    now = rt.now().replace(tzinfo=None)
    sets = []
    if t.keyword_behaviour is not None:
        sets.append(_keyword_members(store, t.keyword_behaviour, now, notes_about))
    if t.creator_fans is not None:
        sets.append(_fan_members(rt, store, t.creator_fans, now))
    out = sets[0]
    for other in sets[1:]:
        out = np.intersect1d(out, other)
    return out


def refresh(rt: Runtime, store: EventStore, notes_about: NotesAbout) -> int:
    """Recompute every active unit's audience and replace what State holds; returns the units computed."""
    with rt.db.read() as s:
        units = [(u.id, Targeting.parse(u.targeting)) for u in s.scalars(
            select(UnitRow).where(UnitRow.status == Status.ACTIVE.value))]
    rows = []
    for unit_id, t in units:
        if ruled(t):
            found = members(rt, store, t, notes_about)
            rows.append({"unit_id": unit_id, "rules": _fingerprint(t), "size": len(found),
                         "consumers": found.astype("<u8").tobytes(), "computed_at": rt.now()})
    with rt.db.transaction() as s:
        s.execute(delete(AudienceRow))
        if rows:
            s.execute(insert(AudienceRow), rows)
    return len(rows)


def load(rt: Runtime, units: list[tuple[int, Targeting]]) -> list[np.ndarray | None]:
    """Per unit, the members its behaviour rules admit (empty until first computed, or when its rules
    changed since), or None for a unit without such rules."""
    with rt.db.read() as s:
        stored = {r.unit_id: r for r in s.scalars(select(AudienceRow).where(
            AudienceRow.unit_id.in_([u for u, t in units if ruled(t)])))}
    out: list[np.ndarray | None] = []
    for unit_id, t in units:
        row = stored.get(unit_id)
        if not ruled(t):
            out.append(None)
        elif row is None or row.rules != _fingerprint(t):
            out.append(np.empty(0, np.uint64))
        else:
            out.append(np.frombuffer(row.consumers, dtype="<u8").astype(np.uint64))
    return out
