"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml pass, and would fail on
an upward import (counting imports inside functions too)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
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


# --- thin controllers: routes parse, call one service or query function, render -------------------------------

ROUTE_MODULES = sorted(
    path
    for package in ("commissions", "leaderboard")
    for pattern in ("**/pages.py", "**/api.py", "**/*controller*.py", "app/home.py", "app/team.py")
    for path in (ROOT / package).glob(pattern)
)
#: Calls that mean a route module runs its own queries or transactions.
DATABASE_CALLS = frozenset(
    {"select", "exec", "execute", "scalar", "scalars", "get", "transaction", "snapshot", "write"}
)
SESSION_NAMES = frozenset({"db", "session", "s"})


def database_calls(path: Path) -> list[str]:
    import ast

    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call):
            continue
        function = node.func
        if isinstance(function, ast.Name) and function.id in {"select", "transaction", "snapshot", "write"}:
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {function.id}(...)")
        elif (
            isinstance(function, ast.Attribute)
            and function.attr in DATABASE_CALLS
            and isinstance(function.value, ast.Name)
            and function.value.id in SESSION_NAMES
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {function.value.id}.{function.attr}(...)")
    return found


def test_route_modules_do_not_query_or_open_transactions() -> None:
    """Every query and transaction lives in a service or queries module, where it can be reused and tested."""
    assert ROUTE_MODULES, "no route modules found"
    offenders = [call for path in ROUTE_MODULES for call in database_calls(path)]
    assert not offenders, "\n".join(offenders)
