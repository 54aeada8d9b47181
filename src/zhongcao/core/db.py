"""State storage: SQLAlchemy on SQLite (embedded) or PostgreSQL (production), same code for both.

``Database.transaction()`` is re-entrant: an action that calls another action joins its transaction,
so a flow that crosses slices (revoke an authorization, then reclaim its budget) is one atomic unit.
"""

from __future__ import annotations

import contextvars
import logging
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, DateTime, Integer, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: SQLite keeps no zone, and mixing the two breaks comparisons."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


log = logging.getLogger(__name__)
_active: contextvars.ContextVar[dict[int, Session] | None] = contextvars.ContextVar("zhongcao_tx", default=None)


class Database:
    def __init__(self, url: str, *, schema: str | None = None, echo: bool = False) -> None:
        self.url = make_url(url)
        self.schema = schema
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        self.engine = self._make_engine(echo)
        self._reader = self.engine.execution_options(zhongcao_read=True)
        # SQLite has one writer. Threads of this process queue for it here, in order, rather than in
        # SQLite's busy handler, which sleeps in growing steps and stalls a busy server; other processes
        # still wait on busy_timeout.
        self._writer = threading.Lock() if self.is_sqlite else None
        # SQLite's read transaction is already one snapshot; PostgreSQL's default gives each statement its own.
        self._snapshot = self._reader if self.is_sqlite else self._reader.execution_options(
            isolation_level="REPEATABLE READ")
        self._checkpointer = Checkpointer(str(self.url.database)) if self.is_sqlite else None

    def _make_engine(self, echo: bool) -> Engine:
        if self.is_sqlite:
            if self.url.database and self.url.database != ":memory:":
                Path(self.url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(
                self.url, echo=echo, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=8,
                max_overflow=16,
            )

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, below
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute(f"PRAGMA wal_autocheckpoint={WAL_BACKSTOP_PAGES}")
                cur.close()

            @event.listens_for(engine, "begin")
            def _begin(conn: Any) -> None:
                # Writers take the write lock up front, so two writers queue on busy_timeout instead of
                # failing on a read-to-write upgrade; readers stay deferred and never block.
                read = conn.get_execution_options().get("zhongcao_read", False)
                conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")

            return engine
        connect_args: dict[str, Any] = {}
        if self.schema:
            connect_args["options"] = f"-csearch_path={self.schema}"
        # As many pooled connections as the API has worker threads (40), so bursts never pay for connects.
        return create_engine(self.url, echo=echo, pool_size=40, max_overflow=20, connect_args=connect_args)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One atomic unit of work; nested calls join the outermost one."""
        active = _active.get() or {}
        joined = active.get(id(self))
        if joined is not None:
            yield joined
            return
        if self._writer is not None:
            self._writer.acquire()
        session = Session(self.engine, expire_on_commit=False, autoflush=True)
        token = _active.set({**active, id(self): session})
        try:
            yield session
            session.commit()
            if self._checkpointer is not None:
                self._checkpointer.wake()
        except BaseException:
            session.rollback()
            raise
        finally:
            _active.reset(token)
            session.close()
            if self._writer is not None:
                self._writer.release()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only snapshot; inside a write transaction it reads that transaction's own state."""
        joined = (_active.get() or {}).get(id(self))
        if joined is not None:
            yield joined
            return
        session = Session(self._reader, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()  # ends the snapshot; loaded rows stay readable, detached

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read whose statements all see one moment: for loading two tables that must agree."""
        session = Session(self._snapshot, expire_on_commit=False)
        try:
            yield session
        finally:
            session.close()

    def for_update(self, stmt: Any, *, skip_locked: bool = False) -> Any:
        """Row locks where the backend has them; SQLite's single writer already serializes.
        ``skip_locked`` lets concurrent workers each claim different rows of a queue."""
        return stmt if self.is_sqlite else stmt.with_for_update(skip_locked=skip_locked)

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
        self.engine.dispose()


# A commit that finds the WAL this long (pages) checkpoints itself: only if the checkpointer falls behind.
WAL_BACKSTOP_PAGES = 16_384


class Checkpointer:
    """SQLite's WAL copied back into the database file on a thread of its own. Left to the committing
    connection (``wal_autocheckpoint``), the commit that crosses the WAL's limit copies every page back
    and syncs the file while its caller waits; SQLite drops the GIL while it checkpoints, so here the
    copy runs beside the writer, on another core. A passive checkpoint never blocks a reader or the
    writer. Started by the first commit, stopped by ``Database.dispose``."""

    def __init__(self, path: str, pause_s: float = 0.2) -> None:
        self.path = path
        self.pause_s = pause_s  # between checkpoints: a burst of commits is copied back once
        self.checkpoints = 0
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def wake(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None and not self._stopping.is_set():
                    self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                    self._thread.start()
        self._dirty.set()

    def stop(self) -> None:
        self._stopping.set()
        self._dirty.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        try:
            while True:
                self._dirty.wait()
                self._dirty.clear()
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.checkpoints += 1
                if self._stopping.is_set() or self._stopping.wait(self.pause_s):
                    return
        except sqlite3.Error:  # the commits' backstop checkpoints from now on
            log.exception("checkpointing %s failed; commits checkpoint the WAL themselves", self.path)
        finally:
            conn.close()


IN_LIST = 5_000  # values per IN list: well inside every backend's parameter limit


def in_lists(values: Sequence[Any] | np.ndarray) -> Iterator[list[Any]]:
    """``values`` in slices of ``IN_LIST``, as plain lists: one ``IN (...)`` each, however many there are."""
    for i in range(0, len(values), IN_LIST):
        chunk = values[i:i + IN_LIST]
        yield chunk.tolist() if isinstance(chunk, np.ndarray) else list(chunk)


def insert_for(session: Session) -> Any:
    """The dialect's INSERT, for ON CONFLICT on both SQLite and PostgreSQL."""
    return sqlite.insert if session.get_bind().dialect.name == "sqlite" else postgresql.insert
