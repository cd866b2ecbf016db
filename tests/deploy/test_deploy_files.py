"""deploy/ (issue 20): what can be tested of a deployment on this machine, without building containers.

The compose file parses and names every setting the app reads; the settings files agree with the
README; the image runs as a non-root user from pinned bases; its entrypoint migrates once even when
two replicas start together; the systemd units verify and start the app and the worker here.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from commissions.core.migrate import PROJECT_ROOT, head_revisions
from commissions.core.settings import Settings
from tests.conftest import BACKENDS, fresh_database_url

DEPLOY = PROJECT_ROOT / "deploy"
SETTINGS = {name.upper() for name in Settings.model_fields}
COMPOSE_ONLY = {"POSTGRES_PASSWORD", "APP_WORKERS", "WORKER_PROCESSES"}
BIN = Path(sys.executable).parent


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (DEPLOY / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            pairs[name.strip()] = value.strip()
    return pairs


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def one(match: re.Match[str]) -> str:
        name, op, arg = match.group(1), match.group(2), match.group(3) or ""
        if env.get(name):
            return env[name]
        if op == ":?":
            raise AssertionError(f"{name} is required: {arg}")
        return arg

    return re.sub(r"\$\{(\w+)(?:(:-|:\?)([^}]*))?\}", one, value)


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_compose_runs_app_worker_postgres_redis_and_migrates_once_first() -> None:
    services = compose()["services"]
    assert {"app", "worker", "postgres", "redis", "migrate"} <= set(services)
    for name in ("app", "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert services[name]["environment"]["MIGRATE_ON_START"] == "0"
    assert "--workers" in services["app"]["command"]
    assert "--no-recompute-worker" in services["app"]["command"]
    assert services["worker"]["command"][:2] == ["commissions", "worker"]
    for name in ("app", "postgres", "redis"):
        assert services[name]["healthcheck"]["test"]
    assert "/readyz" in " ".join(services["app"]["healthcheck"]["test"])
    for name in ("postgres", "redis"):  # pinned images, never :latest
        assert re.fullmatch(r"[a-z0-9]+:\d+\.\d+(\.\d+)?-[a-z]+", services[name]["image"]), services[name]["image"]
    assert {"quotaboard-data", "postgres-data"} <= set(compose()["volumes"])


def test_compose_names_every_setting_the_app_reads() -> None:
    for name in ("app", "worker", "migrate"):
        environment = compose()["services"][name]["environment"]
        assert set(environment) >= SETTINGS, SETTINGS - set(environment)


def test_env_example_and_readme_mirror_the_settings() -> None:
    example = env_example()
    assert set(example) - COMPOSE_ONLY == SETTINGS, (set(example) - COMPOSE_ONLY) ^ SETTINGS
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = set(re.findall(r"^\| `([A-Z_]+)`", readme, flags=re.MULTILINE))
    table |= {
        name
        for row in re.findall(r"^\| (`[A-Z_]+`(?:, `[A-Z_]+`)+) \|", readme, flags=re.MULTILINE)
        for name in re.findall(r"`([A-Z_]+)`", row)
    }
    assert table >= SETTINGS, SETTINGS - table


def test_the_compose_settings_with_the_example_values_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    environment = compose()["services"]["app"]["environment"]
    values = {name: interpolate(str(value), env_example()) for name, value in environment.items()}
    for name in SETTINGS:
        monkeypatch.setenv(name, values[name])
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.environment == "production"
    assert settings.database_url.startswith("postgresql+psycopg://quotaboard:")
    assert settings.redis_url == "redis://redis:6379/0"
    assert settings.allowed_hosts == ["pay.example.com"]
    with pytest.raises(AssertionError, match="SECRET_KEY is required"):
        interpolate(str(environment["SECRET_KEY"]), {})


def test_the_image_is_non_root_from_pinned_bases_with_htmx_installed_at_build() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    bases = re.findall(r"^FROM (\S+)", dockerfile, flags=re.MULTILINE)
    assert bases and all(re.fullmatch(r"[a-z]+:\d+\.\d+\.\d+-[a-z-]+", base) for base in bases), bases
    assert re.search(r"^USER quotaboard$", dockerfile, flags=re.MULTILINE)
    assert "npm ci" in dockerfile and "COPY --from=assets /build/node_modules" in dockerfile
    assert "ENTRYPOINT" in dockerfile and "HEALTHCHECK" in dockerfile and "/readyz" in dockerfile
    for copied in re.findall(r"^COPY (?!--from)(.+) \S+$", dockerfile, flags=re.MULTILINE):
        for path in copied.split():
            assert (PROJECT_ROOT / path).exists(), path


def test_the_proxy_examples_terminate_tls_and_forward_the_client_address() -> None:
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert "ssl_certificate" in nginx and "X-Forwarded-For" in nginx and "X-Forwarded-Proto" in nginx
    assert "proxy_buffering off" in nginx  # live leaderboards
    caddy = (DEPLOY / "Caddyfile").read_text()
    assert "reverse_proxy" in caddy and "FORWARDED_ALLOW_IPS" in caddy


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_entrypoint_migrates_once_when_two_replicas_start_together(backend: str, tmp_path: Path) -> None:
    url = fresh_database_url(backend, tmp_path, "replicas")
    env = {**os.environ, "DATABASE_URL": url, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    marker = tmp_path / "ran"
    command = ["sh", str(DEPLOY / "entrypoint.sh"), "sh", "-c", f"echo ran >> {marker}"]
    replicas = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)
    ]
    outcomes = [(r.wait(timeout=180), r.stderr.read() if r.stderr else "") for r in replicas]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert marker.read_text().count("ran") == 2  # each replica then ran its command
    from commissions.core.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalars().all() == sorted(
                head_revisions()
            )
    finally:
        engine.dispose()
    skipped = subprocess.run(
        command, env={**env, "MIGRATE_ON_START": "0", "DATABASE_URL": "sqlite:////nonexistent/x.db"}, timeout=60
    )
    assert skipped.returncode == 0  # MIGRATE_ON_START=0: straight to the command


def _unit(name: str, root: Path, data: Path, env_file: Path) -> str:
    text = (DEPLOY / "systemd" / name).read_text()
    return (
        text.replace("/opt/quotaboard/.venv/bin/", f"{BIN}/")
        .replace("/opt/quotaboard", str(root))
        .replace("/var/lib/quotaboard", str(data))
        .replace("/etc/quotaboard/quotaboard.env", str(env_file))
    )


def _directive(unit: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in unit.splitlines() if line.startswith(f"{key}=")]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_systemd_units_verify_and_start_the_app_and_the_worker_here(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    env_file = tmp_path / "quotaboard.env"
    env_file.write_text(f"DATA_DIR={data}\nENVIRONMENT=development\n")
    port = _free_port()
    units = {}
    for name in ("quotaboard.service", "quotaboard-worker.service"):
        text = _unit(name, PROJECT_ROOT, data, env_file).replace("--port 8000", f"--port {port}")
        (tmp_path / name).write_text(text)
        units[name] = text
        assert _directive(text, "User") == ["quotaboard"]  # never root
        assert _directive(text, "EnvironmentFile") == [str(env_file)]
    if shutil.which("systemd-analyze"):
        verified = subprocess.run(
            ["systemd-analyze", "verify", *(str(tmp_path / n) for n in units)], capture_output=True, text=True
        )
        problems = [line for line in verified.stderr.splitlines() if "quotaboard" in line and "User" not in line]
        assert not problems, verified.stderr
    env = {**os.environ}
    for line in env_file.read_text().splitlines():
        name, _, value = line.partition("=")
        env[name] = value
    for unit in units.values():
        for assignment in _directive(unit, "Environment"):
            name, _, value = assignment.partition("=")
            env[name] = value
    env.pop("DATABASE_URL", None)
    processes = []
    try:
        for unit in units.values():  # as systemd would: ExecStartPre to completion, then ExecStart
            for pre in _directive(unit, "ExecStartPre"):
                assert subprocess.run(pre.split(), env=env, cwd=PROJECT_ROOT, timeout=120).returncode == 0, pre
            processes.append(subprocess.Popen(_directive(unit, "ExecStart")[0].split(), env=env, cwd=PROJECT_ROOT))
        deadline = time.monotonic() + 60
        ready = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as response:
                    ready = response.status
                    break
            except OSError:
                time.sleep(0.5)
        assert ready == 200
        assert all(process.poll() is None for process in processes), "a unit's process exited"
        assert (data / "quotaboard.db").exists()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
