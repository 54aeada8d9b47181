"""``zhongcao creators``: audit external accounts with the fake-account model, and refit it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from zhongcao.cli.plan import WORKERS_HELP

app = typer.Typer(help="Creator marketplace tools: audit accounts, refit the fake-account model.",
                  no_args_is_help=True)
out = Console()


@app.command("audit-accounts")
def audit_accounts(file: Annotated[Path, typer.Argument(help="CSV with account_ref, follower_count, following_count, "
                                                        "media_count, has_profile_pic, is_private, biography_length, "
                                                        "username_length, username_digit_count.")],
                   out_path: Annotated[Path, typer.Option("--out", help="Where to write the scores (CSV).")],
                   model: Annotated[Path | None, typer.Option(help="A refitted model (JSON) instead of the shipped one."
                                                              )] = None) -> None:
    """Score each account's probability of being fake, with reasons; bad rows get an error, not a crash."""
    from zhongcao.core import Invalid
    from zhongcao.market.audit import audit_csv
    from zhongcao.market.fake_accounts import load

    if not file.is_file():
        raise Invalid("invalid_accounts_file", f"{file} is not a readable file", field="file", allowed="a CSV file")
    result = audit_csv(file, out_path, load(model) if model else None)
    out.print(f"{result.rows:,} accounts: {result.scored:,} scored, {result.likely_fake:,} likely fake (p ≥ 0.5), "
              f"{result.errors:,} rows with errors → {out_path}")


@app.command("train-accounts")
def train_accounts(file: Annotated[Path | None, typer.Option(
                       "--from", help="Labelled CSV (the audit columns plus is_fake 0/1); default: the simulator's "
                                      "labelled accounts.")] = None,
                   out_path: Annotated[Path | None, typer.Option(
                       "--out", help="Where to write the model (JSON); default: the shipped model file.")] = None,
                   seed: Annotated[int | None, typer.Option(help="Seed of the simulated accounts.")] = None) -> None:
    """Fit the fake-account model, and report its AUC on a held-out set."""
    from zhongcao.market import fake_accounts
    from zhongcao.market.audit import labelled_csv
    from zhongcao.sim.accounts import TRAINING_SEED, training_set

    if file is not None:
        columns, labels = labelled_csv(file)
        cut = len(labels) * 4 // 5
        train = ({c: v[:cut] for c, v in columns.items()}, labels[:cut])
        held = ({c: v[cut:] for c, v in columns.items()}, labels[cut:])
        source = file.name
    else:
        base = TRAINING_SEED if seed is None else seed
        train, held = training_set(base), training_set(base + 1, 10_000)
        source = f"simulated accounts, seed {base}"
    model = fake_accounts.fit(fake_accounts.features(train[0]), train[1], trained_on=source)
    target = out_path or fake_accounts.SHIPPED
    fake_accounts.save(model, target)
    held_auc = fake_accounts.auc(model.predict(fake_accounts.features(held[0])), held[1])
    out.print(f"fitted on {len(train[1]):,} accounts ({source}); held-out AUC {held_auc:.4f} on {len(held[1]):,} "
              f"→ {target}")


