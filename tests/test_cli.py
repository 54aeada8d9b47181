"""The command line: the demo's KOB case, and errors as one readable line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from zhongcao import sim


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "ZHONGCAO_HOME": str(home), **env}
    if "ZHONGCAO_DATABASE_URL" not in env:
        full.pop("ZHONGCAO_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "zhongcao", *args], capture_output=True, text=True, env=full,
                          timeout=300, check=False)


def test_demo_runs_the_kob_campaign_and_replays_it_byte_for_byte(tmp_path: Path) -> None:
    args = ["demo", "--json", "--consumers", "1500", "--days", "1", "--stores", "8", "--seed", "3"]
    result = run(args, tmp_path)
    assert result.returncode == 0, result.stderr
    demo = json.loads(result.stdout)
    assert len(demo["stores"]) == 8
    assert demo["allocated_fen"] == sum(s["allocated_fen"] for s in demo["stores"]) > 0
    assert set(demo["totals"]) == {"spend_fen", "impressions", "clicks", "engagements", "leads", "orders", "gmv_fen"}
    assert all(isinstance(v, int) for v in demo["totals"].values())
    assert [c["channel"] for c in demo["channels"]] == ["baseline", "organic", "feed_ads", "search_ads", "live", "kol"]
    assert demo["ledger_spend_fen"] == demo["totals"]["spend_fen"]
    assert (tmp_path / "simulations" / "seed-3" / "state.db").exists()
    assert run(args, tmp_path).stdout == result.stdout


def test_demo_tables_are_bilingual_and_say_where_to_look_next(tmp_path: Path) -> None:
    result = run(["demo", "--consumers", "500", "--days", "1", "--stores", "3"], tmp_path, COLUMNS="200")
    assert result.returncode == 0, result.stderr
    assert "门店 Store" in result.stdout
    assert "渠道 Channel" in result.stdout
    assert "zhongcao serve" in result.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    cases = [
        (["demo", "--stores", "0"], {}),
        (["demo", "--budget-scale", "0"], {}),
        (["plan", "--budget-scales", "1,x"], {}),
        (["simulate", "kob_100_stores", "--counterfactual", "channel=tv off"], {}),
        (["simulate", "no_such_scenario"], {}),
        (["no-such-command"], {}),
        (["db", "upgrade"], {"ZHONGCAO_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"}),
    ]
    for args, env in cases:
        result = run(args, tmp_path, **env)
        assert result.returncode != 0, args
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, result.stderr
        assert lines[0].startswith("error"), result.stderr
        assert "Traceback" not in result.stderr


def test_admin_token_is_an_operator_key(tmp_path: Path) -> None:
    result = run(["admin", "create-token", "--label", "bootstrap"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("zc_")


def test_simulate_runs_a_scenario_and_replays_it_byte_for_byte(tmp_path: Path) -> None:
    scenario = "kob_100_stores"
    args = ["simulate", scenario, "--json", "--consumers", "1500", "--days", "1", "--seed", "5"]
    first = run(args, tmp_path)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["consumers"], summary["days"], summary["seed"], len(summary["stores"])) == (1500, 1, 5, 100)
    assert summary["ledger_spend_fen"] == summary["totals"]["spend_fen"]
    assert run(args, tmp_path).stdout == first.stdout
    calibrated = run([*args, "--calibration-report"], tmp_path)
    report = {m["metric"]: m for m in json.loads(calibrated.stdout)["calibration"]}
    assert {"feed_ad_ctr", "feed_ad_cpm_yuan", "ad_cpc_yuan", "comment_like_ratio", "users_under_30",
            "daily_users_who_search"} <= set(report)
    assert calibrated.returncode == (0 if all(m["passed"] for m in report.values()) else 1)
    table = run(["simulate", scenario, "--consumers", "500", "--days", "1", "--counterfactual", "channel=feed_ads off"],
                tmp_path)
    assert table.returncode == 0, table.stderr
    assert "AIPL:" in table.stdout
    assert "Counterfactual" in table.stdout


def test_a_bad_scenario_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("consumers = 5\n", encoding="utf-8")
    result = run(["simulate", str(bad)], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error [invalid_scenario]: consumers is 5")
    assert "Traceback" not in result.stderr


def test_creator_strategies_compare_planned_and_simulated(tmp_path: Path) -> None:
    scenario = tmp_path / "creators.toml"
    scenario.write_text("""seed = 5
consumers = 1500
days = 7
creators = 300
creator_notes = 900

[[brands]]
name = "小样美妆 Xiaoyang Beauty"
stores = 3
store_notes = 2

[brands.creator_programme]
budget_fen = 2_000_000
strategy = "any"
start_day = 1
publish_days = 4
evaluation_days = 2
min_authenticity = 50
""", encoding="utf-8")
    result = run(["creators", "compare", str(scenario), "--strategies", "kocs,any", "--json"], tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {r["strategy"]: r for r in json.loads(result.stdout)["strategies"]}
    assert set(rows) == {"kocs", "any"}
    assert 1 <= rows["kocs"]["picks"] <= 20
    assert rows["any"]["planned_cost_fen"] <= 2_000_000
    assert all(r["impressions"] > 0 and r["spend_fen"] > 0 for r in rows.values())
    refused = run(["creators", "compare", str(scenario), "--strategies", "celebrity"], tmp_path)
    assert refused.returncode != 0
    assert refused.stderr.startswith("error [invalid_plan]")


def test_simulate_help_names_every_shipped_scenario(tmp_path: Path) -> None:
    result = run(["simulate", "--help"], tmp_path, COLUMNS="300")
    assert result.returncode == 0, result.stderr
    assert all(name in result.stdout for name in sim.shipped())


def test_plan_runs_each_budget_level_on_the_same_consumers(tmp_path: Path) -> None:
    scenario = tmp_path / "small.toml"
    scenario.write_text("""seed = 5
consumers = 1500
days = 2
creators = 40
creator_notes = 120

[[brands]]
name = "小样美妆 Xiaoyang Beauty"
stores = 4
store_notes = 2
""", encoding="utf-8")
    result = run(["plan", str(scenario), "--json", "--budget-scales", "2,1"], tmp_path)  # a process per level
    assert result.returncode == 0, result.stderr
    one_by_one = run(["plan", str(scenario), "--json", "--budget-scales", "2,1", "--workers", "1"], tmp_path)
    assert one_by_one.stdout == result.stdout
    levels = json.loads(result.stdout)["levels"]
    assert [level["budget_scale"] for level in levels] == [1.0, 2.0]
    assert levels[1]["allocated_fen"] == pytest.approx(2 * levels[0]["allocated_fen"], rel=0.01)
    assert levels[1]["marginal_spend_fen"] == levels[1]["spend_fen"] - levels[0]["spend_fen"]
    assert all((tmp_path / "plan" / "simulations" / d).is_dir() for d in ("seed-5", "seed-5-budget-2x"))
    single = run(["simulate", str(scenario), "--json"], tmp_path)  # the 1x level is the scenario as it is
    assert json.loads(single.stdout)["totals"]["spend_fen"] == levels[0]["spend_fen"] > 0
    refused = run(["plan", str(scenario), "--budget-scales", "1,40"], tmp_path / "refused")
    assert refused.returncode == 2
    assert refused.stderr.startswith("error [invalid_plan]")
    assert not (tmp_path / "refused" / "plan").exists()  # nothing ran
