"""Events: the one event schema and the append-only store (DuckDB, Arrow batches, Ibis reads)."""

from zhongcao.events.batch import concat_columns, id_column, make_batch, make_row
from zhongcao.events.ids import EventIds, claim_node, heartbeat_node, id_floor, id_node, id_time
from zhongcao.events.outbox import Buffer, Fold, Tailed, enqueue, ingest, ingested_ids, pending, tail
from zhongcao.events.schema import ARROW_SCHEMA, COLUMNS, NAMES, EventKind, Surface
from zhongcao.events.store import EventStore, WriteResult, local_day

__all__ = [
    "ARROW_SCHEMA",
    "COLUMNS",
    "NAMES",
    "Buffer",
    "EventIds",
    "EventKind",
    "EventStore",
    "Fold",
    "Surface",
    "Tailed",
    "WriteResult",
    "claim_node",
    "concat_columns",
    "enqueue",
    "heartbeat_node",
    "id_column",
    "id_floor",
    "id_node",
    "id_time",
    "ingest",
    "ingested_ids",
    "local_day",
    "make_batch",
    "make_row",
    "pending",
    "tail",
]
