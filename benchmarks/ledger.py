"""Ledger throughput: lease commits and allocations per second, on SQLite and on PostgreSQL.

Prints JSON. The baseline in the same run is the unbatched commit (one lease per call), so the figures
that matter are the ratios, which hold across machines better than raw rates.

    uv run python benchmarks/ledger.py [--leases 4000] [--postgres URL]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import uuid
from typing import Any

from sqlalchemy import create_engine, text

from zhongcao import accounts, billing
from zhongcao.accounts import Actor
from zhongcao.core import Database, Runtime, Settings
from zhongcao.migrations import upgrade

OP = Actor.operator()


def world(rt: Runtime, stores: int) -> tuple[int, list[int]]:
    brand = accounts.do_create_account(rt, "brand", "bench brand", actor=OP).id
    accounts.do_decide_certification(rt, brand, "approve", actor=OP)
    ids = []
    for i in range(stores):
        s = accounts.do_create_account(rt, "store", f"store {i}", actor=OP).id
        accounts.do_decide_certification(rt, s, "approve", actor=OP)
        inv = accounts.do_invite(rt, brand, s, actor=Actor.of_account(brand))
        accounts.do_confirm(rt, inv.id, actor=Actor.of_account(s))
        ids.append(s)
    billing.do_top_up(rt, brand, 10**12, idempotency_key="bench", actor=OP)
    return brand, ids


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else float("inf")


def run(rt: Runtime, leases: int, stores: int = 20) -> dict[str, Any]:
    brand, store_ids = world(rt, stores)
    as_brand = Actor.of_account(brand)
    allocations = 400
    t = time.perf_counter()
    for i in range(allocations):
        billing.do_allocate(rt, brand, store_ids[i % stores], 10**8, actor=as_brand)
    alloc_s = time.perf_counter() - t

    t = time.perf_counter()
    held = [billing.do_reserve(rt, store_ids[i % stores], 100_000, 3600, actor=OP).id for i in range(leases)]
    reserve_s = time.perf_counter() - t

    out: dict[str, Any] = {"allocations_per_s": rate(allocations, alloc_s), "reserves_per_s": rate(leases, reserve_s)}
    spent = dict.fromkeys(held, 0)
    for batch in (1, 100, 1000):
        n = min(leases, 300) if batch == 1 else leases  # the unbatched baseline on a slice, it is slow
        t = time.perf_counter()
        for start in range(0, n, batch):
            chunk = held[start:start + min(batch, n - start)]
            for lease_id in chunk:
                spent[lease_id] += 7
            billing.do_commit(rt, [billing.LeaseCommit(i, spent[i]) for i in chunk], actor=OP)
        out[f"lease_commits_per_s_batch_{batch}"] = rate(n, time.perf_counter() - t)
    base = out["lease_commits_per_s_batch_1"]
    out["batch_1000_vs_unbatched"] = round(out["lease_commits_per_s_batch_1000"] / base, 1)
    books = billing.check_books(rt)
    out["ledger_balanced"] = books == billing.LedgerCheck(0, 0, 0, 0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leases", type=int, default=4000)
    parser.add_argument("--postgres", default=os.environ.get("ZHONGCAO_TEST_POSTGRES_URL",
                                                             "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    results: dict[str, Any] = {"leases": args.leases, "goal": {"lease_commits_per_s_postgres": 5000}}
    with tempfile.TemporaryDirectory() as d:
        db = Database(f"sqlite:///{d}/bench.db")
        upgrade(db)
        results["sqlite"] = run(Runtime(db=db, settings=Settings()), args.leases)
        db.dispose()
    schema = f"zc_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(args.postgres)
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
    except Exception as exc:  # no server: say so in the figures rather than fail
        results["postgres"] = {"skipped": f"no PostgreSQL at {args.postgres}: {type(exc).__name__}"}
    else:
        try:
            db = Database(args.postgres, schema=schema)
            upgrade(db)
            results["postgres"] = run(Runtime(db=db, settings=Settings()), args.leases)
            db.dispose()
        finally:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
