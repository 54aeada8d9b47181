"""The command line: serve, migrate, bootstrap an operator key, and run the demo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from zhongcao.cli.creators import app as creators_app
from zhongcao.cli.plan import WORKERS_HELP, plan_budgets
from zhongcao.core import Runtime, ZhongcaoError, format_fen

if TYPE_CHECKING:
    from zhongcao.sim import Scenario, Summary, Switch

app = typer.Typer(help="zhongcao (种草): social-commerce marketing on one closed loop.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
admin_app = typer.Typer(help="Platform-operator bootstrapping.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(creators_app, name="creators")
out = Console()
BUDGET_SCALE_HELP = ("Scale the brand's money (store allocations, campaigns' daily budgets, the creator "
                     "programme's budget), 0.05 to 20; rivals keep theirs.")


def _runtime() -> Runtime:
    """The embedded default (SQLite under ZHONGCAO_HOME) or ZHONGCAO_DATABASE_URL, upgraded."""
    from zhongcao.migrations import upgrade

    rt = Runtime.from_settings()
    upgrade(rt.db)
    return rt


@app.command()
def serve(host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
          workers: Annotated[int, typer.Option(min=1, max=64, help="Server processes (one per core).")] = 1,
          access_log: Annotated[bool, typer.Option(help="Log every request (costs about a tenth of a core at "
                                                        "500 requests/s).")] = False) -> None:
    """Create or upgrade the database, then serve the HTTP API (docs at /docs)."""
    import uvicorn

    from zhongcao import content
    from zhongcao.api import create_app
    from zhongcao.api import workers as serving

    rt = _runtime()
    content.PoolSpec.from_config(rt.settings.pools)  # a bad policy stops here, not in every worker
    out.print(f"zhongcao API on http://{host}:{port} with {workers} worker(s)  (docs: /docs, OpenAPI: /openapi.json)")
    # The event store's ingester runs beside the workers, so its analytics never hold a request's GIL.
    ingester = subprocess.Popen([sys.executable, "-m", "zhongcao", "ingest", "--parent", str(os.getpid())])
    os.environ["ZHONGCAO_INGEST_IN_SERVER"] = "false"
    rt.settings.ingest_in_server = False
    status = 0
    try:
        if workers == 1:
            serving.tune_interpreter(rt.settings.serve_switch_interval_ms)
            uvicorn.run(create_app(rt), host=host, port=port, log_level="info", access_log=access_log)
        else:
            rt.db.dispose()
            status = serving.run(host, port, workers, access_log=access_log)
    finally:
        ingester.terminate()
        try:
            ingester.wait(timeout=30)
        except subprocess.TimeoutExpired:
            ingester.kill()
    if status:
        raise typer.Exit(status)


@app.command()
def ingest(parent: Annotated[int | None, typer.Option(help="Stop when this process (the server that started this "
                                                          "one) is gone.")] = None) -> None:
    """Move the event outbox into the event store and keep rollups, hot queries, ad reports and audiences
    fresh; ``serve`` runs one beside its workers. Stops on SIGTERM, or when its parent server is gone."""
    from zhongcao.api.ingest import run

    if parent is not None and os.getppid() != parent:
        return  # the server is already gone
    run(_runtime(), parent)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Create or upgrade the schema to the latest migration."""
    rt = _runtime()
    out.print(f"database is up to date: {rt.db.url.render_as_string(hide_password=True)}")


@admin_app.command("create-token")
def create_token(label: Annotated[str, typer.Option(help="What the token is for.")] = "cli") -> None:
    """Create a platform-operator API key; it is shown once."""
    from zhongcao.accounts import Actor, do_create_operator_key

    issued = do_create_operator_key(_runtime(), label=label, actor=Actor.system())
    out.print(issued.key, highlight=False, soft_wrap=True)


@app.command()
def demo(as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
         consumers: Annotated[int | None, typer.Option(help="Consumers (default 100,000).")] = None,
         days: Annotated[int | None, typer.Option(help="Days (default 30).")] = None,
         seed: Annotated[int | None, typer.Option(help="Seed for every random draw (default 7).")] = None,
         stores: Annotated[int | None, typer.Option(help="Stores under the brand (default 100).")] = None,
         budget_scale: Annotated[float, typer.Option(help=BUDGET_SCALE_HELP)] = 1.0) -> None:
    """The main job: a 30-day KOB campaign, one brand with 100 stores, feed and search ads and organic
    seeding, simulated on the real engine into the embedded store; then what each channel and store got."""
    from zhongcao import sim

    _run_scenario(sim.load(sim.DEFAULT).with_overrides(consumers=consumers, days=days, seed=seed, stores=stores),
                  as_json=as_json, calibration_report=False, off=None, budget_scale=budget_scale, workers=1)


