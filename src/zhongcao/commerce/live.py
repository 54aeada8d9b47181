"""Live selling: a session is scheduled (consumers reserve during the warm-up), goes live with product
links pinned in the broadcast, ends, and stays watchable as a replay.

Each entry into the room is a row with its source (followers, feed, search, an ad click) and, once the
viewer leaves or the session ends, its watch time. The room's numbers are read from State: entries,
entries of at least 5 seconds, average watch minutes, new followers, comments, orders and GMV. GMV is the
total of the room's paid orders (refunds are reported beside it); ROI divides it by what ads spent
bringing viewers in, which the ads slice prices from the click ids recorded here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from zhongcao.accounts import Actor, Capability, record_audit, require, require_owner, require_platform
from zhongcao.commerce.dms import check_text
from zhongcao.commerce.models import (
    LiveActivityRow,
    LiveProductRow,
    LiveReservationRow,
    LiveSessionRow,
    LiveViewerRow,
    OrderRow,
    ProductRow,
)
from zhongcao.commerce.orders import account_kind, seller_columns
from zhongcao.commerce.record import emit, emit_many
from zhongcao.commerce.sources import Source
from zhongcao.core import Conflict, Invalid, NotFound, Runtime, in_lists
from zhongcao.events import EventIds, EventKind, Surface

HOST_KINDS = ("brand", "store", "distributor", "creator", "consumer")  # a KOS is a person's account
MAX_PRODUCTS = 100
MAX_COMMENT = 500
ENGAGED_SECONDS = 5  # an entry that lasts this long is an "effective" one (FIELD_FACTS §2)
FROM = {"start": ("scheduled",), "end": ("live",)}


@dataclass(frozen=True)
class LiveView:
    id: int
    host_account_id: int
    title: str
    status: str
    product_ids: list[int]
    pinned_product_id: int | None
    scheduled_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None


@dataclass(frozen=True)
class EntryView:
    id: int
    live_id: int
    consumer_id: int
    replay: bool
    source: str
    joined_at: datetime
    left_at: datetime | None
    watch_seconds: int | None


@dataclass(frozen=True)
class LiveRoom:
    """The room's numbers; ``ad_clicks`` are the click ids that brought viewers in, for pricing."""

    live: LiveView
    reservations: int
    viewers: int            # entries, live and replay
    unique_viewers: int
    replay_viewers: int
    engaged_entries: int    # entries that lasted at least 5 s
    avg_watch_minutes: float
    entries_by_source: dict[str, int]
    new_followers: int
    comments: int
    orders: int
    paid_orders: int
    gmv_fen: int            # paid orders' totals, refunded ones included
    refunded_fen: int
    ad_clicks: list[str]


def _view(s: Session, row: LiveSessionRow) -> LiveView:
    products = s.scalars(select(LiveProductRow.product_id).where(LiveProductRow.live_id == row.id)
                         .order_by(LiveProductRow.product_id)).all()
    return LiveView(row.id, row.host_account_id, row.title, row.status, list(products), row.pinned_product_id,
                    row.scheduled_at, row.started_at, row.ended_at)


