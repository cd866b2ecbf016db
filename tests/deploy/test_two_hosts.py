"""Many hosts (issue 20): two app processes on different ports share PostgreSQL and Redis.

Real processes (``commissions run``), not two apps in one interpreter: a session started on one
is honoured by the other, the sign-in limits count failures on both, a deal recorded on one
reaches the live streams of the other, and of two recompute workers one computes while the
other stands by and takes over when the first stops; the ledger then equals a fresh calculation.
"""

from __future__ import annotations

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from commissions.calculation.check import check_period
from commissions.calculation.state import pending_in
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import PROJECT_ROOT, upgrade
from commissions.people.service import create_person
from tests.conftest import PASSWORD, SKIP_POSTGRES, postgres_schema_url, read
from tests.finance_fixtures import example_deal, setup_books

pytestmark = pytest.mark.skipif(SKIP_POSTGRES, reason="many hosts share PostgreSQL")
REDIS_URL = os.environ.get("QUOTABOARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
Q1 = "2026-Q1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, "the app process exited"
        try:
            if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} never became ready")


class Hosts:
    def __init__(self, url: str, engine: Engine, tmp_path: Path) -> None:
        self.url, self.engine, self.tmp_path = url, engine, tmp_path
        self.processes: list[subprocess.Popen[str]] = []

    def env(self, name: str) -> dict[str, str]:
        data = self.tmp_path / name
        data.mkdir(exist_ok=True)
        return {
            **os.environ,
            "DATABASE_URL": self.url,
            "REDIS_URL": REDIS_URL,
            "DATA_DIR": str(data),
            "ENVIRONMENT": "development",
            "LOGIN_MAX_FAILURES_PER_ACCOUNT": "4",
            "PERIOD_WINDOW_YEARS_BACK": "5",
        }

    def app(self, name: str) -> str:
        port = _free_port()
        command = [sys.executable, "-m", "commissions.cli", "run", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", "1", "--no-recompute-worker"]
        process = subprocess.Popen(command, env=self.env(name), cwd=PROJECT_ROOT, text=True)
        self.processes.append(process)
        base = f"http://127.0.0.1:{port}"
        _wait_ready(base, process)
        return base

    def worker(self, name: str) -> tuple[subprocess.Popen[str], list[str]]:
        """A worker process and its log lines as they come."""
        command = [sys.executable, "-m", "commissions.cli", "worker", "--processes", "1", "--poll-seconds", "0.2"]
        process = subprocess.Popen(
            command, env=self.env(name), cwd=PROJECT_ROOT, text=True, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
        )
        self.processes.append(process)
        lines: list[str] = []

        def collect() -> None:
            for line in process.stderr or ():
                lines.append(line)

        threading.Thread(target=collect, daemon=True).start()
        return process, lines

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[Hosts]:
    url = postgres_schema_url(f"qb_hosts_{os.getpid()}")
    engine = make_engine(url)
    upgrade(engine=engine)
    running = Hosts(url, engine, tmp_path)
    try:
        yield running
    finally:
        running.stop()
        engine.dispose()


def _make_person(engine: Engine):  # type: ignore[no-untyped-def]
    def make(email: str, role: str = "rep", *, manager: str | None = None, team: str | None = None) -> object:
        with transaction(engine) as session:
            return create_person(
                session,
                email=email,
                role=role,
                name=email.split("@")[0].title(),
                manager_email=manager,
                team_name=team,
                password=PASSWORD,
            )

    return make


def _sign_in(base: str, email: str, password: str = PASSWORD) -> httpx.Response:
    with httpx.Client(base_url=base) as client:
        client.get("/login")
        return client.post(
            "/login",
            data={"email": email, "password": password, "_csrf_token": client.cookies["csrftoken"]},
            follow_redirects=False,
        )


def _cookie_header(response: httpx.Response) -> str:
    return "; ".join(f"{k}={v}" for k, v in response.cookies.items())


def test_two_app_processes_share_sessions_limits_live_updates_and_the_worker(hosts: Hosts) -> None:
    tokens = setup_books(hosts.engine, _make_person(hosts.engine))
    a, b = hosts.app("host-a"), hosts.app("host-b")

    # a session started on A is honoured by B (sessions live in Redis)
    signed = _sign_in(a, "mia@example.com")
    assert signed.status_code in (302, 303)
    cookies = _cookie_header(signed)
    home = httpx.get(f"{b}/", headers={"Cookie": cookies}, follow_redirects=False)
    assert home.status_code == 200, home.status_code
    assert httpx.get(f"{b}/", follow_redirects=False).status_code in (302, 303)  # without it: sign in

    # the sign-in limits count failures made on either process
    statuses = [_sign_in(base, "bo@example.com", "wrong password").status_code for base in (a, b, a, b)]
    assert statuses[:3] == [401, 401, 401]
    assert _sign_in(b, "bo@example.com", PASSWORD).status_code == 429  # locked, even with the right password
    assert _sign_in(a, "bo@example.com", PASSWORD).status_code == 429

    # a deal recorded on A reaches a live stream open on B
    events: queue.Queue[str] = queue.Queue()
    subscribed = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{b}/leaderboard/stream", headers={"Cookie": cookies}, timeout=30) as stream:
            for line in stream.iter_lines():
                if "subscribed" in line:
                    subscribed.set()
                if line.startswith("event:"):
                    events.put(line.split(":", 1)[1].strip())
                    return

    threading.Thread(target=listen, daemon=True).start()
    assert subscribed.wait(15), "the stream on B never started"
    body = example_deal("HOSTS-1", "30000", "2026-02-10", owner="ana@example.com")
    assert httpx.post(f"{a}/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201
    assert events.get(timeout=15) in ("payouts", "deal")

    # two workers: one computes, the other stands by, and takes over when the first stops
    first, first_log = hosts.worker("host-a")
    _wait_for(first_log, r"recomputed \d+ statement")  # it holds the lock and has drained what was queued
    _, second_log = hosts.worker("host-b")
    _wait_for(second_log, "standing by")
    assert _drained(hosts.engine)
    first.terminate()
    first.wait(15)
    _wait_for(second_log, "taken over")
    assert not any(
        re.search(r"recomputed \d+ statement", line) for line in second_log[: _index(second_log, "taken over")]
    )
    assert (
        httpx.post(
            f"{b}/api/v1/deals",
            json=example_deal("HOSTS-2", "41000", "2026-02-11", owner="bo@example.com"),
            headers=tokens["crm"],
        ).status_code
        == 201
    )
    assert _drained(hosts.engine), "the standby never computed after taking over"
    assert check_period(hosts.engine, Q1).differences == []


def _wait_for(lines: list[str], pattern: str, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if any(re.search(pattern, line) for line in list(lines)):
            return
        time.sleep(0.2)
    raise AssertionError(f"no {pattern!r} in {lines}")


def _index(lines: list[str], text: str) -> int:
    return next(i for i, line in enumerate(lines) if text in line)


def _drained(engine: Engine, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while read(engine, lambda s: pending_in(s, Q1)) and time.monotonic() < deadline:
        time.sleep(0.3)
    return not read(engine, lambda s: pending_in(s, Q1))
