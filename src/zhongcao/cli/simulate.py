"""Running a scenario from the command line: in a fresh embedded store of its own, so that the same seed
always starts from the same empty platform and gives the same summary."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from zhongcao import events, sim
from zhongcao.core import Database, ManualClock, Runtime, Settings
from zhongcao.migrations import upgrade


def days_progress(console: Console, *, disable: bool = False) -> Progress:
    """Rich progress bars counting a run's simulated days, gone once the run ends."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("天 days"),
                    TimeElapsedColumn(), console=console, transient=True, disable=disable)


def run_dir(home: Path, seed: int, off: sim.Switch | None = None, budget_scale: float = 1.0) -> Path:
    """Where a run keeps its platform: ``seed-<seed>``, with ``-budget-<scale>x`` for a scaled budget and
    ``-off-<what>`` for a counterfactual."""
    return home / "simulations" / (f"seed-{seed}" + (f"-budget-{budget_scale:g}x" if budget_scale != 1 else "")
                                   + (f"-off-{off.label}" if off else ""))


def simulate(scenario: sim.Scenario, home: Path, progress: Callable[[int], None] | None = None,
             settings: Settings | None = None, off: sim.Switch | None = None,
             budget_scale: float = 1.0) -> sim.Summary:
    """Run a scenario (its brand's money times ``budget_scale``) under ``run_dir`` (SQLite and DuckDB
    files), replacing an earlier run of the same; the store stays there to be served and inspected."""
    scenario = scenario.with_budget_scale(budget_scale)
    where = run_dir(home, scenario.seed, off, budget_scale)
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
        # One DuckDB thread, beside the run's own on the other core; a buffer pool that keeps what it wrote
        # cached would otherwise grow with the run.
        store = events.EventStore(settings.resolved_events_path(), threads=1, memory_limit="1GB")
        try:
            return sim.Simulation(rt, sim.build(rt, scenario), store, off).run(progress)
        finally:
            store.close()
    finally:
        db.dispose()
