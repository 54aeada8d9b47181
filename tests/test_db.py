"""The embedded database's WAL is checkpointed beside its writers, not by the commit that fills it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from sqlalchemy import text

from zhongcao.core.db import WAL_BACKSTOP_PAGES, Database


def _wal_frames(path: Path) -> tuple[int, int]:
    """(frames in the WAL, frames of it already copied back), as a passive checkpoint reports them."""
    conn = sqlite3.connect(path)
    try:
        _, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        return log, done
    finally:
        conn.close()


def test_a_file_database_copies_its_wal_back_on_its_own_thread_and_stops_with_dispose(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = Database(f"sqlite:///{path}")
    with db.transaction() as s:
        s.execute(text("CREATE TABLE t (k INTEGER PRIMARY KEY, v BLOB)"))
    checkpointer = db._checkpointer
    assert checkpointer is not None
    for batch in range(20):  # ~2,500 pages of WAL: past SQLite's default limit of 1,000
        with db.transaction() as s:
            s.execute(text("INSERT INTO t (k, v) VALUES (:k, randomblob(4000))"),
                      [{"k": batch * 25 + i} for i in range(25)])
    with db.read() as s:  # every connection gives the backstop, not SQLite's default, to its commits
        assert s.execute(text("PRAGMA wal_autocheckpoint")).scalar() == WAL_BACKSTOP_PAGES
    deadline = time.monotonic() + 30  # liveness only: the thread copies back within its pause
    while checkpointer.checkpoints == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert checkpointer.checkpoints >= 1
    thread = checkpointer._thread
    assert thread is not None
    assert thread.is_alive()
    db.dispose()
    assert not thread.is_alive()
    log, done = _wal_frames(path)
    assert done == log  # nothing left uncopied
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM t").fetchone()[0] == 500
    conn.close()

