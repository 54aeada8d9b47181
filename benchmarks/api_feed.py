"""Feed-with-ads latency over HTTP at a fixed rate: a real `zhongcao serve` on loopback, 10,000 funded
all-site campaigns (one active unit each with five keywords: the issue's 10,000 units and 50,000 keywords)
competing for the ad slots of every feed page, a different consumer on every request. The run starts once
the engine's leases put ads on a page, and counts the ads the pages carried, so a fast answer without its
ads cannot pass for one.

Open loop, latency from the scheduled send time (see api_wallet.py). The baseline in the same run is
`/v1/health` at the same rate. Building the world takes about two minutes at the default size.

    uv run python benchmarks/api_feed.py [--rps 500] [--seconds 10] [--campaigns 10000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from api_wallet import TOKEN, free_port, load
from zhongcao import accounts, ads, billing
from zhongcao.accounts import Actor
from zhongcao.content import CATEGORIES, do_create_note
from zhongcao.core import Database, Runtime
from zhongcao.core.config import Settings
from zhongcao.migrations import upgrade

OP = Actor.operator()
KEYWORDS = ("门店", "新品", "到店", "体验", "优惠")  # five per unit: 50,000 keywords with 10,000 units


def world(home: Path, campaigns: int) -> None:
    """Stores with funded wallets, each running a campaign; organic notes across the categories."""
    db = Database(f"sqlite:///{home / 'state.db'}")
    upgrade(db)
    rt = Runtime(db, settings=Settings(home=home))
    brand = accounts.do_create_account(rt, "brand", "bench brand", actor=OP).id
    billing.do_top_up(rt, brand, 10**9, idempotency_key="bench", actor=OP)
    for i in range(campaigns):
        store = accounts.do_create_account(rt, "store", f"store {i}", actor=OP).id
        billing.do_top_up(rt, store, 10**7, idempotency_key=f"s{i}", actor=OP)
        c = ads.do_create_campaign(rt, store, {"name": f"c{i}", "objective": "seeding", "placement": "all_site",
                                               "bidding": "manual", "optimize_for": "click"}, actor=OP).id
        note = do_create_note(rt, store, title=f"门店新品 {i}", body="到店有礼",
                              category=CATEGORIES[i % len(CATEGORIES)][0], actor=OP).id
        keywords = [{"keyword": f"{word}{i}", "bid_fen": 100 + i, "match": "phrase"} for word in KEYWORDS]
        u = ads.do_create_unit(rt, c, {"name": "u", "bid_fen": 100 + i, "note_ids": [note], "keywords": keywords},
                               actor=OP).id
        ads.do_create_creative(rt, u, note, {"kind": "dm"}, actor=OP)
    for i in range(1_000):
        do_create_note(rt, brand, title=f"日常分享 {i}", body="随手记", category=CATEGORIES[i % len(CATEGORIES)][0],
                       actor=OP)
    db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rps", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--campaigns", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp())
    world(home, args.campaigns)
    port = free_port()
    env = {**os.environ, "ZHONGCAO_HOME": str(home), "ZHONGCAO_ADMIN_TOKEN": TOKEN}
    env.pop("ZHONGCAO_DATABASE_URL", None)
    server = subprocess.Popen([sys.executable, "-m", "zhongcao", "serve", "--port", str(port),
                               "--workers", str(args.workers)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    op = {"Authorization": f"Bearer {TOKEN}"}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=op, timeout=30) as c:
            for _ in range(600):
                try:
                    c.get("/v1/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            started = time.perf_counter()
            for probe in range(10**8, 10**8 + 3_000):  # the ads engine's first sync takes its budget leases
                sample = c.get("/v1/feed", params={"consumer_id": probe, "n": 10}).json()["items"]
                if any(i["ad"] for i in sample):
                    break
                time.sleep(0.1)
            else:
                raise SystemExit("no ad on a feed page after 300 s: the engine took no leases")
            first_ad_s = time.perf_counter() - started
        feed = lambda i: f"/v1/feed?consumer_id={i + 1}&n=10"  # noqa: E731 (a path per request)
        load(port, lambda i: feed(i + 10**7), op, args.rps, 3)  # warm up
        baseline = load(port, "/v1/health", {}, args.rps, args.seconds)
        result = load(port, feed, op, args.rps, args.seconds, count=b'"click_id"')
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps({
        "target_rps": args.rps, "workers": args.workers, "campaigns": args.campaigns,
        "first_ad_after_s": round(first_ad_s, 1), "ads_per_page": round(result.pop("counted") / result["requests"], 2),
        "goal": {"feed_with_ads_p99_ms": 20},
        "feed_with_ads": result, "baseline_health": baseline,
        "p99_vs_baseline": round(result["p99_ms"] / baseline["p99_ms"], 2),
    }, indent=2))


if __name__ == "__main__":
    main()
