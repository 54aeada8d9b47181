"""The layering in ARCHITECTURE.md stays true: imports point down, and only through facades."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "zhongcao"
SLICES = ["core", "accounts", "billing", "events", "content", "commerce", "ads", "market", "sim"]
DRIVERS = {"api", "cli", "migrations"}


def imports_of(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
            out.extend(f"{node.module}.{a.name}" for a in node.names if node.module == "zhongcao")
        elif isinstance(node, ast.Import):
            out.extend(a.name for a in node.names)
    return [m for m in out if m.startswith("zhongcao.")]


def test_slices_import_other_slices_only_through_their_facade() -> None:
    offenders = []
    for path in SRC.rglob("*.py"):
        own = path.relative_to(SRC).parts[0]
        if own in DRIVERS and path.parent.name != "versions":
            continue  # drivers and migrations may reach into tables (migrations must)
        for module in imports_of(path):
            parts = module.split(".")
            target = parts[1]
            if target != own and len(parts) > 2:
                offenders.append(f"{path.relative_to(SRC)} imports {module}")
    assert offenders == []


def test_lower_slices_never_import_higher_ones() -> None:
    order = {name: i for i, name in enumerate(SLICES)}
    offenders = []
    for path in SRC.rglob("*.py"):
        own = path.relative_to(SRC).parts[0]
        if own not in order:
            continue
        for module in imports_of(path):
            target = module.split(".")[1]
            if target in DRIVERS or order.get(target, -1) > order[own]:
                offenders.append(f"{path.relative_to(SRC)} imports {module}")
    assert offenders == []


LINT_IMPORTS = shutil.which("lint-imports") or str(Path(sys.executable).with_name("lint-imports"))


@pytest.mark.skipif(not Path(LINT_IMPORTS).exists(), reason="import-linter is not installed")
def test_import_linter_contract_holds() -> None:
    exe = LINT_IMPORTS
    result = subprocess.run([exe], capture_output=True, text=True, cwd=SRC.parents[1], check=False)
    assert result.returncode == 0, result.stdout + result.stderr
