"""Issue 4 benchmark: from POST /api/v1/deals to the updated statement being readable, and bulk import.

    .venv/bin/python bench/app_bench.py [--people 5000] [--deals 1000] [--import-rows 20000]

Builds a synthetic organisation (bench/org.py) in a fresh SQLite file (or
--database-url), computes the quarter once, starts `commissions run` on a free
port, then, one at a time, posts deals for random reps and reads the owner's
statement back, timing each pair; finally imports a CSV of new deals through
POST /api/v1/deals/import and reports deals per second. Figures go to stdout;
copy them to docs/benchmarks.md.

It measures a running app, not one starting up after a bulk load: on PostgreSQL the load's WAL is
flushed by a CHECKPOINT before the server starts (else the checkpoint that the load's gigabyte of WAL
sets off ran during the timed deals, its sync pausing commits), the server is left ``--settle`` seconds
to start its worker processes (their start-up, imports and caches, ran beside the first timed deals),
and ``--warmup`` deals are posted and read back untimed (the web process's caches). Session 18 added
these; ``--settle 0 --warmup 0`` measures as before.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlmodel import Session

from bench.harness import database_url, drop_schema, free_port, pct
from bench.org import analyze, build_org
from commissions.auth.tokens import create_token
from commissions.calculation.service import recalc_period
from commissions.calculation.state import pending_count
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.people.service import create_person


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--deals-per-rep", type=int, default=10)
    parser.add_argument("--deals", type=int, default=1000)
    parser.add_argument("--import-rows", type=int, default=20000)
    parser.add_argument("--database-url")
    parser.add_argument("--no-worker", action="store_true", help="run without the recompute worker (to compare)")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds between the server answering and the first timed deal (its worker processes start meanwhile)",
    )
    parser.add_argument(
        "--warmup", type=int, default=20, help="deals posted and read back before the timed ones (caches loaded)"
    )
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qb-bench-"))
    url = database_url(tmp, args.database_url)  # PostgreSQL: a fresh schema of its own, dropped at the end
    engine = make_engine(url)
    upgrade(engine=engine)
    t = time.perf_counter()
    org = build_org(engine, people=args.people, deals_per_rep=args.deals_per_rep)
    print(f"org: {args.people} people, {org['deals']} deals in {time.perf_counter() - t:.1f}s")
    t = time.perf_counter()
    report = recalc_period(engine, "2026-Q1")
    analyze(engine)  # the ledger just written: statistics as autovacuum would keep them
    print(f"initial recalc: {report.computed} statements in {time.perf_counter() - t:.1f}s")
    with transaction(engine) as s:
        _, token = create_token(s, name="bench", role="admin", person=None, created_by=None)
        finance = create_person(s, email="bench-finance@bench.test", role="finance", name="Bench Finance")
        _, reader = create_token(s, name="bench-reader", role="finance", person=finance, created_by=None)
    if engine.dialect.name == "postgresql":  # the load's gigabyte of WAL flushed now, not during the timed deals
        with engine.connect() as conn:
            conn.exec_driver_sql("CHECKPOINT")
    engine.dispose()

    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp)}
    log = open(tmp / "server.log", "w")  # noqa: SIM115
    print(f"server log: {tmp / 'server.log'}")
    command = [sys.executable, "-m", "commissions.cli", "run", "--port", str(port)]
    if args.no_worker:
        command.append("--no-recompute-worker")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        client = httpx.Client(base_url=base, timeout=60)
        for _ in range(200):
            try:
                client.get("/login")
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        time.sleep(args.settle)
        rng = random.Random(1)
        reps = org["reps"]
        post_ms, total_ms = [], []
        for i in range(-args.warmup, args.deals):
            rep = rng.choice(reps)
            email = f"rep{reps.index(rep)}@bench.test"
            body = {
                "external_id": f"N-{i}",
                "name": f"New {i}",
                "owner": email,
                "amount": str(rng.randrange(5000, 90000)),
                "currency": "USD",
                "closed_at": "2026-02-15",
                "type": "new",
                "product": "Pro",
                "term_months": 24,
            }
            t0 = time.perf_counter()
            r = client.post("/api/v1/deals", json=body, headers={"Authorization": f"Bearer {token}"})
            t1 = time.perf_counter()
            assert r.status_code == 201, r.text
            st = client.get(f"/api/v1/statements/{email}?period=2026-Q1", headers={"Authorization": f"Bearer {reader}"})
            t2 = time.perf_counter()
            assert st.status_code == 200 and any(
                line["deal"] == f"N-{i}" for c in st.json()["components"] for line in c["lines"]
            ), st.text[:300]
            if i >= 0:  # a warm-up deal (negative i) is not timed
                post_ms.append((t1 - t0) * 1000)
                total_ms.append((t2 - t0) * 1000)
        print(
            f"POST deal (recompute included): median {statistics.median(post_ms):.1f} ms, p95 {pct(post_ms, 0.95):.1f} ms"
        )
        print(
            f"POST + statement readable:     median {statistics.median(total_ms):.1f} ms, p95 {pct(total_ms, 0.95):.1f} ms"
            f" over {args.deals} deals"
        )

        if args.import_rows:
            lines = [
                "external_id,name,account,owner,amount,currency,closed_at,type,product,term_months,source_campaign,status,cancelled_at,splits"
            ]
            for k in range(args.import_rows):
                rep_email = f"rep{rng.randrange(len(reps))}@bench.test"
                lines.append(
                    f"I-{k},Import {k},Acct,{rep_email},{rng.randrange(5000, 90000)},USD,2026-03-{1 + k % 28:02d},new,Pro,12,,won,,"
                )
            csv = ("\n".join(lines) + "\n").encode()
            t0 = time.perf_counter()
            r = client.post(
                "/api/v1/deals/import",
                content=csv,
                headers={"Authorization": f"Bearer {token}", "content-type": "text/csv"},
            )
            dt = time.perf_counter() - t0
            assert r.status_code == 200 and r.json()["created"] == args.import_rows, r.text[:500]
            queued = r.json()["statements_queued"]
            print(
                f"bulk import: {args.import_rows} deals in {dt:.2f}s = {args.import_rows / dt:,.0f} deals/s "
                f"(validation, storage, audit; {queued} statements queued for the worker)"
            )
            if not args.no_worker:
                probe = make_engine(url)
                t0 = time.perf_counter()
                while True:
                    with Session(probe) as pending_session:
                        left = pending_count(pending_session)
                    if not left:
                        break
                    time.sleep(0.2)
                print(f"worker: every statement the import touched recomputed {time.perf_counter() - t0:.1f}s later")
    finally:
        server.terminate()
        server.wait(30)
        drop_schema(url)


if __name__ == "__main__":
    main()
