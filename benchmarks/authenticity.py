"""How well authenticity separates the simulator's labelled frauds, measured through the platform's own
records: the account-level model on held-out simulated accounts, and the creator score on a simulated
world after a few days of traffic (bought followers, bought likes and comments included). The baseline
in the same run is the fake share of the audience alone, the one signal third-party tools lead with.

    uv run python benchmarks/authenticity.py [--creators 1200] [--consumers 10000] [--days 5]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from zhongcao import events, market, sim
from zhongcao.core import Database, ManualClock, Runtime, Settings
from zhongcao.market.fake_accounts import auc, features, shipped
from zhongcao.migrations import upgrade
from zhongcao.sim import accounts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--creators", type=int, default=1_200)
    parser.add_argument("--consumers", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    held, labels = accounts.training_set(seed=accounts.TRAINING_SEED + 1, n=20_000)
    account_auc = auc(shipped().predict(features(held)), labels)
    scenario = sim.Scenario(seed=args.seed, consumers=args.consumers, days=args.days, creators=args.creators,
                            creator_notes=args.creators * 5 // 2,
                            brands=(sim.Brand("小样美妆 Xiaoyang Beauty", stores=4, store_notes=2),))
    with tempfile.TemporaryDirectory() as home:
        db = Database(f"sqlite:///{Path(home) / 'state.db'}")
        upgrade(db)
        rt = Runtime(db=db, clock=ManualClock(sim.start_of(scenario, 8)), settings=Settings(home=Path(home)))
        with events.EventStore(Path(home) / "events.duckdb") as store:
            world = sim.build(rt, scenario)
            sim.Simulation(rt, world, store).run()
            market.fold(rt, store)
        market.refresh(rt)
        index = market.CreatorIndex.load(rt)
        db.dispose()
    order = np.searchsorted(index.ids, world.creator_ids)
    fraud = world.creators.fraud
    score = index.authenticity[order].astype(np.float64)
    fake_share = np.array([index.stats[i]["fake_share"] or 0.0 for i in order])
    print(json.dumps({
        "accounts": {"held_out": len(labels), "fake_share": round(float(labels.mean()), 3),
                     "auc": round(account_auc, 4), "goal_auc": 0.95},
        "creators": {"creators": len(fraud), "frauds": int(fraud.sum()), "consumers": args.consumers,
                     "days": args.days, "auc": round(auc(-score, fraud), 4),
                     "audience_fake_share_only_auc": round(auc(fake_share, fraud), 4),
                     "median_score_honest": float(np.median(score[~fraud])),
                     "median_score_fraud": float(np.median(score[fraud])),
                     "honest_below_60": round(float((score[~fraud] < 60).mean()), 4),
                     "frauds_at_or_above_60": round(float((score[fraud] >= 60).mean()), 4)},
    }, indent=1))


if __name__ == "__main__":
    main()
