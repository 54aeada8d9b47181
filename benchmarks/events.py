"""Event store write throughput: 10M events in Arrow batches, against raw DuckDB in the same run.

The baseline is a plain DuckDB ``INSERT ... SELECT`` of the same batches into the same table with no
idempotency check; the ratio is what idempotent, atomic ingest costs.

    uv run python benchmarks/events.py [--events 10000000] [--batch 1000000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime

import duckdb
import numpy as np

from zhongcao.core import ManualClock
from zhongcao.events import NAMES, EventIds, EventKind, EventStore, Surface, make_batch


def batches(total: int, size: int, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    ids = EventIds(ManualClock(datetime(2026, 3, 1, tzinfo=UTC)))
    out = []
    for start in range(0, total, size):
        n = min(size, total - start)
        out.append(make_batch({
            "event_id": ids.take(n),
            "ts": np.datetime64("2026-03-01T00:00:00", "us") + rng.integers(0, 86_400_000_000, n).astype("m8[us]"),
            "kind": rng.choice(np.array([k.value for k in EventKind], dtype=np.uint8), n),
            "consumer_id": rng.integers(0, 10_000_000, n).astype(np.uint64),
            "brand_id": rng.integers(1, 101, n), "store_id": rng.integers(101, 1_101, n),
            "creator_id": rng.integers(2_000, 12_000, n), "note_id": rng.integers(1, 1_000_000, n),
            "surface": rng.choice(np.array([s.value for s in Surface], dtype=np.uint8), n),
            "position": rng.integers(1, 21, n).astype(np.int16), "policy": "feed.trial.v1",
            "propensity": rng.random(n).astype(np.float32),
        }))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--batch", type=int, default=1_000_000)
    args = parser.parse_args()
    t = time.perf_counter()
    data = batches(args.events, args.batch)
    build_s = time.perf_counter() - t
    with tempfile.TemporaryDirectory() as d:
        with EventStore(f"{d}/events.duckdb") as store:
            t = time.perf_counter()
            inserted = sum(store.write(b).inserted for b in data)
            store_s = time.perf_counter() - t
            t = time.perf_counter()
            replayed = sum(store.write(b).inserted for b in data[:2])
            replay_s = time.perf_counter() - t
        EventStore(f"{d}/raw.duckdb").close()  # the same table definition, then bare DuckDB writes into it
        raw = duckdb.connect(f"{d}/raw.duckdb")
        t = time.perf_counter()
        for b in data:
            raw.register("b", b)
            raw.execute(f"INSERT INTO events SELECT {', '.join(NAMES)} FROM b").fetchall()
            raw.unregister("b")
        raw_s = time.perf_counter() - t
        raw.close()
    print(json.dumps({
        "events": args.events, "batch": args.batch, "goal": {"events_per_s": 2_000_000},
        "events_per_s": round(inserted / store_s), "raw_duckdb_events_per_s": round(args.events / raw_s),
        "store_vs_raw": round((inserted / store_s) / (args.events / raw_s), 2),
        "replayed_batches_events_per_s": round(2 * args.batch / replay_s), "replay_inserted": replayed,
        "make_batch_events_per_s": round(args.events / build_s),
    }, indent=2))


if __name__ == "__main__":
    main()
