"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml pass, and would fail on
an upward import (counting imports inside functions too)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def run_lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(where)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=where, env=env, capture_output=True, text=True, timeout=300
    )


def copy_of_the_project(tmp_path: Path) -> Path:
    for package in ("commissions", "leaderboard"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "static"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_layer_contracts_are_kept() -> None:
    result = run_lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_an_upward_import_inside_a_function_breaks_the_layers(tmp_path: Path) -> None:
    project = copy_of_the_project(tmp_path)
    money = project / "commissions" / "core" / "money.py"
    money.write_text(
        money.read_text() + "\n\ndef _sneaky() -> None:\n    from commissions.deals import service  # noqa: F401\n"
    )
    result = run_lint_imports(project)
    assert result.returncode != 0
    assert "commissions.core.money -> commissions.deals.service" in result.stdout


def test_commissions_importing_the_leaderboard_breaks_a_contract(tmp_path: Path) -> None:
    project = copy_of_the_project(tmp_path)
    demo = project / "commissions" / "demo.py"
    demo.write_text(demo.read_text() + "\n\nimport leaderboard.contests  # noqa: E402, F401\n")
    result = run_lint_imports(project)
    assert result.returncode != 0
    assert "commissions never imports leaderboard" in result.stdout and "BROKEN" in result.stdout