@app.command()
def simulate(scenario: Annotated[str, typer.Argument(help="A scenario TOML file, or a shipped one by name: "
                                                       "kob_100_stores (the demo's), auto_dealers, "
                                                       "home_furnishing, local_services.")],
             consumers: Annotated[int | None, typer.Option(help="Override the scenario's consumers.")] = None,
             days: Annotated[int | None, typer.Option(help="Override the scenario's days.")] = None,
             seed: Annotated[int | None, typer.Option(help="Override the scenario's seed.")] = None,
             stores: Annotated[int | None, typer.Option(help="Override every brand's store count.")] = None,
             as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
             calibration_report: Annotated[bool, typer.Option(
                 "--calibration-report", help="Also set the run's aggregates against the field's ranges; exit 1 "
                 "if one falls outside.")] = False,
             counterfactual: Annotated[str | None, typer.Option(
                 help="Rerun with something switched off, on the same random numbers, and report the true "
                 "incremental effect: 'channel=search_ads off', 'channel=feed_ads off', 'channel=kol off' "
                 "(no creator programme), 'store=12 off'.")] = None,
             budget_scale: Annotated[float, typer.Option(help=BUDGET_SCALE_HELP)] = 1.0,
             workers: Annotated[int | None, typer.Option(min=1, help=WORKERS_HELP + " With --counterfactual, "
                                                         "the base run and the counterfactual run side by side."
                                                         )] = None,
             ) -> None:
    """Run a scenario on the real engine in a fresh store under ZHONGCAO_HOME/simulations, and summarize it:
    spend and results per channel, the top and bottom stores, AIPL stages, and the true channel shares."""
    from zhongcao import sim

    plan = sim.load(scenario).with_overrides(consumers=consumers, days=days, seed=seed, stores=stores)
    off = sim.Switch.parse(counterfactual, plan.brands[0].stores) if counterfactual is not None else None
    _run_scenario(plan, as_json=as_json, calibration_report=calibration_report, off=off, budget_scale=budget_scale,
                  workers=workers)


app.command("plan")(plan_budgets)  # after simulate: the help lists commands in this order


