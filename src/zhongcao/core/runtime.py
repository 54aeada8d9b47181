"""What every action needs besides its arguments: the database, the clock and the settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from zhongcao.core.clock import Clock, SystemClock, budget_day
from zhongcao.core.config import Settings, get_settings
from zhongcao.core.db import Database


@dataclass
class Runtime:
    db: Database
    clock: Clock = field(default_factory=SystemClock)
    settings: Settings = field(default_factory=get_settings)

    def now(self) -> datetime:
        return self.clock.now()

    def today(self) -> date:
        """The budget day now: caps and daily budgets count against it."""
        return budget_day(self.clock.now(), self.settings.budget_day_utc_offset_hours)

    def day_ends_at(self) -> datetime:
        """When the budget day ends: the next local midnight, where daily budgets start again."""
        offset = timedelta(hours=self.settings.budget_day_utc_offset_hours)
        midnight = datetime.combine(self.today() + timedelta(days=1), time(), tzinfo=UTC)
        return midnight - offset

    @classmethod
    def from_settings(cls, settings: Settings | None = None, clock: Clock | None = None) -> Runtime:
        settings = settings or get_settings()
        return cls(db=Database(settings.resolved_database_url()), clock=clock or SystemClock(), settings=settings)
