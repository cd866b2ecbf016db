"""The console command: users and tokens from the shell, never echoing a password."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "DATA_DIR": str(tmp_path)}


def run(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "commissions.cli", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_user_add_and_token_create(cli_env: dict[str, str]) -> None:
    assert run(cli_env, "db", "upgrade").returncode == 0
    secret = "Stdin-Password-2026"
    added = run(
        cli_env,
        "user",
        "add",
        "Root@Example.com",
        "--role",
        "admin",
        "--name",
        "Root",
        "--password-stdin",
        stdin=secret + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert "root@example.com" in added.stdout
    assert secret not in added.stdout + added.stderr

    rep = run(cli_env, "user", "add", "ana@example.com", "--role", "rep", "--manager", "root@example.com")
    assert rep.returncode == 0 and "Initial password (shown once):" in rep.stdout

    empty = run(cli_env, "user", "add", "cy@example.com", "--role", "rep", "--password-stdin", stdin="")
    assert empty.returncode == 2 and "no password on standard input" in empty.stderr
    assert (
        run(cli_env, "user", "add", "cy@example.com", "--role", "rep", "--password-stdin", stdin="\n").returncode == 2
    )

    duplicate = run(cli_env, "user", "add", "ana@example.com", "--role", "rep", "--password-stdin", stdin="x" * 12)
    assert duplicate.returncode == 1 and "already exists" in duplicate.stderr

    unknown_manager = run(cli_env, "user", "add", "bo@example.com", "--role", "rep", "--manager", "ghost@example.com")
    assert unknown_manager.returncode == 1 and "ghost@example.com" in unknown_manager.stderr

    token = run(cli_env, "token", "create", "--name", "crm", "--role", "rep", "--as", "ana@example.com")
    assert token.returncode == 0 and token.stdout.strip().startswith("qb_")
    bad = run(cli_env, "token", "create", "--name", "crm", "--role", "rep", "--as", "nobody@example.com")
    assert bad.returncode == 1 and "nobody@example.com" in bad.stderr


def test_the_command_line_imports_only_what_a_command_needs() -> None:
    """`commissions calc` needs neither the web app nor the ORM: importing the command line loads none of them
    and hashes no password (issue 16: 850 modules and 1.2 s before `calc` read its first file)."""
    probe = (
        "import sys, commissions.cli; "
        "print(sorted(m for m in ('litestar', 'sqlalchemy', 'sqlmodel', 'pwdlib', 'leaderboard', 'granian') "
        "if m in sys.modules))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_run_refuses_a_port_another_server_listens_on() -> None:
    """granian binds with SO_REUSEPORT: a second `commissions run` on a taken port started silently and the two
    servers shared its requests. It now says so and exits 1, before touching any database."""
    import socket

    from click.testing import CliRunner

    from commissions.cli import main

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as granian binds
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(main, ["run", "--port", str(port), "--no-recompute-worker"])
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr
