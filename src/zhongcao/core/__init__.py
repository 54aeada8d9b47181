"""Core: configuration, the database, the clock, money and the error types every slice shares."""

from zhongcao.core.clock import Clock, ManualClock, SystemClock, budget_day
from zhongcao.core.compiled import kernel
from zhongcao.core.config import Settings, get_settings
from zhongcao.core.db import Base, BigId, Database, UTCDateTime, in_lists, insert_for
from zhongcao.core.errors import CODES, Conflict, Forbidden, Invalid, NotFound, Unauthenticated, ZhongcaoError
from zhongcao.core.lookup import RowsOf, distinct
from zhongcao.core.money import MAX_FEN, format_fen, require_positive_fen
from zhongcao.core.runtime import Runtime

__all__ = [
    "CODES",
    "MAX_FEN",
    "Base",
    "BigId",
    "Clock",
    "Conflict",
    "Database",
    "Forbidden",
    "Invalid",
    "ManualClock",
    "NotFound",
    "RowsOf",
    "Runtime",
    "Settings",
    "SystemClock",
    "UTCDateTime",
    "Unauthenticated",
    "ZhongcaoError",
    "budget_day",
    "distinct",
    "format_fen",
    "get_settings",
    "in_lists",
    "insert_for",
    "kernel",
    "require_positive_fen",
]
