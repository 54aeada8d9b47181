"""Alembic's migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from zhongcao.core import Runtime
from zhongcao.migrations import current_tables, metadata, upgrade


def test_migrated_schema_matches_the_models(rt: Runtime) -> None:
    with rt.db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    assert diff == []
    assert {t.name for t in metadata.sorted_tables} <= current_tables(rt.db)


def test_upgrade_is_safe_to_run_again(rt: Runtime) -> None:
    upgrade(rt.db)
    upgrade(rt.db)
    assert "wallet" in current_tables(rt.db)
