"""Commerce events go to the outbox in the transaction that changes State, so the event store and State
never disagree about an order, an entry or a lead."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from zhongcao.core import Runtime
from zhongcao.events import EventIds, EventKind, enqueue, make_batch, make_row


def emit(s: Session, rt: Runtime, ids: EventIds, kind: EventKind, **columns: Any) -> None:
    """One event now; ``columns`` name schema columns, and a None one stays null."""
    enqueue(s, rt, make_row({"event_id": int(ids.take(1)[0]), "ts": rt.now().replace(tzinfo=None), "kind": kind.value,
                             **columns}))


def emit_many(s: Session, rt: Runtime, ids: EventIds, kind: EventKind, rows: list[dict[str, Any]]) -> None:
    """Events of one kind now, as one outbox batch; each row names its columns as ``emit``'s do."""
    if not rows:
        return
    names = sorted({k for r in rows for k in r})
    enqueue(s, rt, make_batch({"event_id": ids.take(len(rows)), "ts": [rt.now().replace(tzinfo=None)] * len(rows),
                               "kind": kind.value, **{k: [r.get(k) for r in rows] for k in names}}))
