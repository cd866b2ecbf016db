"""The scaling table (issue 16): recalculation and the pages that grow with an organisation, against floors.

    python bench/scale_bench.py --deals 300000                     # SQLite, 5,000 people
    python bench/scale_bench.py --deals 48000 --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/scale_bench.py --db /tmp/org300k.db --keep         # reuse a database built before

Builds the organisation of ``bench/org.py`` (a CRO, 10 VPs, 100 managers, reps and marketers;
deals spread over the reps), then:

- **recalc**: ``commissions recalc`` of the quarter in a fresh process, the first time and again
  with nothing changed; wall time and peak RSS. Floors: reading the deals and the ledger's lines
  sorted by id, and summing the lines per person in SQL.
- **pages**: starts ``commissions run`` (no recompute worker) and times each page and API answer
  that grows with the organisation, ``--runs`` rounds interleaved, as finance, the CRO, a
  manager and a rep: the median and the size of the answer. Floor: ``/healthz``.

Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from sqlalchemy import text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import database_url, drop_schema, server  # noqa: E402
from bench.org import analyze, build_org  # noqa: E402
from commissions.core.db import make_engine, transaction  # noqa: E402
from commissions.core.migrate import upgrade  # noqa: E402

PERIOD = "2026-Q1"


def child(code: str, url: str) -> tuple[float, float]:
    """Run ``code`` in a fresh interpreter against ``url``: (wall seconds, peak RSS in MiB)."""
    env = {**os.environ, "DATABASE_URL": url}
    code += (  # the biggest process: this one or one it forked (a recalculation's)
        "import resource\nprint('peak', max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))\n"
    )
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"child failed: {done.stderr[-3000:]}")
    peak = int(done.stdout.rsplit("peak ", 1)[1])  # KiB on Linux
    return wall, peak / 1024


def recalc_code(processes: int) -> str:
    """``commissions recalc`` of the quarter (its default: two processes sharing the inputs read once)."""
    return (
        "from commissions.core.db import get_engine\n"
        "from commissions.calculation.service import recalc_period\n"
        f"print(recalc_period(get_engine(), {PERIOD!r}, trigger='scale bench', processes={processes}).computed)\n"
    )


FLOOR_READ = (
    "from sqlalchemy import text\n"
    "from commissions.core.db import get_engine\n"
    "with get_engine().connect() as c:\n"
    "    n = sum(1 for _ in c.execute(text('SELECT * FROM deal ORDER BY id')))\n"
    "    n += sum(1 for _ in c.execute(text('SELECT id, person_id, component, kind, deal_id, amount_minor, "
    "plan_version_id FROM payout_line ORDER BY id')))\n"
    "    s = c.execute(text('SELECT person_id, SUM(amount_minor) FROM payout_line GROUP BY person_id')).all()\n"
    "print(n, len(s))\n"
)


def pages(
    base: str, tokens: dict[str, str], cookies: dict[str, httpx.Cookies], runs: int
) -> dict[str, tuple[float, int]]:
    manager = "mgr0.0@bench.test"
    routes: list[tuple[str, str, str]] = [  # (label, who, path)
        ("floor: /healthz", "finance", "/healthz"),
        ("finance period page", "finance-web", f"/finance/periods/{PERIOD}"),
        ("period API", "finance", f"/api/v1/periods/{PERIOD}"),
        ("finance dashboard", "finance-web", f"/finance?period={PERIOD}"),
        ("payroll CSV", "finance", f"/api/v1/payouts/{PERIOD}.csv"),
        ("payroll XLSX", "finance", f"/api/v1/payouts/{PERIOD}.xlsx"),
        ("leaderboard page", "rep-web", f"/leaderboard?period={PERIOD}"),
        ("leaderboard API", "finance", f"/api/v1/leaderboard?period={PERIOD}"),
        ("CRO statement page", "cro-web", f"/statements/cro@bench.test?period={PERIOD}"),
        ("CRO statement API, 100 lines", "finance", f"/api/v1/statements/cro@bench.test?period={PERIOD}&limit=100"),
        ("manager statement page", "finance-web", f"/statements/{manager}?period={PERIOD}"),
        ("rep statement page", "rep-web", f"/statements/rep0@bench.test?period={PERIOD}"),
        ("deals API, 100", "finance", f"/api/v1/deals?period={PERIOD}&limit=100"),
    ]
    times: dict[str, list[float]] = {label: [] for label, _, _ in routes}
    sizes: dict[str, int] = {}
    with httpx.Client(base_url=base, timeout=600) as client:
        for _ in range(runs):
            for label, who, path in routes:
                if who.endswith("-web"):
                    client.cookies = cookies[who]
                    headers = {}
                else:
                    client.cookies = httpx.Cookies()
                    headers = {"Authorization": f"Bearer {tokens[who]}"}
                start = time.perf_counter()
                answer = client.get(path, headers=headers)
                times[label].append(time.perf_counter() - start)
                if answer.status_code != 200:
                    print(f"  {label}: {answer.status_code} {answer.text[:200]}")
                sizes[label] = len(answer.content)
    return {label: (statistics.median(values), sizes[label]) for label, values in times.items()}


def sign_in(base: str, email: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, timeout=60) as client:
        form = client.get("/login")
        token = client.cookies.get("csrftoken") or ""
        answer = client.post(
            "/login", data={"email": email, "password": "bench-password", "_csrf_token": token}, headers={}
        )
        if answer.status_code not in (302, 303):
            raise SystemExit(f"sign-in as {email} failed: {answer.status_code} {form.status_code}")
        return client.cookies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--deals", type=int, default=48000, help="deals in the quarter (spread over the reps)")
    parser.add_argument("--database-url", help="PostgreSQL (a fresh schema) instead of a SQLite file")
    parser.add_argument("--db", type=Path, help="a SQLite file to build into, or to reuse when it exists")
    parser.add_argument("--keep", action="store_true", help="keep the database (PostgreSQL schema) afterwards")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-recalc", action="store_true", help="pages only (the ledger must exist)")
    parser.add_argument("--recalc-processes", type=int, default=2, help="as `commissions recalc --processes`")
    options = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="qb-scale-"))
    if options.db:
        url = f"sqlite:///{options.db}"
        reuse = options.db.exists()
    else:
        url, reuse = database_url(tmp, options.database_url), False
    print(f"load before: {os.getloadavg()[0]:.2f} (2 cores)")
    engine = make_engine(url)
    try:
        if not reuse:
            upgrade(engine=engine)
            start = time.perf_counter()
            reps = options.people - 1 - 10 - 100 - max(1, options.people // 60)
            org = build_org(engine, people=options.people, deals_per_rep=max(1, round(options.deals / reps)))
            print(f"org: {options.people} people, {org['deals']} deals in {time.perf_counter() - start:.0f} s")
            _accounts(engine)
        results: list[tuple[str, str, str]] = []
        if not options.skip_recalc:
            for label in ("recalc, first" if not reuse else "recalc", "recalc, nothing changed"):
                wall, peak = child(recalc_code(options.recalc_processes), url)
                analyze(engine)
                results.append((label, f"{wall:.1f} s", f"{peak:.0f} MiB"))
                print(f"{label}: {wall:.1f} s, peak {peak:.0f} MiB")
        with engine.connect() as conn:
            lines = conn.execute(text("SELECT count(*) FROM payout_line")).scalar()
            deals = conn.execute(text("SELECT count(*) FROM deal")).scalar()
        wall, peak = child(FLOOR_READ, url)
        results.append(("floor: read deals and lines sorted, sum lines in SQL", f"{wall:.1f} s", f"{peak:.0f} MiB"))
        print(f"ledger: {deals} deals, {lines} payout lines; floor {wall:.1f} s")
        engine.dispose()
        with server(url, tmp, workers=1, recompute_worker=False) as base:
            cookies = {
                "finance-web": sign_in(base, "bench-finance@bench.test"),
                "cro-web": sign_in(base, "cro@bench.test"),
                "rep-web": sign_in(base, "rep0@bench.test"),
            }
            tokens = _tokens(url)
            figures = pages(base, tokens, cookies, options.runs)
        print(f"\n| {deals} deals, {lines} lines | median | answer |\n| --- | --- | --- |")
        for label, wall_text, peak_text in results:
            print(f"| {label} | {wall_text} | peak {peak_text} |")
        for label, (median, size) in figures.items():
            print(f"| {label} | {median * 1000:.0f} ms | {size / 1024:.0f} KiB |")
        print(f"load after: {os.getloadavg()[0]:.2f}")
    finally:
        if options.database_url and not options.keep:
            drop_schema(url)


def _accounts(engine) -> None:  # type: ignore[no-untyped-def]
    """Passwords for the people the pages are read as, and a finance person."""
    from sqlmodel import select

    from commissions.auth.passwords import hash_password
    from commissions.models import Person
    from commissions.people.service import create_person

    with transaction(engine) as s:
        create_person(s, email="bench-finance@bench.test", role="finance", name="Bench Finance")
        digest = hash_password("bench-password")
        for person in s.exec(
            select(Person).where(Person.email.in_(["bench-finance@bench.test", "cro@bench.test", "rep0@bench.test"]))
        ).all():
            person.password_hash = digest
            s.add(person)


def _tokens(url: str) -> dict[str, str]:
    from sqlmodel import select

    from commissions.auth.tokens import create_token
    from commissions.models import Person

    engine = make_engine(url)
    with transaction(engine) as s:
        finance = s.exec(select(Person).where(Person.email == "bench-finance@bench.test")).one()
        _, token = create_token(s, name="scale-bench", role="finance", person=finance, created_by=None)
    engine.dispose()
    return {"finance": token}


if __name__ == "__main__":
    main()
