"""Issue 18 benchmark: PUT /api/v1/people with 2,000 people, managers after their reports, teams existing.

    .venv/bin/python bench/people_api_bench.py [--people 2000] [--runs 5] [--database-url postgresql+psycopg://...]

Each run takes a fresh database (a SQLite file, or a fresh PostgreSQL schema), loads the teams through
PUT /api/v1/teams, then times, through the app in process (Litestar's test client: the ASGI app, its
middleware and the database; no sockets):

- **create**: the whole organisation in one PUT (a CRO, VPs, managers and reps; every manager later in the
  list than their reports);
- **unchanged**: the same body again (nothing written);
- **update**: every name changed and a tenth of the reps moved to another manager (their statements and
  everyone above them queued for recalculation);
- **list page**, **search**: then the admin's ``/admin/people`` (the first page of everyone) and a search
  (``?q=Rep 1234``), signed in, each the median of five requests: a page of at most 100 people, which should
  cost the same whatever the size of the organisation.

For each it also counts the SQL statements the request sent (an ``executemany`` counts once): a handful,
whatever the number of people, shows that nothing runs a query per person. Prints the median and the
spread of each; copy them to docs/benchmarks.md.
"""

from __future__ import annotations

# ruff: noqa: E402  (the path is set before any import that reaches copy.py, see below)
import sys
from pathlib import Path

# the repository, not bench/, first on the path: bench/org.py would shadow the `org` module copy.py probes for
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import statistics
import tempfile
import time
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import event

from bench.harness import database_url, drop_schema
from commissions.app.assembly import create_app
from commissions.auth.tokens import create_token
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.core.periods import ensure_period
from commissions.core.settings import Settings
from commissions.people.service import create_person

ADMIN_PASSWORD = "bench-admin-password-1"


def organisation(people: int, teams: int) -> list[dict[str, Any]]:
    """A CRO, 10 VPs, a manager per 20 people, reps for the rest: reps first, the CRO last."""
    vps = [f"vp{i}@bench.test" for i in range(10)]
    manager_count = max(1, people // 20)
    managers = [f"manager{i}@bench.test" for i in range(manager_count)]
    reps = [f"rep{i}@bench.test" for i in range(people - 1 - len(vps) - manager_count)]
    body: list[dict[str, Any]] = []
    for i, email in enumerate(reps):
        body.append(
            {
                "email": email,
                "name": f"Rep {i}",
                "role": "rep",
                "team": f"Team {i % teams}",
                "manager": managers[i % manager_count],
                "employee_id": f"R{i:06}",
                "locale": ("en-GB", "ms", "th", "en")[i % 4],
            }
        )
    for i, email in enumerate(managers):
        body.append({"email": email, "name": f"Manager {i}", "role": "manager", "manager": vps[i % len(vps)]})
    for i, email in enumerate(vps):
        body.append({"email": email, "name": f"VP {i}", "role": "manager", "manager": "cro@bench.test"})
    body.append({"email": "cro@bench.test", "name": "The CRO", "role": "manager"})
    return body


def one_run(url: str, tmp: Path, people: int, teams: int) -> dict[str, tuple[float, int]]:
    engine = make_engine(url)
    upgrade(engine=engine)
    with transaction(engine) as s:
        _, token = create_token(s, name="bench", role="admin", person=None, created_by=None)
        ensure_period(s, "2026-Q4")  # an open period: moves queue statements in it
    settings = Settings(environment="test", data_dir=tmp, database_url="sqlite://", secret_key="b" * 40)
    app = create_app(settings, engine=engine)
    headers = {"Authorization": f"Bearer {token}"}
    statements = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        statements[0] += 1

    body = organisation(people, teams)
    renamed = [
        {**item, "name": item["name"] + " (HR)"}
        | (
            {"manager": f"manager{(i + 1) % max(1, people // 20)}@bench.test"}
            if i % 10 == 0 and item["role"] == "rep"
            else {}
        )
        for i, item in enumerate(body)
    ]
    results: dict[str, tuple[float, int]] = {}
    with TestClient(app=app, base_url="http://127.0.0.1:8000", timeout=300) as client:
        loaded = client.put("/api/v1/teams", json=[{"name": f"Team {i}"} for i in range(teams)], headers=headers)
        assert loaded.status_code == 200, loaded.text
        for name, payload, expect in (
            ("create", body, "created"),
            ("unchanged", body, "unchanged"),
            ("update", renamed, "updated"),
        ):
            statements[0] = 0
            started = time.perf_counter()
            response = client.put("/api/v1/people", json=payload, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == 200, response.text[:500]
            assert response.json()[expect] == len(payload), response.json()
            results[name] = (elapsed, statements[0])
        # the admin's people page: the first page of everyone, and a search (median of 5 requests each)
        with transaction(engine) as s:
            create_person(s, email="admin@bench.test", role="admin", name="Admin", password=ADMIN_PASSWORD)
        client.get("/login")
        signed = client.post(
            "/login",
            data={"email": "admin@bench.test", "password": ADMIN_PASSWORD, "_csrf_token": client.cookies["csrftoken"]},
        )
        assert signed.status_code in (200, 302, 303), signed.status_code
        for name, path in (("list page", "/admin/people"), ("search", "/admin/people?q=Rep+1234")):
            timings = []
            for _ in range(5):
                statements[0] = 0
                started = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - started)
                assert response.status_code == 200 and "<table" in response.text, response.status_code
            results[name] = (statistics.median(timings), statements[0])
    engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)  # the audit log's lines, one per person
    runs: list[dict[str, tuple[float, int]]] = []
    for run in range(args.runs):
        tmp = Path(tempfile.mkdtemp(prefix="qb-people-bench-"))
        url = database_url(tmp, args.database_url)
        try:
            runs.append(one_run(url, tmp, args.people, args.teams))
        finally:
            drop_schema(url)
        print(
            f"run {run + 1}: " + ", ".join(f"{k} {v[0] * 1000:.0f} ms ({v[1]} statements)" for k, v in runs[-1].items())
        )
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"\nPUT /api/v1/people and /admin/people, {args.people} people, {backend}, median of {args.runs} runs:")
    for name in ("create", "unchanged", "update", "list page", "search"):
        times = [r[name][0] * 1000 for r in runs]
        counts = sorted({r[name][1] for r in runs})
        print(
            f"  {name:<9} median {statistics.median(times):7.0f} ms  (min {min(times):.0f}, max {max(times):.0f})"
            f"  SQL statements {'/'.join(map(str, counts))}"
        )


if __name__ == "__main__":
    main()