def _bad(field: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_live", detail, field=field, allowed=allowed)


def do_create_live(rt: Runtime, host_account_id: int, *, title: str, product_ids: Sequence[int],
                   scheduled_at: datetime | None = None, actor: Actor) -> LiveView:
    title = title.strip()
    if not 1 <= len(title) <= 100:
        raise _bad("title", "a live title is 1 to 100 characters", "1..100 characters")
    if len(product_ids) > MAX_PRODUCTS or len(set(product_ids)) != len(product_ids):
        raise _bad("product_ids", "a session links each product once, at most 100", f"0..{MAX_PRODUCTS} distinct ids")
    if scheduled_at is not None and scheduled_at.tzinfo is None:
        raise _bad("scheduled_at", "a schedule carries its time zone", "an ISO time with offset")
    with rt.db.transaction() as s:
        host = require(s, actor, host_account_id, Capability.OPERATE)
        if host.kind not in HOST_KINDS:
            raise _bad("host_account_id", f"a {host.kind} account does not host live sessions", list(HOST_KINDS))
        found = set(s.scalars(select(ProductRow.id).where(ProductRow.id.in_(list(product_ids)))))
        for product in product_ids:
            if product not in found:
                raise NotFound("product", product)
        row = LiveSessionRow(host_account_id=host_account_id, title=title, status="scheduled",
                             scheduled_at=scheduled_at, created_at=rt.now())
        s.add(row)
        s.flush()
        s.add_all([LiveProductRow(live_id=row.id, product_id=p) for p in product_ids])
        s.flush()
        record_audit(s, rt, actor, account_id=host_account_id, action="live.create", target=f"live:{row.id}",
                     after={"title": title, "products": list(product_ids)})
        return _view(s, row)


def _session(s: Session, live_id: int, *, lock: bool = False) -> LiveSessionRow:
    row = s.get(LiveSessionRow, live_id, with_for_update=lock)
    if row is None:
        raise NotFound("live_session", live_id)
    return row


def _close_entries(s: Session, live_id: int, now: datetime, consumer_id: int | None = None) -> int:
    """Close open entries, setting their watch time; returns how many."""
    where = [LiveViewerRow.session_id == live_id, LiveViewerRow.left_at.is_(None)]
    if consumer_id is not None:
        where.append(LiveViewerRow.consumer_id == consumer_id)
    rows = s.scalars(select(LiveViewerRow).where(*where)).all()
    for row in rows:
        row.left_at = now
        row.watch_seconds = max(0, int((now - row.joined_at).total_seconds()))
    return len(rows)


def do_transition(rt: Runtime, live_id: int, action: str, *, actor: Actor) -> LiveView:
    """Start or end a session; ending closes every open entry (their watch time stops there)."""
    with rt.db.transaction() as s:
        row = _session(s, live_id, lock=True)
        require_owner(s, actor, row.host_account_id, Capability.OPERATE, "live_session", live_id)
        if row.status not in FROM[action]:
            raise Conflict("invalid_live_transition", f"a {row.status} session cannot {action}", field="status",
                           allowed=list(FROM[action]))
        now = rt.now()
        if action == "start":
            row.status, row.started_at = "live", now
        else:
            row.status, row.ended_at = "ended", now
            _close_entries(s, live_id, now)
        record_audit(s, rt, actor, account_id=row.host_account_id, action=f"live.{action}", target=f"live:{live_id}")
        return _view(s, row)


def do_pin(rt: Runtime, live_id: int, product_id: int | None, *, actor: Actor) -> LiveView:
    """Pin one of the session's product links in the broadcast (None unpins)."""
    with rt.db.transaction() as s:
        row = _session(s, live_id, lock=True)
        require_owner(s, actor, row.host_account_id, Capability.OPERATE, "live_session", live_id)
        linked = _view(s, row).product_ids
        if product_id is not None and product_id not in linked:
            raise _bad("product_id", f"product {product_id} is not linked in this session", linked)
        row.pinned_product_id = product_id
        return _view(s, row)


def get_live(rt: Runtime, live_id: int) -> LiveView:
    """A session's public face: title, status, products, what is pinned."""
    with rt.db.read() as s:
        return _view(s, _session(s, live_id))


def do_reserve(rt: Runtime, live_id: int, consumer_id: int, *, actor: Actor) -> int:
    """A consumer reserves a scheduled session (预约); a repeat is harmless. Returns the reservations."""
    require_platform(actor, "reserve a live session for a consumer")
    with rt.db.transaction() as s:
        row = _session(s, live_id)
        if row.status != "scheduled":
            raise Conflict("invalid_live_transition", "reservations close when the session starts", field="status",
                           allowed=["scheduled"])
        if s.get(LiveReservationRow, (live_id, consumer_id)) is None:
            s.add(LiveReservationRow(live_id=live_id, consumer_id=consumer_id, created_at=rt.now()))
            s.flush()
        return int(s.scalar(select(func.count()).where(LiveReservationRow.live_id == live_id)) or 0)


def do_join(rt: Runtime, ids: EventIds, live_id: int, consumer_id: int, source: Source, *,
            actor: Actor) -> EntryView:
    """A viewer enters the room (a replay once it has ended). A viewer already in the room stays in the
    entry they have: a reconnect is not a new entry."""
    return do_join_many(rt, ids, live_id, [(consumer_id, source)], actor=actor)[0]


def do_join_many(rt: Runtime, ids: EventIds, live_id: int, viewers: Sequence[tuple[int, Source]], *,
                 actor: Actor) -> list[EntryView]:
    """Viewers entering the room together, each as ``do_join`` would bring them in, in one transaction
    with one event batch: an hour of a busy room is thousands of entries."""
    require_platform(actor, "bring a consumer into a live room")
    with rt.db.transaction() as s:
        row = _session(s, live_id)
        if row.status == "scheduled":
            raise Conflict("live_not_started", f"live session {live_id} has not started", field="live_session_id",
                           allowed="a live session that is live or has ended (replay)")
        consumers = sorted({c for c, _ in viewers})
        inside = {e.consumer_id: e for chunk in in_lists(consumers) for e in s.scalars(
            select(LiveViewerRow).where(LiveViewerRow.session_id == live_id, LiveViewerRow.consumer_id.in_(chunk),
                                        LiveViewerRow.left_at.is_(None)))}
        entries, events = [], []
        for consumer_id, source in viewers:
            if consumer_id not in inside:
                inside[consumer_id] = LiveViewerRow(session_id=live_id, consumer_id=consumer_id,
                                                    replay=row.status == "ended", joined_at=rt.now(),
                                                    **source.columns())
                s.add(inside[consumer_id])
                events.append({"consumer_id": consumer_id, **source.event(), "live_id": live_id,
                               "surface": Surface.LIVE.value})
            entries.append(inside[consumer_id])
        s.flush()
        seller = seller_columns(account_kind(s, row.host_account_id), row.host_account_id)
        emit_many(s, rt, ids, EventKind.LIVE_VIEW, [e | seller for e in events])
        return [_entry(e) for e in entries]


def _entry(row: LiveViewerRow) -> EntryView:
    return EntryView(row.id, row.session_id, row.consumer_id, row.replay, row.source_kind, row.joined_at, row.left_at,
                     row.watch_seconds)


def do_leave(rt: Runtime, live_id: int, consumer_id: int, *, actor: Actor) -> int:
    """The viewer left; returns the entries closed (0 if they were not in the room)."""
    require_platform(actor, "take a consumer out of a live room")
    with rt.db.transaction() as s:
        _session(s, live_id)
        return _close_entries(s, live_id, rt.now(), consumer_id)


def do_interact(rt: Runtime, ids: EventIds, live_id: int, consumer_id: int, kind: str, text: str = "", *,
                actor: Actor) -> int:
    """A viewer comments or follows the host from the room. Comments obey the contact rule like DMs; a
    follow counts once per viewer and session, and reaches the host's follower count through its event.
    Returns the activity's id."""
    require_platform(actor, "act for a consumer in a live room")
    if kind == "comment":
        text, _ = check_text(rt, text, MAX_COMMENT)
    with rt.db.transaction() as s:
        row = _session(s, live_id)
        if row.status != "live":
            raise Conflict("invalid_live_transition", "viewers comment and follow while the session is live",
                           field="status", allowed=["live"])
        if kind == "follow":
            seen = s.scalar(select(LiveActivityRow.id).where(
                LiveActivityRow.live_id == live_id, LiveActivityRow.consumer_id == consumer_id,
                LiveActivityRow.kind == "follow"))
            if seen is not None:
                return int(seen)
        activity = LiveActivityRow(live_id=live_id, consumer_id=consumer_id, kind=kind, text=text, at=rt.now())
        s.add(activity)
        s.flush()
        emit(s, rt, ids, EventKind.FOLLOW if kind == "follow" else EventKind.COMMENT, consumer_id=consumer_id,
             live_id=live_id, surface=Surface.LIVE.value, source="live", creator_id=row.host_account_id)
        return activity.id


def room(rt: Runtime, live_id: int, *, actor: Actor) -> LiveRoom:
    """The room's numbers, for the host's side and the platform."""
    with rt.db.read() as s:
        row = _session(s, live_id)
        require_owner(s, actor, row.host_account_id, Capability.READ, "live_session", live_id)
        now = rt.now()
        entries = s.execute(select(LiveViewerRow.consumer_id, LiveViewerRow.replay, LiveViewerRow.source_kind,
                                   LiveViewerRow.source_ref, LiveViewerRow.joined_at, LiveViewerRow.watch_seconds)
                            .where(LiveViewerRow.session_id == live_id)).all()
        watched = [w if w is not None else max(0, int((now - joined).total_seconds()))
                   for *_, joined, w in entries]
        by_source: dict[str, int] = {}
        for e in entries:
            by_source[e.source_kind] = by_source.get(e.source_kind, 0) + 1
        activity = dict(s.execute(select(LiveActivityRow.kind, func.count()).where(LiveActivityRow.live_id == live_id)
                                  .group_by(LiveActivityRow.kind)).all())
        orders = s.execute(select(OrderRow.status, OrderRow.paid_at, OrderRow.total_fen)
                           .where(OrderRow.live_id == live_id, OrderRow.source_kind == "live")).all()
        paid = [o for o in orders if o.paid_at is not None]
        return LiveRoom(
            _view(s, row), int(s.scalar(select(func.count()).where(LiveReservationRow.live_id == live_id)) or 0),
            len(entries), len({e.consumer_id for e in entries}), sum(1 for e in entries if e.replay),
            sum(1 for w in watched if w >= ENGAGED_SECONDS),
            round(sum(watched) / len(watched) / 60, 3) if watched else 0.0, by_source,
            int(activity.get("follow", 0)), int(activity.get("comment", 0)), len(orders), len(paid),
            sum(o.total_fen for o in paid), sum(o.total_fen for o in paid if o.status == "refunded"),
            sorted({e.source_ref for e in entries if e.source_kind == "ad"}))

