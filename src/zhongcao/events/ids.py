"""Event ids: 64-bit, time-ordered, unique by construction (not by chance).

Layout, high to low: 41 bits of milliseconds since 2024-01-01 UTC, 10 bits of node, 12 bits of
sequence: 4,096 ids per millisecond per node, borrowing from the next millisecond when a batch needs
more. Because ids grow with time, the store checks a batch for duplicates only against the id range
the batch spans, which keeps idempotent ingest as fast as a plain insert.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import select, update

from zhongcao.core import Clock, Runtime
from zhongcao.events.models import NodeLease

EPOCH = datetime(2024, 1, 1, tzinfo=UTC)
NODE_BITS, SEQ_BITS = 10, 12
MAX_NODE = (1 << NODE_BITS) - 1
PER_MS = 1 << SEQ_BITS


class EventIds:
    """A generator per process (``node``); the clock is injected, so a simulation replays its ids."""

    def __init__(self, clock: Clock, node: int = 0) -> None:
        if not 0 <= node <= MAX_NODE:
            raise ValueError(f"node must be 0..{MAX_NODE}, got {node}")
        self._clock = clock
        self.node = node
        self._node = np.uint64(node << SEQ_BITS)
        self._next = 0  # the next free (ms * PER_MS + seq) slot
        self._lock = threading.Lock()

    def take(self, n: int) -> np.ndarray:
        """``n`` fresh ids, ascending, as uint64."""
        now_ms = int((self._clock.now() - EPOCH).total_seconds() * 1000)
        with self._lock:
            start = max(self._next, now_ms * PER_MS)
            self._next = start + n
        slots = np.arange(start, start + n, dtype=np.uint64)
        ms, seq = slots // np.uint64(PER_MS), slots % np.uint64(PER_MS)
        return (ms << np.uint64(NODE_BITS + SEQ_BITS)) | self._node | seq


def id_time(event_id: int) -> datetime:
    """When an id was minted (to the millisecond): handy in support and debugging."""
    ms = event_id >> (NODE_BITS + SEQ_BITS)
    return datetime.fromtimestamp(EPOCH.timestamp() + ms / 1000, tz=UTC)


def id_floor(at: datetime) -> int:
    """The smallest id minted at or after ``at``: the bound of a fold that reads events up to a time."""
    ms = max(0, int((at - EPOCH).total_seconds() * 1000))
    return ms << (NODE_BITS + SEQ_BITS)


def id_node(event_ids: np.ndarray) -> np.ndarray:
    """The node each id was minted on: which process recorded the event."""
    return (np.asarray(event_ids, dtype=np.uint64) >> np.uint64(SEQ_BITS)) & np.uint64(MAX_NODE)


NODE_TTL = timedelta(minutes=2)  # a node whose holder stopped heartbeating is free again after this


def claim_node(rt: Runtime, holder: str) -> int:
    """Lease the lowest free node (1..MAX_NODE; 0 is for single-process tools) for this process."""
    with rt.db.transaction() as s:
        now = rt.now()
        leases = {n.node: n for n in s.scalars(rt.db.for_update(select(NodeLease).order_by(NodeLease.node)))}
        for node in range(1, MAX_NODE + 1):
            lease = leases.get(node)
            if lease is None:
                s.add(NodeLease(node=node, holder=holder[:100], heartbeat_at=now))
                return node
            if lease.heartbeat_at < now - NODE_TTL:
                lease.holder, lease.heartbeat_at = holder[:100], now
                return node
    raise RuntimeError(f"all {MAX_NODE} event-id nodes are leased")


def heartbeat_node(rt: Runtime, node: int, holder: str) -> None:
    with rt.db.transaction() as s:
        s.execute(update(NodeLease).where(NodeLease.node == node, NodeLease.holder == holder[:100])
                  .values(heartbeat_at=rt.now()))
