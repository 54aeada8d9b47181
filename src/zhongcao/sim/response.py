"""Budget response curves: the same world run at several budget levels, read as what each level bought.

Every level runs on the same seed, so the same consumers meet the campaigns and every draw a budget does
not change is the same (common random numbers): the difference between two levels is what the money
bought, not noise between worlds. The figure a planner wants is the marginal one, the GMV each extra yuan
bought over the level below; the average ROI also counts the purchases no budget moved (the baseline).
"""

from __future__ import annotations

from typing import Any

from zhongcao.core import Invalid
from zhongcao.sim.run import Summary
from zhongcao.sim.scenario import BUDGET_SCALE

MAX_LEVELS = 8


def parse_scales(spec: str) -> list[float]:
    """Comma-separated budget scales ("0.5,1,2"), ascending, each once."""
    low, high = BUDGET_SCALE
    allowed = f"up to {MAX_LEVELS} comma-separated numbers {low:g}..{high:g}, e.g. 0.5,1,2"
    try:
        scales = sorted({float(s) for s in spec.split(",") if s.strip()})
    except ValueError:
        raise Invalid("invalid_plan", f"budget scales {spec!r} are not numbers", field="budget_scales",
                      allowed=allowed) from None
    if not scales or len(scales) > MAX_LEVELS or not all(low <= s <= high for s in scales):
        raise Invalid("invalid_plan", f"budget scales {spec!r}", field="budget_scales", allowed=allowed)
    return scales


def response_curve(levels: list[tuple[float, Summary]]) -> list[dict[str, Any]]:
    """One row per level (ascending scale): what it allocated, spent and bought, and the marginal spend,
    orders, GMV and ROI over the level below it (the ROI is ``None`` on the first row, and where the level
    spent no more than the one below: the money did not buy anything to divide by)."""
    rows: list[dict[str, Any]] = []
    for scale, run in sorted(levels, key=lambda level: level[0]):
        paid = [c for c in run.channels if c["channel"] in ("feed_ads", "search_ads")]
        t = run.totals
        row = {"budget_scale": scale, "allocated_fen": run.allocated_fen,
               "programme_budget_fen": (run.programme or {}).get("budget_fen", 0), "spend_fen": t["spend_fen"],
               "ad_impressions": sum(c["impressions"] for c in paid), "ad_clicks": sum(c["clicks"] for c in paid),
               "leads": t["leads"], "orders": t["orders"], "gmv_fen": t["gmv_fen"],
               "conversions": run.truth["conversions"],
               "roi": round(t["gmv_fen"] / t["spend_fen"], 4) if t["spend_fen"] else None}
        below = rows[-1] if rows else None
        extra = None if below is None else row["spend_fen"] - below["spend_fen"]
        row |= {"marginal_spend_fen": extra,
                "marginal_orders": None if below is None else row["orders"] - below["orders"],
                "marginal_gmv_fen": None if below is None else row["gmv_fen"] - below["gmv_fen"],
                "marginal_roi": round((row["gmv_fen"] - below["gmv_fen"]) / extra, 4) + 0.0  # never -0.0
                if below is not None and extra is not None and extra > 0 else None}
        rows.append(row)
    return rows
