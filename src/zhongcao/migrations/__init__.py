"""Schema migrations (Alembic), shipped inside the package so ``zhongcao serve`` can upgrade on start."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect

import zhongcao.accounts.models
import zhongcao.ads.models
import zhongcao.billing.models
import zhongcao.commerce.models
import zhongcao.content.models
import zhongcao.events.models
import zhongcao.market.models  # noqa: F401  (registers the tables on Base.metadata)
from zhongcao.core import Base, Database

HERE = Path(__file__).parent
metadata = Base.metadata


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["database"] = db
    return cfg


def upgrade(db: Database, revision: str = "head") -> None:
    """Create or upgrade the schema; safe to run on every start."""
    command.upgrade(alembic_config(db), revision)


def current_tables(db: Database) -> set[str]:
    return set(inspect(db.engine).get_table_names())
