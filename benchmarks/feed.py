"""Feed serving throughput: 10,000 requests × 10 slots over 100,000 notes, on one core.

The baseline in the same run is exact brute force: score every note for every request (interest in
the note's category × predicted engagement) and take the top n. It is measured on a slice of the
requests and reported per impression.

    uv run python benchmarks/feed.py [--notes 100000] [--requests 10000] [--slots 10]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core, for us and the baseline alike
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import time

import numpy as np

from zhongcao.content.distribution import FeedIndex, NoteState, PoolSpec, SeenFilter, serve_feed
from zhongcao.content.taxonomy import N_CATEGORIES


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notes", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--slots", type=int, default=10)
    parser.add_argument("--consumers", type=int, default=100_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    spec = PoolSpec()
    state = NoteState()
    cats = rng.integers(0, N_CATEGORIES, args.notes)
    state.add(np.arange(1, args.notes + 1), cats, rng.uniform(-30 * 86_400, 0, args.notes),
              quality=rng.random(args.notes).astype(np.float32) * 0.2)
    state.level[: args.notes * 4 // 5] = rng.integers(1, 5, args.notes * 4 // 5)  # most notes promoted
    interests = rng.dirichlet(np.full(N_CATEGORIES, 0.3), size=args.consumers).astype(np.float32)
    seen = SeenFilter(args.consumers, spec)
    consumers = rng.choice(args.consumers, size=args.requests, replace=False)

    t = time.perf_counter()
    index = FeedIndex.build(state, 0.0, spec)
    build_s = time.perf_counter() - t
    serve_feed(index, consumers[:100], args.slots, interests, seen, 0.0, rng, spec)  # warm up
    t = time.perf_counter()
    batch = serve_feed(index, consumers, args.slots, interests, seen, 0.0, rng, spec)
    serve_s = time.perf_counter() - t

    slice_ = consumers[:500]
    predicted = state.quality[: args.notes]
    t = time.perf_counter()
    scores = interests[slice_][:, cats] * predicted[None, :]
    np.argpartition(-scores, args.slots, axis=1)[:, : args.slots]
    brute_s = time.perf_counter() - t
    ours = len(batch.note_id) / serve_s
    brute = len(slice_) * args.slots / brute_s
    print(json.dumps({
        "notes": args.notes, "requests": args.requests, "slots": args.slots, "goal": {"impressions_per_s": 500_000},
        "impressions": len(batch.note_id), "impressions_per_s": round(ours),
        "index_build_ms": round(build_s * 1000, 1),
        "impressions_per_s_with_index_build": round(len(batch.note_id) / (serve_s + build_s)),
        "brute_force_impressions_per_s": round(brute), "speedup_vs_brute_force": round(ours / brute, 1),
        "explore_share": round(float(batch.explore.mean()), 3),
    }, indent=2))


if __name__ == "__main__":
    main()
