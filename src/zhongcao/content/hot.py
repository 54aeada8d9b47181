"""Hot queries (热搜): what people searched most lately, counted from search events in the event store.

The process holding the event store computes the list with Ibis and publishes it to State, where every
API process reads it; a list minutes old is as good as a live one. A query must come from several
distinct consumers to be listed, so one person's typing is never shown to everyone, and a bot repeating
a query counts once per consumer towards that floor.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import ibis
from sqlalchemy import delete, insert, select

from zhongcao.content.models import HotQuery
from zhongcao.core import Runtime
from zhongcao.events import EventKind, EventStore


@dataclass(frozen=True)
class HotQuerySpec:
    window: timedelta = timedelta(hours=24)
    size: int = 50
    min_consumers: int = 3  # distinct consumers a query needs before it is shown


@dataclass(frozen=True)
class HotQueryView:
    rank: int
    query: str
    searches: int
    consumers: int


@dataclass(frozen=True)
class HotQueries:
    computed_at: datetime | None
    items: list[HotQueryView]


def compute(store: EventStore, now: datetime, spec: HotQuerySpec) -> list[HotQueryView]:
    """First-page searches in the window, by searches, then distinct consumers, then the query itself."""
    e = store.events()
    since = (now - spec.window).replace(tzinfo=None)
    searches = e.filter((e.kind == EventKind.SEARCH.value) & (e.ts >= since) & (e.ts <= now.replace(tzinfo=None))
                        & (e.position == 1) & e.query.notnull() & (e.query != ""))
    top = (searches.group_by("query")
           .aggregate(searches=searches.count(), consumers=searches.consumer_id.nunique())
           .filter(ibis._.consumers >= spec.min_consumers)
           .order_by([ibis.desc("searches"), ibis.desc("consumers"), "query"])
           .limit(spec.size))
    rows = store.run(top).to_pylist()
    return [HotQueryView(k + 1, r["query"], int(r["searches"]), int(r["consumers"])) for k, r in enumerate(rows)]


def publish(rt: Runtime, items: list[HotQueryView]) -> None:
    """Replace the published list in one transaction: readers see the old list or the new one."""
    now = rt.now()
    with rt.db.transaction() as s:
        s.execute(delete(HotQuery))
        if items:
            s.execute(insert(HotQuery), [{"rank": h.rank, "query": h.query, "searches": h.searches,
                                          "consumers": h.consumers, "computed_at": now} for h in items])


def refresh(rt: Runtime, store: EventStore, spec: HotQuerySpec | None = None) -> list[HotQueryView]:
    items = compute(store, rt.now(), spec or HotQuerySpec())
    publish(rt, items)
    return items


def read(rt: Runtime, n: int) -> HotQueries:
    with rt.db.read() as s:
        rows = s.execute(select(HotQuery).order_by(HotQuery.rank).limit(n)).scalars().all()
        return HotQueries(rows[0].computed_at if rows else None,
                          [HotQueryView(r.rank, r.query, r.searches, r.consumers) for r in rows])
