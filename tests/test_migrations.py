"""Alembic's migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import insert

from zhongcao.content.models import ConsumerInterest
from zhongcao.core import Runtime
from zhongcao.migrations import alembic_config, current_tables, metadata, upgrade


def test_migrated_schema_matches_the_models(rt: Runtime) -> None:
    with rt.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= current_tables(rt.db)


def test_upgrade_is_safe_to_run_again(rt: Runtime) -> None:
    upgrade(rt.db)
    upgrade(rt.db)
    assert "wallet" in current_tables(rt.db)


def test_sqlite_keeps_the_interest_rollup_in_its_key_and_the_rows_survive_the_rebuild(rt: Runtime) -> None:
    """Migration 0017 rebuilds consumer_interest WITHOUT ROWID on SQLite, rows and all, and back."""
    if not rt.db.is_sqlite:
        pytest.skip("WITHOUT ROWID is SQLite's; PostgreSQL keeps the table as it is")

    def table() -> tuple[str, list[tuple]]:
        with rt.db.engine.connect() as conn:
            sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'consumer_interest'").scalar_one()
            return sql, conn.exec_driver_sql("SELECT * FROM consumer_interest ORDER BY 1, 2").all()

    with rt.db.transaction() as s:
        s.execute(insert(ConsumerInterest), [{"consumer_id": 7, "category": 2, "weight": 3.0},
                                             {"consumer_id": 5, "category": 1, "weight": 1.5}])
    sql, rows = table()
    assert "WITHOUT ROWID" in sql
    assert rows == [(5, 1, 1.5), (7, 2, 3.0)]
    command.downgrade(alembic_config(rt.db), "0016")
    plain, kept = table()
    assert "WITHOUT ROWID" not in plain
    assert kept == rows
    upgrade(rt.db)
    assert table() == (sql, rows)
