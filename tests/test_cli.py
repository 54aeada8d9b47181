"""The command line: the demo's KOB case, and errors as one readable line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "ZHONGCAO_HOME": str(home), **env}
    if "ZHONGCAO_DATABASE_URL" not in env:
        full.pop("ZHONGCAO_DATABASE_URL", None)
    return subprocess.run([sys.executable, "-m", "zhongcao", *args], capture_output=True, text=True, env=full,
                          timeout=300, check=False)


def test_demo_sets_up_a_funded_kob_network(tmp_path: Path) -> None:
    result = run(["demo", "--json", "--stores", "12", "--seed", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    demo = json.loads(result.stdout)
    assert len(demo["stores"]) == 12
    assert demo["ledger_balanced"] is True
    assert all(s["available_fen"] == s["allocated_fen"] > 0 for s in demo["stores"])
    assert demo["allocated_fen"] == sum(s["allocated_fen"] for s in demo["stores"])
    assert demo["brand_available_fen"] + demo["allocated_fen"] + demo["pool_balance_fen"] == demo["top_up_fen"]
    assert (tmp_path / "state.db").exists()
    again = json.loads(run(["demo", "--json", "--stores", "12", "--seed", "3"], tmp_path).stdout)
    assert [s["allocated_fen"] for s in again["stores"]] == [s["allocated_fen"] for s in demo["stores"]]


def test_demo_table_is_bilingual(tmp_path: Path) -> None:
    result = run(["demo", "--stores", "3"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert "门店 Store" in result.stdout
    assert "Ledger balanced" in result.stdout


def test_errors_are_one_line_without_traceback(tmp_path: Path) -> None:
    cases = [
        (["demo", "--stores", "0"], {}),
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
    scenario = Path(__file__).resolve().parents[1] / "scenarios" / "kob_100_stores.toml"
    args = ["simulate", str(scenario), "--json", "--consumers", "1500", "--days", "1", "--seed", "5"]
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
    table = run(["simulate", str(scenario), "--consumers", "500", "--days", "1"], tmp_path)
    assert table.returncode == 0, table.stderr
    assert "AIPL:" in table.stdout


def test_a_bad_scenario_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("consumers = 5\n", encoding="utf-8")
    result = run(["simulate", str(bad)], tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error [invalid_scenario]: consumers is 5")
    assert "Traceback" not in result.stderr
