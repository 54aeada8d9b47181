"""The simulator end to end: wall time, peak memory and impressions per second of a scenario run on the
real engine (auctions, charges and event writes included).

Prints JSON. The baseline, measured in the same run on the same requests, is the engine's batch feed
alone: the time spent inside ``ContentEngine.feed_batch`` and the notes it served. The ratio says what the
rest of the loop (consumers, ads, money, commerce, event writes, rollups) costs on top of serving, and the
baseline bounds what the loop could reach with all of that free. (The baseline used to serve a separate
world that folded no rollups; its notes' trial quotas filled and stayed full, so it filled a small share
of its slots and its rate said nothing about serving.)

    uv run python benchmarks/sim.py                                  # the demo: 100,000 consumers, 30 days
    uv run python benchmarks/sim.py --consumers 1000000 --days 7     # the 1M-consumer week
    uv run python benchmarks/sim.py --consumers 20000 --days 3       # a quick look

Sizes left out are the default scenario's.
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zhongcao import content, sim
from zhongcao.cli.simulate import simulate


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--consumers", type=int)
    parser.add_argument("--days", type=int)
    parser.add_argument("--stores", type=int)
    args = parser.parse_args()
    scenario = sim.load(sim.DEFAULT).with_overrides(consumers=args.consumers, days=args.days, stores=args.stores)
    with tempfile.TemporaryDirectory() as d, _feed_batch_timed() as feed:
        t = time.perf_counter()
        summary = simulate(scenario, Path(d))
        wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    served = sum(summary.extra[k] for k in ("feed_impressions", "ad_impressions", "search_ad_impressions"))
    baseline = feed["impressions"] / feed["seconds"]
    figures = {"consumers": scenario.consumers, "days": scenario.days, "stores": scenario.brands[0].stores,
               "goal": {"demo_seconds_100k_30d": 60, "impressions_per_s": 2_000_000, "peak_gb_1m_consumers": 6},
               "wall_s": round(wall, 1), "peak_rss_mb": round(peak), "impressions": served,
               "impressions_per_s": round(served / wall),
               "impressions_per_s_vs_goal": round(served / wall / 2_000_000, 3),
               "baseline_feed_batch_s": round(feed["seconds"], 1),
               "baseline_feed_batch_impressions_per_s": round(baseline),
               "loop_vs_feed_batch": round(served / wall / baseline, 3)}
    print(json.dumps(figures | summary.extra, indent=2))


@contextmanager
def _feed_batch_timed() -> Iterator[dict[str, Any]]:
    """Time every ``ContentEngine.feed_batch`` call made inside the block, and count what it served."""
    inner = content.ContentEngine.feed_batch
    feed = {"seconds": 0.0, "impressions": 0}

    def timed(self: content.ContentEngine, *args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        page = inner(self, *args, **kwargs)
        feed["seconds"] += time.perf_counter() - t
        feed["impressions"] += len(page.note_id)
        return page

    content.ContentEngine.feed_batch = timed  # type: ignore[method-assign]
    try:
        yield feed
    finally:
        content.ContentEngine.feed_batch = inner  # type: ignore[method-assign]


if __name__ == "__main__":
    main()
