"""The append-only event store: DuckDB embedded, written in Arrow batches, read through Ibis.

- Idempotent by ``event_id``: a batch is checked against stored ids only inside the id range it spans
  (ids grow with time), so a retried or overlapping batch stores each event once, at plain-insert speed.
  A batch wholly above the highest stored id, the common case, skips the check. A PRIMARY KEY would do
  the same at a third of the speed and with an index that outgrows memory.
- Atomic: one batch is one INSERT statement, one transaction; a crash leaves all of it or none.
- Reads are Ibis expressions over ``events()``, so analytics move to a distributed engine unchanged.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import ibis
import numpy as np
import pyarrow as pa

from zhongcao.core import Invalid
from zhongcao.events.batch import make_batch
from zhongcao.events.schema import ARROW_SCHEMA, COLUMNS, NAMES

_COLUMN_LIST = ", ".join(NAMES)


def local_day(ts: ibis.Value, utc_offset_hours: int) -> ibis.Value:
    """The platform's day of an event's UTC time (``Settings.budget_day_utc_offset_hours``): every daily
    figure, ad reports and creator analytics alike, turns at the same midnight as the budgets."""
    return (ts + ibis.interval(hours=utc_offset_hours)).date()


@dataclass(frozen=True)
class WriteResult:
    inserted: int
    duplicates: int  # already stored, or repeated inside the batch


class EventStore:
    """One per process and file (DuckDB takes a single writer process); threads share it safely."""

    def __init__(self, path: str | Path = ":memory:", *, threads: int | None = None,
                 memory_limit: str | None = None) -> None:
        """``threads`` caps DuckDB's worker pool: bulk loads want every core, a server's trickle wants one.
        ``memory_limit`` (e.g. "1GB") caps DuckDB's buffer pool, which otherwise keeps what was written
        cached up to most of the machine's memory."""
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        config: dict[str, Any] = {"threads": threads} if threads else {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        self._con = duckdb.connect(self.path, config=config)
        self._lock = threading.RLock()
        self._migrate()
        self._ibis = ibis.duckdb.from_connection(self._con.cursor())  # reads on their own handle

    def _sql(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """Run a statement and consume its whole result: DuckDB keeps a connection busy until then."""
        with self._lock:
            return self._con.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        """Create the table, and add any column a newer schema appended; nothing is ever rewritten."""
        self._sql("CREATE TABLE IF NOT EXISTS events (" + ", ".join(
            f"{name} {sql}{' NOT NULL' if req else ''}" for name, _, sql, req in COLUMNS) + ")")
        have = {r[0] for r in self._sql(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'events'")}
        for name, _, sql, _req in COLUMNS:
            if name not in have:
                self._sql(f"ALTER TABLE events ADD COLUMN {name} {sql}")

    def write(self, batch: pa.Table | dict[str, Any]) -> WriteResult:
        """Store a batch (an Arrow table in the event schema, or columns for ``make_batch``)."""
        table = make_batch(batch) if isinstance(batch, dict) else batch
        if not table.schema.equals(ARROW_SCHEMA):
            raise Invalid("invalid_event", "the batch does not have the event schema; build it with make_batch",
                          field="schema", allowed=str(ARROW_SCHEMA))
        n = table.num_rows
        if n == 0:
            return WriteResult(0, 0)
        ids = table.column("event_id").to_numpy()
        ascending = bool(np.all(ids[1:] > ids[:-1]))
        source = "_batch" if ascending else (
            "(SELECT * FROM _batch QUALIFY row_number() OVER (PARTITION BY event_id ORDER BY ts) = 1)")
        lo, hi = int(ids.min()), int(ids.max())
        with self._lock:
            fresh = not self._sql("SELECT 1 FROM events WHERE event_id >= $lo LIMIT 1", {"lo": lo})
            sql = f"INSERT INTO events ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM {source} b" + ("" if fresh else (
                " WHERE NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id BETWEEN $lo AND $hi"
                " AND e.event_id = b.event_id)"))
            self._con.register("_batch", table)
            try:
                ((inserted,),) = self._sql(sql, None if fresh else {"lo": lo, "hi": hi})
            finally:
                self._con.unregister("_batch")
        return WriteResult(int(inserted), n - int(inserted))

    def append(self, name: str, table: pa.Table) -> int:
        """Append rows to a table of the store beside the events (the simulator's ground truth), created
        from the batch's schema the first time; returns the rows written."""
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name) or name == "events":
            raise Invalid("invalid_table", f"{name!r} is not a side table name", field="name",
                          allowed="lower-case letters, digits and _; not 'events'")
        if table.num_rows == 0:
            return 0
        with self._lock:
            self._con.register("_rows", table)
            try:
                self._con.execute(f"CREATE TABLE IF NOT EXISTS {name} AS SELECT * FROM _rows LIMIT 0")
                self._con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
            finally:
                self._con.unregister("_rows")
        return table.num_rows

    def table(self, name: str) -> ibis.Table:
        """A side table as an Ibis table; run expressions with ``run``."""
        with self._lock:  # Ibis reads the schema on the shared handle
            return self._ibis.table(name)

    def events(self) -> ibis.Table:
        """The events as an Ibis table; run expressions with ``run`` (it serializes access)."""
        return self.table("events")

    def run(self, expr: ibis.Expr) -> Any:
        """The expression's result in Arrow: a table, a column (chunked array) or a scalar."""
        with self._lock:
            return expr.to_pyarrow()

    def count(self) -> int:
        ((n,),) = self._sql("SELECT count(*) FROM events")
        return int(n)

    def export_parquet(self, path: str | Path, expr: ibis.Table | None = None) -> int:
        """Write events (all, or an Ibis selection) to one Parquet file, ordered by event id."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        query = str(ibis.to_sql(expr, dialect="duckdb")) if expr is not None else "SELECT * FROM events"
        target = str(path).replace("'", "''")
        self._sql(f"COPY (SELECT * FROM ({query}) ORDER BY event_id) TO '{target}' (FORMAT PARQUET)")
        ((n,),) = self._sql(f"SELECT count(*) FROM read_parquet('{target}')")
        return int(n)

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
