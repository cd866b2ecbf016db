"""Issue 14 benchmark: deal ingestion under 100 concurrent clients.

    .venv/bin/python bench/ingest_bench.py [--people 5000] [--clients 100] [--seconds 20] [--workers 1]
    .venv/bin/python bench/ingest_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test --workers 2

Builds the synthetic organisation of bench/org.py (a fresh SQLite file, or a fresh schema in
the PostgreSQL database given), computes the quarter once, starts `commissions run` and lets
``--clients`` clients (wrk connections, bench/ingest.lua) post new deals through
`POST /api/v1/deals` as fast as the server answers, for ``--seconds``: deals for random reps
(a CRM integration's token), 10 % of them split with another rep. It reports every request's latency
(median, p95, p99, max), deals per second, the status codes, and then how long the recompute
worker took to bring every statement up to date. At the end it checks that every deal
landed and that, once nothing is pending, a fresh calculation equals the stored ledger for a
sample of the people the deals credited (``commissions recalc --check``'s comparison).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlmodel import Session

from bench.harness import database_url, drop_schema, server
from bench.org import analyze, build_org
from commissions.auth.tokens import create_token
from commissions.calculation.service import recalc_period
from commissions.calculation.state import pending_count
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade

PERIOD = "2026-Q1"


def load(base: str, token: str, reps: int, clients: int, seconds: float, seed: int, threads: int) -> dict[str, float]:
    """wrk (Debian's package: a C client, so the load costs the 2-core machine little) with bench/ingest.lua."""
    script = Path(__file__).with_name("ingest.lua")
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{int(seconds)}s",
        "--timeout",
        "60s",
        "-s",
        str(script),
        base,
        "--",
        token,
        str(reps),
        str(seed),
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    return {key: float(value) for key, value in (part.split("=") for part in line.split()[1:])}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--deals-per-rep", type=int, default=10)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--workers", type=int, default=1, help="server processes (more than one share Redis)")
    parser.add_argument("--database-url")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--no-worker",
        action="store_true",
        help="no recompute worker during the load (to see what it costs); run once after it",
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qb-ingest-"))
    url = database_url(tmp, args.database_url)
    if args.workers > 1:
        os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    engine = make_engine(url)
    try:
        upgrade(engine=engine)
        t = time.perf_counter()
        org = build_org(engine, people=args.people, deals_per_rep=args.deals_per_rep)
        print(f"org: {args.people} people, {org['deals']} deals in {time.perf_counter() - t:.1f}s")
        t = time.perf_counter()
        report = recalc_period(engine, PERIOD)
        analyze(engine)  # the ledger just written: statistics as autovacuum would keep them
        print(f"initial recalc: {report.computed} statements in {time.perf_counter() - t:.1f}s")
        with transaction(engine) as s:
            _, token = create_token(s, name="crm", role="admin", person=None, created_by=None)
        reps = len(org["reps"])

        with server(url, tmp, workers=args.workers, recompute_worker=not args.no_worker) as base:
            figures = load(base, token, reps, args.clients, args.seconds, args.seed, args.threads)
            failed = int(
                figures["connect"] + figures["read"] + figures["write"] + figures["status"] + figures["timeout"]
            )
            ok = int(figures["requests"]) - failed
            print(
                f"{args.clients} clients, {figures['seconds']:.1f}s, {args.workers} server process(es), "
                f"{engine.dialect.name}: {int(figures['requests'])} requests, "
                f"{ok / figures['seconds']:,.0f} deals/s, {failed} failed (non-2xx, errors, timeouts)"
            )
            print(
                f"latency ms: median {figures['p50']:.0f}, p95 {figures['p95']:.0f}, "
                f"p99 {figures['p99']:.0f}, max {figures['max']:.0f}"
            )
            t1 = time.perf_counter()
            if args.no_worker:
                from commissions.calculation.queue import drain

                drain(engine)
            while True:
                with Session(engine) as pending_session:
                    left = pending_count(pending_session)
                if not left:
                    break
                if time.perf_counter() - t1 > 600:
                    print(f"worker: {left} statements still pending after 600 s")
                    break
                time.sleep(0.2)
            print(f"worker: every statement up to date {time.perf_counter() - t1:.1f}s after the load ended")

        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM deal WHERE external_id LIKE 'L-%'")).scalar()
        print(f"deals stored: {stored} of {ok} answered 2xx")
        from commissions.calculation.check import check_period

        t = time.perf_counter()
        check = check_period(engine, PERIOD)
        print(f"recalc --check: {len(check.differences)} differences in {time.perf_counter() - t:.1f}s")
    finally:
        engine.dispose()
        drop_schema(url)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