def _run_scenario(plan: Scenario, *, as_json: bool, calibration_report: bool, off: Switch | None,
                  budget_scale: float, workers: int | None) -> None:
    from zhongcao import sim
    from zhongcao.cli.simulate import Run, days_progress, run_dir, simulate_many
    from zhongcao.core import get_settings

    settings = get_settings()
    runs = [Run(f"模拟 Simulating {plan.consumers:,} consumers, {sum(b.stores for b in plan.brands)} stores", plan,
                settings.home, budget_scale=budget_scale)]
    if off is not None:  # beside the base run, on the other core
        runs.append(Run(f"反事实 Counterfactual: {off.label} off", plan, settings.home, off, budget_scale))
    with days_progress(out, disable=as_json) as bar:
        result, *others = simulate_many(runs, settings, bar, workers)
    lift = sim.incremental(result, others[0], off) if off is not None else None
    metrics = []
    if calibration_report:
        metrics = sim.run_calibration(result.extra) + sim.population_calibration(
            sim.population.generate(plan.consumers, sim.streams(plan.seed)["consumers"]),
            sim.streams(plan.seed)["behaviour"])
    if as_json:
        body = result.to_dict() | ({"calibration": [
            {"metric": m.name, "value": m.value, "low": m.low, "high": m.high, "confidence": m.confidence,
             "passed": m.passed} for m in metrics]} if calibration_report else {}) | (
            {"counterfactual": lift} if lift is not None else {})
        sys.stdout.write(json.dumps(body, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_summary(result, run_dir(settings.home, plan.seed, budget_scale=budget_scale))
        if lift is not None:
            out.print(f"反事实 Counterfactual ({lift['switched_off']} off, same random numbers): conversions "
                      f"{lift['base_conversions']:,} → {lift['conversions']:,}; true incremental conversions "
                      f"{lift['incremental_conversions']:,}, GMV {format_fen(lift['incremental_gmv_fen'])}, for "
                      f"{format_fen(lift['spend_saved_fen'])} of spend")
        if calibration_report:
            report = Table(title="校准 Calibration: simulated vs the field")
            for col in ("指标 Metric", "模拟 Simulated", "范围 Range", "置信 Conf.", "结果 Result"):
                report.add_column(col)
            for m in metrics:
                report.add_row(m.name, f"{m.value:g}", f"{m.low:g}–{m.high:g}", m.confidence,
                               "通过 pass" if m.passed else "未通过 FAIL")
            out.print(report)
    if any(not m.passed for m in metrics):
        raise typer.Exit(1)


def _print_summary(result: Summary, where: Path) -> None:
    from zhongcao.sim import CHANNELS

    table = Table(title=f"{result.days} 天 days · {result.consumers:,} 消费者 consumers · seed {result.seed}")
    for col in ("渠道 Channel", "花费 Spend", "曝光 Impressions", "点击 Clicks", "互动 Engagements", "线索* Leads",
                "订单* Orders", "GMV*", "ROI*"):
        table.add_column(col, justify="left" if col.startswith("渠道") else "right")
    for c in result.channels:
        table.add_row(c["channel"], format_fen(c["spend_fen"]), f"{c['impressions']:,}", f"{c['clicks']:,}",
                      f"{c['engagements']:,}", f"{c['leads']:,}", f"{c['orders']:,}", format_fen(c["gmv_fen"]),
                      "-" if c["roi"] is None else f"{c['roi']:.2f}")
    out.print(table)
    out.print("* 按真实贡献分配 Each conversion's leads, orders and GMV are shared among the channels by their true "
              "share of what moved it (the simulator's ground truth), rounded to whole numbers.")
    ranked = sorted(result.stores, key=lambda s: (-s["gmv_fen"], s["store_id"]))
    stores = Table(title="门店 Stores: top 5 and bottom 5 by GMV")
    for col in ("门店 Store", "城市 City", "级别 Tier", "花费 Spend", "线索 Leads", "订单 Orders", "GMV"):
        stores.add_column(col, justify="left" if col.startswith(("门店", "城市")) else "right")
    for s in ranked[:5] + ranked[-5:] if len(ranked) > 10 else ranked:
        stores.add_row(str(s["store_id"]), s["city"], str(s["tier"]), format_fen(s["spend_fen"]), str(s["leads"]),
                       str(s["orders"]), format_fen(s["gmv_fen"]))
    out.print(stores)
    if result.creators:
        kol = Table(title="达人 Creators: the programme's deals, as the platform measured them (top 10 by engagements)")
        for col in ("达人 Creator", "层级 Tier", "真实度 Auth.", "状态 State", "花费 Spend", "曝光 Exposures",
                    "互动 Engagements", "CPE", "订单 Orders", "GMV"):
            kol.add_column(col, justify="left" if col.startswith(("达人", "层级", "状态")) else "right")
        for c in sorted(result.creators, key=lambda c: (-c["engagements"], c["creator_id"]))[:10]:
            cpe = c["cost_per_engagement_fen"]
            kol.add_row(str(c["creator_id"]), c["tier"], str(c["authenticity"]), c["state"], format_fen(c["spend_fen"]),
                        f"{c['exposures']:,}", f"{c['engagements']:,}", "-" if cpe is None else format_fen(cpe),
                        str(c["orders"]), format_fen(c["gmv_fen"]))
        out.print(kol)
    if result.competition.get("brands"):
        rivals = Table(title="竞品 Competitors in the same auctions (the brand's share of ad impressions: "
                             f"{result.competition['share_of_ad_impressions']:.0%})")
        for col in ("品牌 Brand", "门店 Stores", "花费 Spend", "曝光 Impressions", "点击 Clicks", "CPC"):
            rivals.add_column(col, justify="left" if col.startswith("品牌") else "right")
        for r in result.competition["brands"]:
            rivals.add_row(r["brand"], str(r["stores"]), format_fen(r["spend_fen"]), f"{r['impressions']:,}",
                           f"{r['clicks']:,}", "-" if r["cpc_fen"] is None else format_fen(r["cpc_fen"]))
        out.print(rivals)
    out.print("AIPL: " + "  ".join(f"{k} {v:,}" for k, v in result.aipl.items()))
    t = result.truth
    shares = ", ".join(f"{c.replace('_', ' ')} {t[f'{c}_share']:.0%}" for c in CHANNELS)
    out.print(f"真实归因 True shares of {t['conversions']:,} conversions: {shares}; in the live room {t['live']:,}; "
              f"off-platform {t['offsite']:,} ({t['offsite_posted_back']:,} reported by the shop, "
              f"{t['postbacks_recorded']:,} of them after an ad click and posted back)")
    out.print(f"账本花费 Ledger spend {format_fen(result.ledger_spend_fen)} = simulated spend "
              f"{format_fen(result.totals['spend_fen'])}")
    out.print(f"Look further: the run's platform is kept in {where}; `ZHONGCAO_HOME={where} uv run zhongcao serve` "
              "serves its ads reports (GET /v1/reports), leads, stores, creators (POST /v1/creators/search) and "
              "collaborations over the API (docs at /docs).")


def main() -> None:
    """Entry point: any refusal or failure is one readable line and a non-zero exit, never a traceback."""
    err = Console(stderr=True, soft_wrap=True)
    try:
        code = app(standalone_mode=False)  # click returns an Exit's code here instead of raising it
        if isinstance(code, int) and code:
            sys.exit(code)
    except ZhongcaoError as exc:
        err.print(f"error [{exc.code}]: {exc.detail}", highlight=False, markup=False)
        sys.exit(2)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # the last line of defence for a CLI user
        err.print(f"error: {_one_line(exc)}", highlight=False, markup=False)
        sys.exit(getattr(exc, "exit_code", 1) or 1)


def _one_line(exc: Exception) -> str:
    from sqlalchemy.exc import OperationalError

    if hasattr(exc, "format_message"):  # usage errors: bad option, unknown command
        return str(exc.format_message())
    if isinstance(exc, OperationalError):
        reason = " ".join(str(exc.orig).split())
        return f"cannot use the database ({reason}); check ZHONGCAO_DATABASE_URL"
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


__all__ = ["app", "main"]
