"""The simulator end to end: wall time, peak memory and impressions per second of a scenario run on the
real engine (auctions, charges and event writes included).

Prints JSON. The baseline in the same run is the engine's own batch feed (ContentEngine.feed_batch over
the same world with no consumer model, no ads and no money), so the ratio says what the rest of the
loop costs on top of serving.

    uv run python benchmarks/sim.py                                  # the demo: 100,000 consumers, 30 days
    uv run python benchmarks/sim.py --consumers 1000000 --days 7     # the 1M-consumer week
    uv run python benchmarks/sim.py --consumers 20000 --days 3       # a quick look

Sizes left out are the default scenario's. ``--no-baseline`` skips the feed_batch baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import numpy as np

from zhongcao import content, sim
from zhongcao.cli.simulate import simulate
from zhongcao.core import Database, ManualClock, Runtime, Settings
from zhongcao.migrations import upgrade


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consumers", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--stores", type=int)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    scenario = sim.load(sim.DEFAULT).with_overrides(consumers=args.consumers, days=args.days, stores=args.stores)
    with tempfile.TemporaryDirectory() as d:
        t = time.perf_counter()
        summary = simulate(scenario, Path(d))
        wall = time.perf_counter() - t
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baseline adds its own
        served = sum(summary.extra[k] for k in ("feed_impressions", "ad_impressions", "search_ad_impressions"))
        figures = {"consumers": scenario.consumers, "days": scenario.days, "stores": scenario.brands[0].stores,
                   "goal": {"demo_seconds_100k_30d": 60, "impressions_per_s": 2_000_000, "peak_gb_1m_consumers": 6},
                   "wall_s": round(wall, 1), "peak_rss_mb": round(peak), "impressions": served,
                   "impressions_per_s": round(served / wall),
                   "impressions_per_s_vs_goal": round(served / wall / 2_000_000, 3)}
        if not args.no_baseline:
            baseline = _feed_baseline(scenario, Path(d))
            figures |= {"baseline_feed_batch_impressions_per_s": round(baseline),
                        "loop_vs_feed_batch": round(served / wall / baseline, 3)}
    print(json.dumps(figures | summary.extra, indent=2))


def _feed_baseline(scenario: sim.Scenario, d: Path) -> float:
    """Impressions per second of the engine's batch feed alone over the same world: no consumer model, no
    ads, no money."""
    db = Database(f"sqlite:///{d}/baseline.db")
    upgrade(db)
    settings = Settings(home=d / "baseline")  # type: ignore[call-arg]
    clock = ManualClock(sim.start_of(scenario, 8))
    rt = Runtime(db=db, clock=clock, settings=settings)
    world = sim.build(rt, scenario)
    engine = content.ContentEngine(rt, rng=np.random.default_rng(0))
    engine.sync()
    t = time.perf_counter()
    shown = 0
    for _ in range(24 * scenario.days):
        active = world.consumers.ids[np.random.default_rng(shown).random(world.consumers.n) < 0.08]
        shown += len(engine.feed_batch(active.astype(np.int64), 10).note_id)
        engine.flush()
        clock.advance(timedelta(hours=1))  # as the run's ticks do: what a consumer has seen is forgotten in time
    rate = shown / (time.perf_counter() - t)
    db.dispose()
    return rate


if __name__ == "__main__":
    main()
