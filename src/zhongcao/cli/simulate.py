"""Running a scenario from the command line: in a fresh embedded store of its own, so that the same seed
always starts from the same empty platform and gives the same summary."""

from __future__ import annotations

import multiprocessing
import os
import queue
import shutil
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

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


@dataclass(frozen=True)
class Run:
    """One of the runs a command asks for (``simulate``'s arguments), under the label its progress bar shows."""

    label: str
    scenario: sim.Scenario
    home: Path
    off: sim.Switch | None = None
    budget_scale: float = 1.0


def simulate_many(runs: Sequence[Run], settings: Settings, bar: Progress, workers: int | None = None
                  ) -> list[sim.Summary]:
    """Several runs (a counterfactual beside its base, a plan's budget levels, a comparison's strategies)
    side by side, a process each, up to ``workers`` at once (default: one per core); their summaries in
    the order asked. Each run has its own store and its own random numbers, so it gives what it gives
    alone. A run keeps one core and part of another (the event store's writes), so two at once on two
    cores finished in 0.65 of the time of one after the other."""
    tasks = [bar.add_task(r.label, total=r.scenario.days) for r in runs]
    workers = min(len(runs), workers or os.cpu_count() or 1)
    if workers <= 1:
        return [simulate(r.scenario, r.home, _days_of(bar, task), settings=settings, off=r.off,
                         budget_scale=r.budget_scale) for r, task in zip(runs, tasks, strict=True)]
    context = multiprocessing.get_context("spawn")  # a fork would copy this process's threads' held locks
    days: Any = context.Queue()
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_report_days_to, initargs=(days,)) as pool:
        running = [pool.submit(_run, k, settings, r) for k, r in enumerate(runs)]
        while not all(f.done() for f in running):
            _show_days(days, bar, tasks)
            wait(running, timeout=0.1)
        _show_days(days, bar, tasks)
        return [f.result() for f in running]


def _days_of(bar: Progress, task: TaskID) -> Callable[[int], None]:
    return lambda day: bar.update(task, completed=day)


_days: Any = None  # in a worker process: where its run reports each day done


def _report_days_to(days: Any) -> None:
    global _days
    _days = days


def _run(k: int, settings: Settings, run: Run) -> sim.Summary:
    def progress(day: int) -> None:
        _days.put((k, day))

    return simulate(run.scenario, run.home, progress, settings=settings, off=run.off, budget_scale=run.budget_scale)


def _show_days(days: Any, bar: Progress, tasks: list[TaskID]) -> None:
    while True:
        try:
            k, day = days.get_nowait()
        except queue.Empty:
            return
        bar.update(tasks[k], completed=day)
