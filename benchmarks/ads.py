"""Ad decisions: batched throughput and single-request latency, with 10,000 active units and 50,000 keywords.

The plans are real rows in a fresh SQLite State (bulk-inserted for speed of set-up), compiled by
``load_book`` exactly as a server compiles them. The baseline in the same run is exact brute force for
feed requests: check every unit's targeting for every request, score them all and sort.

    uv run python benchmarks/ads.py [--units 10000] [--keywords-per-unit 5] [--requests 100000]
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core, for us and the baseline alike
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import json
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from zhongcao.accounts import Actor, do_create_account
from zhongcao.ads.book import load_book
from zhongcao.ads.delivery import AdRequests, Delivery
from zhongcao.ads.enums import AGE_BUCKETS, GENDERS
from zhongcao.ads.models import CampaignRow, CreativeRow, KeywordRow, UnitRow
from zhongcao.ads.targeting import Audience
from zhongcao.content import CATEGORIES, N_CATEGORIES
from zhongcao.content.models import Note
from zhongcao.core import Database, ManualClock, Runtime
from zhongcao.core.config import Settings
from zhongcao.migrations import upgrade

CITIES = ["上海", "北京", "杭州", "成都", "深圳", "广州", "南京", "武汉", "西安", "重庆"]
SYLLABLES = list("口红面膜精华洗发水防晒粉底眼影香水护肤美白补水帐篷露营咖啡茶酒店早餐手机电池耳机相机跑鞋瑜伽")


def plans(rt: Runtime, units: int, keywords_per_unit: int, rng: np.random.Generator) -> None:
    now = datetime(2026, 3, 2, 1, tzinfo=UTC)
    accounts = [do_create_account(rt, "store", f"门店 {i}", actor=Actor.operator()).id for i in range(100)]
    campaigns = units // 10
    with rt.db.transaction() as s:
        s.execute(insert(Note), [{"id": u + 1, "author_id": accounts[u % 100], "kind": "image", "title": f"笔记 {u}",
                                  "body": "", "topics": [], "category": CATEGORIES[u % N_CATEGORIES][0],
                                  "status": "published", "sponsored": True, "collaboration_id": None,
                                  "product_ids": [], "created_at": now, "updated_at": now, "version": 1}
                                 for u in range(units)])
        s.execute(insert(CampaignRow), [{
            "id": c + 1, "account_id": accounts[c % 100], "name": f"c{c}", "objective": "seeding",
            "placement": ["feed", "search", "all_site"][c % 3], "bidding": "manual", "optimize_for": "click",
            "daily_budget_fen": None, "pacing": "even", "start_date": date(2026, 3, 1), "end_date": None,
            "dayparts": ["1" * 24] * 7, "holiday_uplift": False, "quick_cast": False, "quick_cast_coefficient": 1.0,
            "status": "active", "created_at": now, "updated_at": now, "version": 1} for c in range(campaigns)])
        targeting = []
        for _ in range(units):
            if rng.random() < 0.4:
                targeting.append({"type": "all"})
                continue
            t: dict[str, object] = {"type": "advanced"}
            if rng.random() < 0.5:
                t["genders"] = [GENDERS[rng.integers(2)]]
            if rng.random() < 0.5:
                t["ages"] = list(rng.choice(AGE_BUCKETS, 2, replace=False))
            if rng.random() < 0.3:
                t["cities"] = list(rng.choice(CITIES, 3, replace=False))
            if rng.random() < 0.5:
                t["interests"] = [CATEGORIES[int(i)][0] for i in rng.choice(N_CATEGORIES, 3, replace=False)]
            targeting.append(t)
        s.execute(insert(UnitRow), [{
            "id": u + 1, "campaign_id": u // 10 + 1, "name": f"u{u}", "bid_fen": int(rng.integers(40, 400)),
            "target_cost_fen": None, "note_ids": [u + 1], "substituted_account_id": None, "targeting": targeting[u],
            "status": "active", "created_at": now, "updated_at": now, "version": 1} for u in range(units)])
        s.execute(insert(CreativeRow), [{"id": u + 1, "unit_id": u + 1, "note_id": u + 1,
                                         "component": {"component": "dm"}, "status": "active", "created_at": now,
                                         "updated_at": now} for u in range(units)])
        words = {"".join(rng.choice(SYLLABLES, 2)) for _ in range(units * keywords_per_unit * 2)}
        vocab = sorted(words)
        s.execute(insert(KeywordRow), [{
            "unit_id": u + 1, "keyword": vocab[int(rng.integers(len(vocab)))],
            "match": ["exact", "phrase", "smart"][k % 3], "bid_fen": None, "negative": False, "status": "active",
            "created_at": now, "updated_at": now} for u in range(units) for k in range(keywords_per_unit)])


def requests(n: int, consumers: np.ndarray, search: bool, queries: list[str], rng: np.random.Generator) -> AdRequests:
    interests = rng.random((n, N_CATEGORIES)) < 0.15
    return AdRequests(consumers, Audience(rng.integers(-1, 2, n), rng.integers(-1, 4, n), rng.integers(-1, 2, n),
                                          rng.integers(-1, len(CITIES), n), interests),
                      np.full(n, search), list(rng.choice(queries, n)) if search else [""] * n, np.full(n, 2))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=10_000)
    parser.add_argument("--keywords-per-unit", type=int, default=5)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    home = Path(tempfile.mkdtemp())
    db = Database(f"sqlite:///{home / 'state.db'}")
    upgrade(db)
    rt = Runtime(db, ManualClock(datetime(2026, 3, 2, 1, tzinfo=UTC)), Settings(home=home))
    t = time.perf_counter()
    plans(rt, args.units, args.keywords_per_unit, rng)
    setup_s = time.perf_counter() - t
    t = time.perf_counter()
    book = load_book(rt)
    load_s = time.perf_counter() - t
    delivery = Delivery(book)
    funded = np.ones(len(book.campaign_id), dtype=bool)
    now = rt.now().timestamp()
    queries = ["".join(rng.choice(SYLLABLES, 3)) for _ in range(2_000)]

    def run(search: bool, total: int, batch: int) -> float:
        consumers = rng.integers(1, 10_000_000, total)
        reqs = [requests(batch, consumers[i:i + batch], search, queries, rng) for i in range(0, total, batch)]
        start = time.perf_counter()
        filled = 0
        for r in reqs:
            filled += len(delivery.decide(r, now, funded, rng).unit)
        return total / (time.perf_counter() - start)

    run(False, 2_000, args.batch)  # warm up
    feed_rate = run(False, args.requests, args.batch)
    search_rate = run(True, args.requests // 10, args.batch)
    single = []
    for _ in range(2_000):
        r = requests(1, rng.integers(1, 10_000_000, 1), bool(rng.random() < 0.2), queries, rng)
        start = time.perf_counter()
        delivery.decide(r, now, funded, rng)
        single.append(time.perf_counter() - start)
    single_ms = np.array(single) * 1_000

    # Baseline: every unit checked and scored for every request, then sorted.
    base_reqs = requests(1_000, rng.integers(1, 10_000_000, 1_000), False, queries, rng)
    start = time.perf_counter()
    eligible = book.targeting.eligible(base_reqs.audience)
    scores = np.where(eligible, book.bid_fen[None, :].astype(float), -np.inf)
    np.argsort(-scores, axis=1)[:, :3]
    brute = 1_000 / (time.perf_counter() - start)

    print(json.dumps({
        "units": int(book.units), "keywords": args.units * args.keywords_per_unit, "campaigns": len(book.campaign_id),
        "goal": {"batched_decisions_per_s": 200_000, "single_request_p99_ms": 1.0},
        "batched_feed_decisions_per_s": round(feed_rate), "batched_search_decisions_per_s": round(search_rate),
        "single_request_p50_ms": round(float(np.percentile(single_ms, 50)), 3),
        "single_request_p99_ms": round(float(np.percentile(single_ms, 99)), 3),
        "brute_force_feed_decisions_per_s": round(brute), "speedup_vs_brute_force": round(feed_rate / brute, 1),
        "book_load_s": round(load_s, 2), "setup_s": round(setup_s, 1),
    }, indent=2))


if __name__ == "__main__":
    main()
