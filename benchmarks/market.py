"""Creator discovery over 100,000 creators and the KOL-mix planner over 10,000 candidates.

The creator snapshot is written to a real State (SQLite) and loaded as the server loads it; the queries
mix filters, audience targets, exclusions and sorts. Baselines in the same run: a plain Python loop over
the same snapshot rows for discovery, and the greedy value-per-fen knapsack for the planner (how much
value the exact plan adds, and what it costs in time).

    uv run python benchmarks/market.py [--creators 100000] [--candidates 10000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert

from zhongcao import market
from zhongcao.content import CATEGORIES
from zhongcao.core import Database, ManualClock, Runtime, Settings
from zhongcao.market.audience import DIMENSIONS
from zhongcao.market.models import CreatorStatsRow
from zhongcao.migrations import upgrade

QUERIES = [
    market.Query(category="skincare", min_authenticity=60, target={"gender": {"female": 1.0}}),
    market.Query(category="skincare", tiers=["micro", "macro"], price_max_fen=800_000, sort="cost_per_engagement"),
    market.Query(category="auto", regions=["上海", "北京"], audience_min={"gender.male": 0.5}),
    market.Query(followers_min=50_000, followers_max=100_000, koc=False, sort="engagement"),
    market.Query(category="food", target={"age": {"18-24": 0.5, "25-34": 0.5}, "city_tier": {"1": 0.6, "2": 0.4}},
                 min_authenticity=75, limit=50),
    market.Query(koc=True, category="mother_baby", sort="authenticity"),
    market.Query(category="fashion", gender="female", audience_min={"consumption.high": 0.3}, offset=20),
]
CITIES = ["上海", "北京", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "重庆"]


def snapshot(n: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    followers = np.minimum((1_000 * (1 + rng.pareto(1.1, n))).astype(np.int64), 20_000_000)
    tier = market.tier_of(followers)
    engaged = followers * rng.lognormal(np.log(0.006), 0.8, n)
    category = rng.integers(0, len(CATEGORIES), n)
    rows = []
    for i in range(n):
        audience = {d: dict(zip(v, (rng.dirichlet(np.ones(len(v)))).round(4).tolist(), strict=True))
                    for d, v in DIMENSIONS.items()}
        quote = int(followers[i] * (15, 8, 6, 5)[tier[i]])
        stats = {"creator_id": i + 1, "category": CATEGORIES[category[i]][0], "region": CITIES[i % len(CITIES)],
                 "gender": "female" if rng.random() < 0.7 else "male", "quote_image_fen": quote,
                 "quote_video_fen": quote * 3 // 2, "followers": int(followers[i]), "tier": market.TIERS[tier[i]][0],
                 "koc": bool(followers[i] < 50_000 and rng.random() < 0.6), "median_engagements": float(engaged[i]),
                 "median_exposures": float(engaged[i] * 20), "median_reads": float(engaged[i] * 5),
                 "fake_share": float(rng.beta(1, 15)), "audience": audience,
                 "category_shares": {CATEGORIES[category[i]][0]: round(float(rng.uniform(0.4, 1)), 2)}}
        rows.append({"creator_id": i + 1, "computed_at": datetime(2026, 3, 1, tzinfo=UTC), "stats": stats,
                     "authenticity": int(rng.integers(30, 101)), "reasons": ["no anomalies found"]})
    return rows


def naive(rows: list[dict[str, Any]], q: market.Query) -> list[int]:
    """The loop a first version would write: filter and score row by row."""
    scored = []
    for r in rows:
        s = r["stats"]
        if q.category and s["category"] != q.category and s["category_shares"].get(q.category, 0) < 0.2:
            continue
        if q.regions and s["region"] not in q.regions:
            continue
        if q.gender and s["gender"] != q.gender:
            continue
        if q.followers_min is not None and s["followers"] < q.followers_min:
            continue
        if q.followers_max is not None and s["followers"] > q.followers_max:
            continue
        if q.price_max_fen is not None and not 0 < s["quote_image_fen"] <= q.price_max_fen:
            continue
        if q.tiers and s["tier"] not in q.tiers:
            continue
        if q.koc is not None and s["koc"] != q.koc:
            continue
        if any(s["audience"][k.split(".")[0]][k.split(".")[1]] < v for k, v in q.audience_min.items()):
            continue
        if r["authenticity"] < q.min_authenticity:
            continue
        cpe = s["quote_image_fen"] / max(s["median_engagements"], 1e-9)
        scored.append((-(r["authenticity"] / 100 + 1 / (1 + cpe / 1_000)), r["creator_id"]))
    scored.sort()
    return [c for _, c in scored[q.offset:q.offset + q.limit]]


def greedy(c: market.Candidates, budget: int) -> float:
    order = np.argsort(-c.value("engagements") / c.cost_fen, kind="stable")
    spent, value = 0, 0.0
    for i in order:
        if spent + c.cost_fen[i] <= budget:
            spent += int(c.cost_fen[i])
            value += float(c.value("engagements")[i])
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creators", type=int, default=100_000)
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    rows = snapshot(args.creators, rng)
    with tempfile.TemporaryDirectory() as home:
        db = Database(f"sqlite:///{Path(home) / 'state.db'}")
        upgrade(db)
        rt = Runtime(db=db, clock=ManualClock(datetime(2026, 3, 2, tzinfo=UTC)), settings=Settings(home=Path(home)))
        with db.transaction() as s:
            s.execute(insert(CreatorStatsRow), rows)
        t = time.perf_counter()
        index = market.CreatorIndex.load(rt)
        load_s = time.perf_counter() - t
        for q in QUERIES:
            market.discover(rt, index, q)  # warm up
        ours, base = [], []
        for _ in range(args.repeat):
            for q in QUERIES:
                t = time.perf_counter()
                market.discover(rt, index, q)
                ours.append(time.perf_counter() - t)
        for q in QUERIES:
            t = time.perf_counter()
            naive(rows, q)
            base.append(time.perf_counter() - t)
        db.dispose()
    ms = np.array(ours) * 1000
    candidates = index.candidates(market.Query())
    pick = np.random.default_rng(2).choice(len(candidates.ids), size=min(args.candidates, len(candidates.ids)),
                                           replace=False)
    c = market.Candidates(*(getattr(candidates, f)[pick] for f in ("ids", "tier", "koc", "quote_fen", "exposures",
                                                                     "reads", "engagements", "real_share",
                                                                     "audience_fit")))
    plans = {}
    for name in ("any", "mid_plus_koc", "kocs", "one_top_kol"):
        t = time.perf_counter()
        plan = market.plan(c, 50_000_000, market.PRESETS[name])
        plans[name] = {"seconds": round(time.perf_counter() - t, 3), "status": plan.status, "gap": plan.gap,
                       "picks": len(plan.picks),
                       "engagements": round(plan.engagements)}
    t = time.perf_counter()
    greedy_value = greedy(c, 50_000_000)
    greedy_s = time.perf_counter() - t
    print(json.dumps({
        "creators": args.creators, "index_load_seconds": round(load_s, 2),
        "discovery": {"queries": len(ms), "p50_ms": round(float(np.percentile(ms, 50)), 2),
                      "p99_ms": round(float(np.percentile(ms, 99)), 2), "goal_p99_ms": 100,
                      "naive_loop_mean_ms": round(float(np.mean(base)) * 1000, 1),
                      "speedup_vs_naive_loop": round(float(np.mean(base)) / float(np.mean(ours)), 1)},
        "planner": {"candidates": len(c.ids), "budget_fen": 50_000_000, "goal_seconds": 5, "plans": plans,
                    "greedy_seconds": round(greedy_s, 4),
                    "exact_over_greedy_engagements": round(plans["any"]["engagements"] / greedy_value, 4)},
    }, indent=1))


if __name__ == "__main__":
    main()
