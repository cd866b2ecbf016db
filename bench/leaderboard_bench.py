"""Issue 5 benchmark: the leaderboard partial under concurrent load, beside a trivial route.

    .venv/bin/python bench/leaderboard_bench.py [--people 5000] [--connections 100] [--seconds 20]
                                                [--workers <CPUs>] [--db /tmp/org.db] [--team "Bench sales"]

Builds the 5,000-person organisation of bench/org.py in a fresh SQLite file (or reuses
``--db``), computes the quarter, starts `commissions run` (no recompute worker: nothing is
queued; ``--workers N`` processes share Redis at REDIS_URL, default the local one), signs in
as a rep, then runs wrk (Debian's `wrk`) with that session (and its CSRF cookie, as a
browser sends) against
`GET /leaderboard?period=2026-Q1` as an htmx request (the table partial that live updates
fetch) and against `GET /healthz` in the same server, and prints requests/s and the
latency percentiles wrk reports. ``--team NAME`` asks for one team's board (``&team=``), which looks the
team and the people under it up on every request (bench/org.py puts every seller in "Bench sales").
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import httpx
from sqlalchemy import update

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import database_url, drop_schema, free_port
from bench.org import analyze, build_org
from commissions.auth.passwords import hash_password
from commissions.calculation.service import recalc_period
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.models import Person

PASSWORD = "bench-password-1"


def wrk(url: str, cookie: str, *, connections: int, seconds: int, htmx: bool, threads: int = 2) -> dict[str, str]:
    # what a browser sends: its session and CSRF cookies, and the encodings it accepts
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--latency",
        "-H",
        f"Cookie: {cookie}",
        "-H",
        "Accept-Encoding: gzip, deflate, br",
    ]
    if htmx:
        command += ["-H", "HX-Request: true"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    figures = {"rps": re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)}
    for pct in ("50", "90", "99"):
        match = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+\w+)", out)
        figures[f"p{pct}"] = match.group(1) if match else "?"
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["errors"] = non2xx.group(1) if non2xx else "0"
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument(
        "--workers",
        type=int,
        default=os.cpu_count() or 1,
        help="app processes, one per CPU by default (more than one uses REDIS_URL)",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="wrk threads (on a small machine they take CPU from the server)"
    )
    parser.add_argument("--db", type=Path, help="reuse (or create) the organisation in this SQLite file")
    parser.add_argument("--team", default="", help="one team's board (e.g. 'Bench sales'), not the whole board")
    parser.add_argument("--database-url", help="PostgreSQL instead (a fresh schema, dropped afterwards)")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qb-lb-bench-"))
    db_file = args.db or tmp / "bench.db"
    url = database_url(tmp, args.database_url) if args.database_url else f"sqlite:///{db_file}"
    engine = make_engine(url)
    upgrade(engine=engine)
    with engine.connect() as conn:
        empty = conn.exec_driver_sql("SELECT 1 FROM person LIMIT 1").first() is None
    if empty:
        build_org(engine, people=args.people)
        recalc_period(engine, "2026-Q1")
        analyze(engine)  # the ledger just written: statistics as autovacuum would keep them
        with transaction(engine) as s:
            s.execute(
                update(Person).where(Person.email == "rep7@bench.test").values(password_hash=hash_password(PASSWORD))
            )
    engine.dispose()

    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp)}
    if args.workers > 1:
        env.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    log = open(tmp / "server.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "commissions.cli",
            "run",
            "--port",
            str(port),
            "--no-recompute-worker",
            "--workers",
            str(args.workers),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    board_path = "/leaderboard?period=2026-Q1" + (f"&team={quote(args.team)}" if args.team else "")
    try:
        client = httpx.Client(base_url=base, timeout=30)
        for _ in range(200):
            try:
                client.get("/healthz")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        client.get("/login")
        client.post(
            "/login",
            data={"email": "rep7@bench.test", "password": PASSWORD, "_csrf_token": client.cookies["csrftoken"]},
        )
        cookie = f"qb_session={client.cookies['qb_session']}; csrftoken={client.cookies['csrftoken']}"
        check = client.get(board_path, headers={"HX-Request": "true", "Accept-Encoding": "gzip"})
        assert check.status_code == 200, check.status_code
        rows = check.text.count("<tr")
        print(
            f"{args.people} people; leaderboard partial: {len(check.content):,} bytes, {rows} rows, "
            f"{check.headers['content-length']} bytes gzipped"
        )
        # warm-up, not measured: every worker process ranks the board and renders the table once
        wrk(
            f"{base}{board_path}",
            cookie,
            connections=args.connections,
            seconds=3,
            htmx=True,
            threads=args.threads,
        )
        board = wrk(
            f"{base}{board_path}",
            cookie,
            connections=args.connections,
            seconds=args.seconds,
            htmx=True,
            threads=args.threads,
        )
        trivial = wrk(
            f"{base}/healthz",
            cookie,
            connections=args.connections,
            seconds=args.seconds,
            htmx=False,
            threads=args.threads,
        )
        print(f"{'route':<28}{'req/s':>10}{'p50':>10}{'p90':>10}{'p99':>10}{'non-2xx':>9}")
        for name, f in (("leaderboard partial", board), ("/healthz (trivial)", trivial)):
            print(f"{name:<28}{f['rps']:>10}{f['p50']:>10}{f['p90']:>10}{f['p99']:>10}{f['errors']:>9}")
        if float(trivial["rps"]) > 0:
            print(f"leaderboard / trivial throughput: {float(board['rps']) / float(trivial['rps']):.2f}")
    finally:
        server.terminate()
        server.wait(30)
        if args.database_url:
            drop_schema(url)


if __name__ == "__main__":
    main()
