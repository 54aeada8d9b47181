"""``zhongcao plan``: a scenario rerun at several budget levels, as a response curve to plan the spend on."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console

out = Console()
WORKERS_HELP = "Runs at once, each in a process of its own (default: one per core; each holds its own world in memory)."


def plan_budgets(
        scenario: Annotated[str, typer.Argument(help="A scenario TOML file, or a shipped one by name.")
                            ] = "kob_100_stores",
        budget_scales: Annotated[str, typer.Option(help="The levels to run, as multiples of the scenario's budget "
                                                   "(0.05 to 20, up to 8).")] = "0.5,1,1.5,2",
        consumers: Annotated[int | None, typer.Option(help="Override the scenario's consumers.")] = None,
        days: Annotated[int | None, typer.Option(help="Override the scenario's days.")] = None,
        seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
        stores: Annotated[int | None, typer.Option(help="Override every brand's store count.")] = None,
        workers: Annotated[int | None, typer.Option(min=1, help=WORKERS_HELP)] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """Run the scenario once per budget level (the brand's store allocations, campaigns' daily budgets and
    creator programme scaled together; rivals keep theirs), on the same seed, and show what each level bought
    and what each extra yuan bought over the level below (marginal ROI). The levels run side by side, one per
    core."""
    from rich.table import Table

    from zhongcao import sim
    from zhongcao.cli.simulate import Run, days_progress, simulate_many
    from zhongcao.core import format_fen, get_settings

    base = sim.load(scenario).with_overrides(consumers=consumers, days=days, seed=seed, stores=stores)
    scales = sim.parse_scales(budget_scales)  # every level in range before the first runs
    settings = get_settings()
    home = settings.home / "plan"
    with days_progress(Console(stderr=True), disable=as_json) as bar:
        summaries = simulate_many([Run(f"预算 Budget ×{scale:g}", base, home, budget_scale=scale) for scale in scales],
                                  settings, bar, workers)
    rows = sim.response_curve(list(zip(scales, summaries, strict=True)))
    if as_json:
        sys.stdout.write(json.dumps({"scenario": scenario, "seed": base.seed, "consumers": base.consumers,
                                     "days": base.days, "levels": rows}, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"预算响应 Budget response ({base.consumers:,} consumers, {base.days} days, seed {base.seed})")
    for col in ("预算 Budget", "分配 Allocated", "花费 Spend", "广告曝光 Ad impr.", "广告点击 Ad clicks", "线索 Leads",
                "订单 Orders", "GMV", "ROI", "边际花费 Marg. spend", "边际GMV Marg. GMV", "边际ROI Marg. ROI"):
        table.add_column(col, justify="right")

    def fen(value: int | None) -> str:
        return "-" if value is None else format_fen(value)

    def ratio(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    for r in rows:
        table.add_row(f"×{r['budget_scale']:g}", format_fen(r["allocated_fen"]), format_fen(r["spend_fen"]),
                      f"{r['ad_impressions']:,}", f"{r['ad_clicks']:,}", f"{r['leads']:,}", f"{r['orders']:,}",
                      format_fen(r["gmv_fen"]), ratio(r["roi"]), fen(r["marginal_spend_fen"]),
                      fen(r["marginal_gmv_fen"]), ratio(r["marginal_roi"]))
    out.print(table)
    out.print("边际 Marginal: over the level above it in the table, on the same consumers and random numbers, so the "
              "difference is what the extra money bought. ROI counts every purchase, the baseline's too; plan on "
              f"the marginal ROI. Each level's platform is kept under {home / 'simulations'}.")
