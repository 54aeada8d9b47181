"""Running a scenario from the command line: in a fresh embedded store of its own, so that the same seed
always starts from the same empty platform and gives the same summary."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from zhongcao import sim
from zhongcao.core import Database, ManualClock, Runtime, Settings
from zhongcao.migrations import upgrade


def simulate(scenario: sim.Scenario, home: Path, progress: Callable[[int], None] | None = None,
             settings: Settings | None = None) -> sim.Summary:
    """Run a scenario under ``home/simulations/seed-<seed>`` (SQLite and DuckDB files), replacing an earlier
    run of the same seed; the store stays there to be served and inspected."""
    where = home / "simulations" / f"seed-{scenario.seed}"
    if where.exists():
        shutil.rmtree(where)
    where.mkdir(parents=True)
    base = settings or Settings()
    settings = base.model_copy(update={"home": where, "database_url": None, "events_path": None})
    db = Database(settings.resolved_database_url())
    try:
        upgrade(db)
        rt = Runtime(db=db, clock=ManualClock(sim.start_of(scenario, settings.budget_day_utc_offset_hours)),
                     settings=settings)
        return sim.Simulation(rt, sim.build(rt, scenario)).run(progress)
    finally:
        db.dispose()
