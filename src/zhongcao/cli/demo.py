"""The KOB case from the field: one brand, 100 certified stores, authorized, funded and allocated.

Allocation follows city tier, as brands with store networks do: first-tier stores get the most.
The simulator issue extends this into a full 30-day campaign.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from zhongcao import accounts, billing
from zhongcao.core import Runtime

CITIES = [  # (city, tier)
    ("上海 Shanghai", 1), ("北京 Beijing", 1), ("广州 Guangzhou", 1), ("深圳 Shenzhen", 1),
    ("杭州 Hangzhou", 2), ("成都 Chengdu", 2), ("武汉 Wuhan", 2), ("南京 Nanjing", 2), ("西安 Xi'an", 2),
    ("长沙 Changsha", 2), ("洛阳 Luoyang", 3), ("绵阳 Mianyang", 3), ("赣州 Ganzhou", 3), ("桂林 Guilin", 3),
]
TIER_BUDGET_FEN = {1: 3_000_000, 2: 1_500_000, 3: 600_000}  # ¥30k / ¥15k / ¥6k a month, before noise


@dataclass(frozen=True)
class StoreRow:
    store_id: int
    name: str
    city: str
    tier: int
    allocated_fen: int
    available_fen: int


@dataclass(frozen=True)
class DemoResult:
    brand_id: int
    brand_name: str
    top_up_fen: int
    allocated_fen: int
    brand_available_fen: int
    pool_id: int
    pool_balance_fen: int
    stores: list[StoreRow]
    ledger_balanced: bool

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def run_demo(rt: Runtime, *, stores: int = 100, seed: int = 7) -> DemoResult:
    rng = np.random.default_rng(seed)
    op = accounts.Actor.operator()
    brand = accounts.do_create_account(rt, "brand", "花间集美妆 Huajianji Beauty", actor=op)
    accounts.do_decide_certification(rt, brand.id, "approve", actor=op)
    as_brand = accounts.Actor.of_account(brand.id)
    picks = rng.integers(0, len(CITIES), size=stores)
    noise = rng.uniform(0.8, 1.2, size=stores)
    plan: list[tuple[int, str, str, int, int]] = []
    for i in range(stores):
        city, tier = CITIES[picks[i]]
        name = f"{city.split()[0]}{i + 1:03d}店"
        store = accounts.do_create_account(rt, "store", name, actor=op)
        accounts.do_decide_certification(rt, store.id, "approve", actor=op)
        invite = accounts.do_invite(rt, brand.id, store.id, actor=as_brand)
        accounts.do_confirm(rt, invite.id, actor=accounts.Actor.of_account(store.id))
        budget = int(round(TIER_BUDGET_FEN[tier] * noise[i], -2))
        plan.append((store.id, name, city, tier, budget))
    allocated = sum(p[4] for p in plan)
    pool_fen = 5_000_000
    top_up = allocated + pool_fen + 10_000_000  # stores' budgets, a tier-3 pool, and a reserve at HQ
    billing.do_top_up(rt, brand.id, top_up, idempotency_key=f"demo-{brand.id}", actor=op, memo="demo top-up")
    for store_id, _, _, _, budget in plan:
        billing.do_allocate(rt, brand.id, store_id, budget, actor=as_brand, idempotency_key=f"demo-{store_id}")
    pool = billing.do_create_pool(rt, brand.id, "三线城市共享预算 Tier-3 shared budget", actor=as_brand)
    billing.do_fund_pool(rt, pool.id, pool_fen, actor=as_brand)
    for store_id, _, _, tier, _ in plan:
        if tier == 3:
            billing.do_set_pool_member(rt, pool.id, store_id, 200_000, actor=as_brand)
    rows = []
    for store_id, name, city, tier, budget in plan:
        wallet = billing.get_wallet(rt, store_id, actor=as_brand)
        rows.append(StoreRow(store_id, name, city, tier, budget, wallet.available_fen))
    books = billing.check_books(rt)
    return DemoResult(
        brand_id=brand.id, brand_name=brand.name, top_up_fen=top_up, allocated_fen=allocated,
        brand_available_fen=billing.get_wallet(rt, brand.id, actor=as_brand).available_fen,
        pool_id=pool.id, pool_balance_fen=billing.get_pool(rt, pool.id, actor=as_brand).wallet.balance_fen,
        stores=rows, ledger_balanced=books.entries_sum_fen == 0 and books.unbalanced_txns == 0
        and books.balance_mismatches == 0,
    )