@app.command()
def compare(scenario: Annotated[str, typer.Argument(help="A scenario TOML with a creator programme, or a shipped one "
                                                    "by name.")] = "kob_100_stores",
            strategies: Annotated[str, typer.Option(help="Comma-separated presets: one_top_kol, kocs, mid_plus_koc, "
                                                    "any.")] = "one_top_kol,kocs,mid_plus_koc",
            budget_fen: Annotated[int | None, typer.Option(help="The programme's budget (default: the scenario's).")
                                  ] = None,
            consumers: Annotated[int | None, typer.Option(help="Override the scenario's consumers.")] = None,
            days: Annotated[int | None, typer.Option(help="Override the scenario's days.")] = None,
            seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
            stores: Annotated[int | None, typer.Option(help="Override every brand's store count.")] = None,
            workers: Annotated[int | None, typer.Option(min=1, help=WORKERS_HELP)] = None,
            as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False) -> None:
    """KOL-mix strategies side by side: what the planner expects, and what a what-if run of the simulator
    gives each (same seed, so the same consumers meet each mix), against a run with no creators."""
    import json
    import sys
    from dataclasses import replace

    from rich.table import Table

    from zhongcao import sim
    from zhongcao.cli.simulate import Run, days_progress, simulate_many
    from zhongcao.core import Invalid, format_fen, get_settings
    from zhongcao.market import PRESETS

    base = sim.load(scenario).with_overrides(consumers=consumers, days=days, seed=seed, stores=stores)
    brand = base.brands[0]
    if brand.creator_programme is None:
        raise Invalid("invalid_scenario", f"{scenario} has no [brands.creator_programme] to compare",
                      field="creator_programme", allowed="a scenario whose first brand briefs creators")
    names = [s.strip() for s in strategies.split(",") if s.strip()]
    for name in names:
        if name not in PRESETS:
            raise Invalid("invalid_plan", f"{name!r} is not a preset strategy", field="strategies",
                          allowed=sorted(PRESETS))
    settings = get_settings()
    home = settings.home / "compare"
    runs = [Run("无达人 No creators", base, home / "no-creators", sim.Switch(channel="kol"))]
    for name in names:
        programme = replace(brand.creator_programme, strategy=name,
                            budget_fen=budget_fen or brand.creator_programme.budget_fen)
        runs.append(Run(f"策略 Strategy {name}", replace(base, brands=(replace(brand, creator_programme=programme),
                                                                      *base.brands[1:])), home / name))
    with days_progress(Console(stderr=True), disable=as_json) as bar:
        none, *strategy_runs = simulate_many(runs, settings, bar, workers)
    rows = []
    for name, run in zip(names, strategy_runs, strict=True):
        kol = next(c for c in run.channels if c["channel"] == "kol")
        estimate = run.programme or {}
        rows.append({"strategy": name, "picks": estimate.get("picks", 0),
                     "planned_cost_fen": estimate.get("cost_fen", 0),
                     "estimated_engagements": estimate.get("engagements", 0),
                     "estimated_exposures": estimate.get("exposures", 0), "spend_fen": kol["spend_fen"],
                     "impressions": kol["impressions"], "engagements": kol["engagements"],
                     "kol_conversions": round(run.truth["conversions"] * run.truth["kol_share"], 1),
                     "incremental_conversions": run.truth["conversions"] - none.truth["conversions"],
                     "incremental_gmv_fen": run.totals["gmv_fen"] - none.totals["gmv_fen"]})
    if as_json:
        sys.stdout.write(json.dumps({"scenario": scenario, "seed": base.seed, "strategies": rows}, indent=2) + "\n")
        return
    table = Table(title=f"达人策略 KOL-mix strategies: planned vs simulated ({base.consumers:,} consumers, "
                        f"{base.days} days, seed {base.seed})")
    for col in ("策略 Strategy", "人数 Picks", "计划花费 Planned", "预估互动 Est. eng.", "花费 Spent", "曝光 Impr.",
                "互动 Eng.", "达人转化 KOL conv.", "增量转化 Incr. conv.", "增量GMV Incr. GMV"):
        table.add_column(col, justify="left" if col.startswith("策略") else "right")
    for r in rows:
        table.add_row(r["strategy"], str(r["picks"]), format_fen(r["planned_cost_fen"]),
                      f"{r['estimated_engagements']:,}", format_fen(r["spend_fen"]), f"{r['impressions']:,}",
                      f"{r['engagements']:,}", f"{r['kol_conversions']:,}", f"{r['incremental_conversions']:,}",
                      format_fen(r["incremental_gmv_fen"]))
    out.print(table)
    out.print("Estimated: the planner's 30-day medians for the picks. Simulated: the kol channel of each run; "
              "incremental: against the same run with no creators (common random numbers).")
