"""What the app benchmarks share: a free port, percentiles, a fresh database, a running server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text

from commissions.core.db import make_engine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def database_url(tmp: Path, given: str | None) -> str:
    """``given`` (a PostgreSQL URL gets a fresh schema of its own, dropped by ``drop_schema``) or a SQLite file."""
    if not given:
        return f"sqlite:///{tmp / 'bench.db'}"
    if not given.startswith("postgresql"):
        return given
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with make_engine(given).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in given else "?"
    return f"{given}{separator}options=-csearch_path%3D{schema}"


def drop_schema(url: str) -> None:
    if "search_path%3D" not in url:
        return
    schema = url.rsplit("search_path%3D", 1)[1]
    base = url.split("?", 1)[0]
    engine = make_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


def listeners(port: int) -> int:
    """How many sockets listen on ``port`` (Linux: /proc/net/tcp*, state 0A)."""
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if fields[1].endswith(f":{port:04X}") and fields[3] == "0A":
                count += 1
    return count


def wait_for_listeners(port: int, workers: int, timeout: float = 60) -> None:
    """Wait until every server process listens: each opens its own socket (SO_REUSEPORT) once started, and
    clients that connect before the last one does all land on the first (a load run then measures one
    process, whatever ``--workers`` says)."""
    if not Path("/proc/net/tcp").exists():
        time.sleep(5)
        return
    deadline = time.monotonic() + timeout
    while listeners(port) < workers and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(0.5)  # the last one's application start-up


@contextmanager
def server(url: str, tmp: Path, *, workers: int = 1, recompute_worker: bool = True) -> Iterator[str]:
    """``commissions run`` on a free port against ``url``; yields its base URL once it answers."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp)}
    log = open(tmp / "server.log", "w")  # noqa: SIM115
    print(f"server log: {tmp / 'server.log'}")
    command = [sys.executable, "-m", "commissions.cli", "run", "--port", str(port), "--workers", str(workers)]
    if not recompute_worker:
        command.append("--no-recompute-worker")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/login", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        wait_for_listeners(port, workers)
        yield base
    finally:
        process.terminate()
        process.wait(15)
        log.close()
