"""The KOL-mix planner: which creators to brief, within a budget and a strategy, to get the most expected
engagements, reads or conversions; solved exactly as a 0/1 programme with scipy's ``milp`` (HiGHS).

A creator's cost is their quote plus the 10% platform fee the brand pays on it (FIELD_FACTS §4). Expected
results are the creator's 30-day medians counted only for the real part of the audience (one minus the
fake share), so a creator with bought followers is worth what their people are worth. Conversions are
reads times a read-to-order rate [U], weighted by the audience's overlap with the brand's target when
the plan has one.

Strategies are the shapes the field argues about: one top KOL, a swarm of KOCs, mid-tier plus KOCs, or
any minimum and maximum per tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

from zhongcao.core import Invalid
from zhongcao.market.analytics import TIERS
from zhongcao.market.collaborations import fees_of

OBJECTIVES = ("engagements", "reads", "exposures", "conversions")
ORDERS_PER_READ = 0.002  # [U] a read that ends in an order, before audience fit
TIME_LIMIT = 3.0  # seconds the MIP may spend proving a plan optimal (with the LP, a plan stays under 5 s)
TIER_NAMES = tuple(t for t, _ in TIERS)


@dataclass(frozen=True)
class Strategy:
    name: str
    tier_min: Mapping[str, int] = field(default_factory=dict)
    tier_max: Mapping[str, int] = field(default_factory=dict)
    koc_min: int = 0
    koc_max: int | None = None
    count_min: int = 0
    count_max: int | None = None


PRESETS: dict[str, Strategy] = {
    "one_top_kol": Strategy("one_top_kol", tier_min={}, tier_max={"nano": 0, "micro": 0}, count_min=1, count_max=1),
    "kocs": Strategy("kocs", tier_max={"macro": 0, "mega": 0}, koc_min=1, count_max=20),
    "mid_plus_koc": Strategy("mid_plus_koc", tier_min={"micro": 1}, tier_max={"mega": 0}, koc_min=3),
    "any": Strategy("any"),
}


@dataclass(frozen=True)
class Candidates:
    """Columns of the creators a plan may pick from."""

    ids: np.ndarray
    tier: np.ndarray        # index into TIERS
    koc: np.ndarray         # bool
    quote_fen: np.ndarray   # int64, the fee for one note in the brief's format
    exposures: np.ndarray   # expected per note (30-day median)
    reads: np.ndarray
    engagements: np.ndarray
    real_share: np.ndarray  # 1 - fake share of the audience
    audience_fit: np.ndarray  # overlap with the target, 1 when none

    @property
    def cost_fen(self) -> np.ndarray:
        return self.quote_fen + fees_of(self.quote_fen)

    def value(self, objective: str) -> np.ndarray:
        if objective == "conversions":
            return self.reads * self.real_share * self.audience_fit * ORDERS_PER_READ
        return {"engagements": self.engagements, "reads": self.reads, "exposures": self.exposures}[objective] \
            * self.real_share


@dataclass(frozen=True)
class Pick:
    creator_id: int
    tier: str
    koc: bool
    fee_fen: int
    platform_fee_fen: int
    exposures: float
    reads: float
    engagements: float
    conversions: float


@dataclass(frozen=True)
class Plan:
    strategy: str
    objective: str
    budget_fen: int
    status: str             # optimal | time_limit (best found, with its gap) | infeasible
    picks: list[Pick]
    cost_fen: int           # fees and platform fees
    exposures: float
    reads: float
    engagements: float
    conversions: float
    cost_per_engagement_fen: float | None
    gap: float = 0.0        # proven: how far below the best possible plan this one may be, as a share


def _bad(field_: str, detail: str, allowed: object) -> Invalid:
    return Invalid("invalid_plan", detail, field=field_, allowed=allowed)


def check(strategy: Strategy, budget_fen: object, objective: str) -> None:
    if isinstance(budget_fen, bool) or not isinstance(budget_fen, int) or budget_fen <= 0:
        raise _bad("budget_fen", "a plan's budget is a positive number of fen", "an integer > 0")
    if objective not in OBJECTIVES:
        raise _bad("objective", f"{objective!r} is not an objective", list(OBJECTIVES))
    for bounds, name in ((strategy.tier_min, "tier_min"), (strategy.tier_max, "tier_max")):
        for tier, n in bounds.items():
            if tier not in TIER_NAMES:
                raise _bad(name, f"{tier!r} is not a tier", list(TIER_NAMES))
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise _bad(name, "a tier bound is a count of creators", "an integer >= 0")
            if name == "tier_min" and n > strategy.tier_max.get(tier, n):
                raise _bad(name, f"the {tier} minimum is above its maximum", f"at most {strategy.tier_max[tier]}")


def plan(c: Candidates, budget_fen: int, strategy: Strategy, objective: str = "engagements",
         time_limit: float = TIME_LIMIT) -> Plan:
    """The optimal picks (or, past ``time_limit``, the best found with its proven gap); an infeasible
    strategy (too few creators of a tier, too small a budget) comes back as ``infeasible`` with no picks
    rather than as an error."""
    check(strategy, budget_fen, objective)
    n = len(c.ids)
    value = c.value(objective).astype(np.float64)
    cost = c.cost_fen.astype(np.float64)
    rows, lo, hi = [cost], [0.0], [float(budget_fen)]
    for t, name in enumerate(TIER_NAMES):
        if name in strategy.tier_min or name in strategy.tier_max:
            rows.append((c.tier == t).astype(np.float64))
            lo.append(float(strategy.tier_min.get(name, 0)))
            hi.append(float(strategy.tier_max.get(name, n)))
    if strategy.koc_min or strategy.koc_max is not None:
        rows.append(c.koc.astype(np.float64))
        lo.append(float(strategy.koc_min))
        hi.append(float(n if strategy.koc_max is None else strategy.koc_max))
    if strategy.count_min or strategy.count_max is not None:
        rows.append(np.ones(n))
        lo.append(float(strategy.count_min))
        hi.append(float(n if strategy.count_max is None else strategy.count_max))
    if n == 0:
        return _plan(c, np.zeros(0, dtype=bool), strategy, objective, budget_fen, "infeasible")
    solved = solve(value, np.vstack(rows), np.array(lo), np.array(hi), cost <= budget_fen, time_limit)
    if solved is None:
        return _plan(c, np.zeros(n, dtype=bool), strategy, objective, budget_fen, "infeasible")
    chosen, gap = solved
    return _plan(c, chosen, strategy, objective, budget_fen, "optimal" if gap <= 0 else "time_limit", gap)


def solve(value: np.ndarray, a: np.ndarray, lo: np.ndarray, hi: np.ndarray, allowed: np.ndarray,
          time_limit: float = TIME_LIMIT) -> tuple[np.ndarray, float] | None:
    """max value·x over x ∈ {0,1}ⁿ with lo ≤ a·x ≤ hi and x = 0 where not ``allowed``: the plan and its
    proven relative gap to the best possible (0 when optimal); None if infeasible.

    The LP relaxation bounds every plan, a rounded and greedily filled LP solution is a plan, and a
    creator whose reduced cost alone would take the bound below that plan is fixed in or out
    (reduced-cost fixing); the MIP decides the rest. Many near-equal small creators can leave thousands
    undecided, where proving optimality takes HiGHS longer than a planner should wait: past
    ``time_limit`` the best plan found comes back with its gap, which the LP bound makes honest."""
    n = len(value)
    a_ub = np.vstack([a, -a])
    b_ub = np.concatenate([hi, -lo])
    lp = linprog(-value, A_ub=a_ub, b_ub=b_ub, bounds=np.column_stack([np.zeros(n), allowed.astype(np.float64)]),
                 method="highs")
    if lp.status == 2:
        return None
    fixed0, fixed1 = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    incumbent = None
    if lp.status == 0:
        incumbent = _incumbent(lp.x, value, a, lo, hi, allowed)
        if incumbent is not None:
            reduced = -value - a_ub.T @ lp.ineqlin.marginals
            worst = -float(value @ incumbent)  # the incumbent's objective (minimized)
            slack = 1e-7 * max(1.0, abs(worst))
            fixed0 = (lp.x <= 1e-9) & (lp.fun + reduced > worst + slack)
            fixed1 = (lp.x >= 1 - 1e-9) & (lp.fun - reduced > worst + slack)
            fixed0 |= ~allowed
    free = ~(fixed0 | fixed1)
    x = fixed1.copy()
    if not free.any():
        return x, 0.0
    base = a[:, fixed1].sum(axis=1)
    result = milp(-value[free], integrality=np.ones(int(free.sum())),
                  bounds=Bounds(np.zeros(int(free.sum())), allowed[free].astype(np.float64)),
                  constraints=LinearConstraint(a[:, free], lo - base, hi - base),
                  options={"mip_rel_gap": 0.0, "time_limit": time_limit})
    if result.x is None:
        if result.status == 2 or incumbent is None:  # infeasible, or nothing found in time
            return None
        return incumbent, _gap(float(value @ incumbent), -lp.fun)
    x[free] = result.x > 0.5
    if result.status == 0:
        return x, 0.0
    if incumbent is not None and value @ incumbent > value @ x:
        x = incumbent
    bound = float(value[fixed1].sum() - result.mip_dual_bound) if result.mip_dual_bound is not None else -lp.fun
    return x, _gap(float(value @ x), min(bound, -lp.fun))


def _gap(found: float, bound: float) -> float:
    return max(0.0, (bound - found) / bound) if bound > 0 else 0.0


def _incumbent(x_lp: np.ndarray, value: np.ndarray, a: np.ndarray, lo: np.ndarray, hi: np.ndarray,
               allowed: np.ndarray) -> np.ndarray | None:
    """A plan from the LP: its whole creators, then the best value per row-unit that still fits."""
    x = x_lp >= 1 - 1e-9
    used = a[:, x].sum(axis=1)
    if np.any(used > hi + 1e-9):
        return None
    weight = np.maximum(a[0], 1e-9)  # row 0 is the budget
    for j in np.argsort(-value / weight, kind="stable"):
        if x[j] or not allowed[j] or value[j] <= 0:
            continue
        if np.all(used + a[:, j] <= hi + 1e-9):
            x[j] = True
            used += a[:, j]
    return x if np.all(used >= lo - 1e-9) else None


def _plan(c: Candidates, chosen: np.ndarray, strategy: Strategy, objective: str, budget_fen: int, status: str,
          gap: float = 0.0) -> Plan:
    idx = np.flatnonzero(chosen)
    conversions = c.value("conversions")
    picks = [Pick(int(c.ids[i]), TIER_NAMES[int(c.tier[i])], bool(c.koc[i]), int(c.quote_fen[i]),
                  fees_of(int(c.quote_fen[i])), float(c.exposures[i] * c.real_share[i]),
                  float(c.reads[i] * c.real_share[i]), float(c.engagements[i] * c.real_share[i]), float(conversions[i]))
             for i in idx]
    cost = int(c.cost_fen[idx].sum())
    engagements = sum(p.engagements for p in picks)
    return Plan(strategy.name, objective, budget_fen, status, picks, cost, sum(p.exposures for p in picks),
                sum(p.reads for p in picks), engagements, sum(p.conversions for p in picks),
                round(cost / engagements, 2) if engagements else None, round(gap, 6))
