"""Benchmark of the rules engine (issue 3): 1,000,000 deals for 5,000 people in one quarter.

    python bench/engine_bench.py                       # full scale, 3 runs each
    python bench/engine_bench.py --deals 20000 --people 500 --runs 1

Reports wall time and peak memory for
  1. the engine alone: ``calculate()`` on in-memory inputs (peak = traced Python
     allocations during the call, via tracemalloc, in a separate run so tracing does not
     slow the timed one), and
  2. ``commissions calc`` end to end: CSV files written to a temporary folder, the
     command run in a subprocess (``python -m commissions.calculator``), wall time and
     ``ru_maxrss`` of the child (resource.getrusage(RUSAGE_CHILDREN)).

The plan is realistic: marginal tiers with an accelerator, a conditional SPIFF, a
quota-club bonus, a component cap, a plan cap and manager overrides (reports are
credited up a four-level hierarchy).
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from commissions.engine import Deal, Person, Quota, calculate, parse_plan
from commissions.engine.result import iter_result_json, paused_gc

PLAN = {
    "name": "Bench AE",
    "currency": "USD",
    "period": "quarter",
    "quota": "bookings",
    "credit": {"scope": "own", "when": 'type != "renewal" or amount >= 50000'},
    "components": [
        {
            "name": "Commission",
            "kind": "tiered",
            "mode": "marginal",
            "cap": 150000,
            "tiers": [{"to": "100%", "rate": "8%"}, {"to": "150%", "rate": "12%"}, {"rate": "16%"}],
        },
        {
            "name": "Multi-year SPIFF",
            "kind": "per_deal",
            "pay": 250,
            "when": 'term_months >= 24 and product in ["Pro", "Enterprise"] and type != "renewal"',
        },
        {"name": "Quota club", "kind": "bonus", "at": "100%", "pay": 2500},
        {"name": "Manager override", "kind": "override", "rate": "1%"},
    ],
    "cap": 250000,
}
PLAN_YAML = """\
name: Bench AE
currency: USD
period: quarter
quota: bookings
credit:
  scope: own
  when: type != "renewal" or amount >= 50000
components:
  - name: Commission
    kind: tiered
    mode: marginal
    cap: 150000
    tiers:
      - {to: 100%, rate: 8%}
      - {to: 150%, rate: 12%}
      - {rate: 16%}
  - name: Multi-year SPIFF
    kind: per_deal
    pay: 250
    when: term_months >= 24 and product in ["Pro", "Enterprise"] and type != "renewal"
  - name: Quota club
    kind: bonus
    at: 100%
    pay: 2500
  - name: Manager override
    kind: override
    rate: 1%
cap: 250000
"""
DEAL_HEADER = [
    "external_id",
    "name",
    "account",
    "owner",
    "amount",
    "currency",
    "closed_at",
    "type",
    "product",
    "term_months",
    "source_campaign",
    "status",
    "cancelled_at",
    "splits",
]


def organisation(n_people: int) -> tuple[list[Person], list[str]]:
    """A hierarchy: ~1 % VPs, ~1 % directors, ~9 % managers, the rest reps (who own deals)."""
    vps = max(1, n_people // 1000)
    directors = max(1, n_people // 100)
    managers = max(1, n_people // 11)
    people: list[Person] = []
    for i in range(vps):
        people.append(Person(f"vp{i}@bench.example", f"VP {i}", None, "Exec", f"V{i}"))
    for i in range(directors):
        people.append(
            Person(
                f"dir{i}@bench.example",
                f"Director {i}",
                f"vp{i % vps}@bench.example",
                f"D{i}",
                f"D{i}",
            )
        )
    for i in range(managers):
        people.append(
            Person(
                f"mgr{i}@bench.example",
                f"Manager {i}",
                f"dir{i % directors}@bench.example",
                f"M{i}",
                f"M{i}",
            )
        )
    reps = []
    for i in range(n_people - len(people)):
        email = f"rep{i}@bench.example"
        reps.append(email)
        people.append(
            Person(
                email,
                f"Rep {i}",
                f"mgr{i % managers}@bench.example",
                f"M{i % managers}",
                f"R{i}",
            )
        )
    return people, reps


def generate(n_deals: int, n_people: int, seed: int = 3) -> tuple[list[Person], list[Quota], list[Deal]]:
    rng = random.Random(seed)
    people, reps = organisation(n_people)
    quotas = [Quota(p.email, "bookings", "2026-Q1", Decimal(rng.randrange(200, 900) * 1000)) for p in people]
    start = date(2026, 1, 1)
    days = [start + timedelta(days=d) for d in range(90)]
    types = ["new"] * 6 + ["expansion"] * 3 + ["renewal"]
    products = ["Basic", "Pro", "Pro", "Enterprise"]
    terms = [12, 12, 24, 36]
    deals = []
    for i in range(n_deals):
        owner = reps[rng.randrange(len(reps))]
        amount = Decimal(rng.randrange(50000, 12000000)).scaleb(-2)
        splits: tuple = ()
        if rng.random() < 0.05:
            other = reps[rng.randrange(len(reps))]
            if other != owner:
                splits = ((owner, Decimal(60)), (other, Decimal(40)))
        deals.append(
            Deal(
                f"D-{i:07d}",
                owner,
                amount,
                "USD",
                days[rng.randrange(90)],
                name=f"Deal {i}",
                account=f"Acct {i % 50000}",
                type=types[rng.randrange(10)],
                product=products[rng.randrange(4)],
                term_months=terms[rng.randrange(4)],
                splits=splits,
            )
        )
    return people, quotas, deals


def write_csvs(folder: Path, people: list[Person], quotas: list[Quota], deals: list[Deal]) -> None:
    (folder / "plan.yaml").write_text(PLAN_YAML)
    with open(folder / "people.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["email", "name", "manager", "team", "employee_id"])
        writer.writerows([p.email, p.name, p.manager or "", p.team, p.employee_id] for p in people)
    with open(folder / "quotas.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["person", "metric", "period", "target"])
        writer.writerows([q.person, q.metric, q.period, q.target] for q in quotas)
    with open(folder / "deals.csv", "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(DEAL_HEADER)
        writer.writerows(
            [
                d.external_id,
                d.name,
                d.account,
                d.owner,
                d.amount,
                d.currency,
                d.closed_at.isoformat(),
                d.type,
                d.product,
                d.term_months,
                "",
                d.status,
                "",
                ";".join(f"{e}:{s}" for e, s in d.splits),
            ]
            for d in deals
        )


def bench_engine(plan: object, people: list, quotas: list, deals: list, runs: int) -> dict:
    times, cpu, materialize = [], [], []
    lines = 0
    for _ in range(runs):
        gc.collect()
        started, started_cpu = time.perf_counter(), time.process_time()
        result = calculate(plan, "2026-Q1", people, quotas, deals)  # type: ignore[arg-type]
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        # every line built (largest remainder, basis): what a caller storing all lines pays on top
        started = time.perf_counter()
        with paused_gc():  # as commissions calc does; see docs/benchmarks.md
            lines = sum(len(c.lines) for p in result.payees for c in p.components)
        materialize.append(time.perf_counter() - started)
        del result
    gc.collect()
    tracemalloc.start()
    result = calculate(plan, "2026-Q1", people, quotas, deals)  # type: ignore[arg-type]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    with paused_gc():
        for payee in result.payees:
            for component in payee.components:
                component.lines  # noqa: B018 - build and keep every line
    _, peak_lines = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del result
    return {
        "times": times,
        "cpu": cpu,
        "materialize": materialize,
        "peak_mb": peak / 2**20,
        "peak_lines_mb": peak_lines / 2**20,
        "lines": lines,
    }


def measure_cli(folder: Path) -> None:
    """Run `commissions calc --json` once as a child of this (small) process and print
    wall seconds, CPU seconds and resource.getrusage(RUSAGE_CHILDREN).ru_maxrss in KiB.
    The benchmark calls it in a fresh interpreter: a child forked from the big parent that
    generated the data would report the parent's pages in its own max RSS."""
    args = [
        sys.executable,
        "-m",
        "commissions.calculator",
        "--plan",
        str(folder / "plan.yaml"),
        "--people",
        str(folder / "people.csv"),
        "--deals",
        str(folder / "deals.csv"),
        "--quotas",
        str(folder / "quotas.csv"),
        "--period",
        "2026-Q1",
        "--json",
    ]
    with (
        open(folder / "out.json", "wb") as sink,
        open(folder / "err.txt", "wb") as errors,
    ):
        started = time.perf_counter()
        code = subprocess.call(args, stdout=sink, stderr=errors)
        wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    if code != 0:
        raise SystemExit(f"calc exited {code}: {(folder / 'err.txt').read_text()[-2000:]}")
    size = (folder / "out.json").stat().st_size
    (folder / "out.json").unlink()
    print(f"{wall} {usage.ru_utime + usage.ru_stime} {usage.ru_maxrss} {size}")


def bench_cli(folder: Path, runs: int) -> dict:
    times, cpu, rss = [], [], []
    size = 0
    for _ in range(runs):
        probe = subprocess.run(
            [sys.executable, __file__, "--measure-cli", str(folder)],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode != 0:
            raise SystemExit(probe.stderr or probe.stdout)
        wall, used, maxrss, size_text = probe.stdout.split()
        times.append(float(wall))
        cpu.append(float(used))
        rss.append(int(maxrss) / 1024)  # KiB on Linux → MiB
        size = int(size_text)
    return {"times": times, "cpu": cpu, "rss_mb": rss, "output_mb": size / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-cli", action="store_true", help="only the engine")
    parser.add_argument("--skip-engine", action="store_true", help="only commissions calc")
    parser.add_argument("--measure-cli", metavar="FOLDER", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.measure_cli:
        measure_cli(Path(options.measure_cli))
        return

    print(
        f"Generating {options.deals:,} deals for {options.people:,} people ...",
        flush=True,
    )
    people, quotas, deals = generate(options.deals, options.people)
    plan = parse_plan(PLAN)
    med = statistics.median
    if not options.skip_engine:
        stats = bench_engine(plan, people, quotas, deals, options.runs)
        runs = ", ".join(f"{t:.2f}" for t in stats["times"])
        print(
            f"engine calculate(): median {med(stats['times']):.2f} s wall, {med(stats['cpu']):.2f} s CPU (runs: {runs}); "
            f"peak traced memory {stats['peak_mb']:.0f} MiB"
        )
        print(
            f"engine + every line built: median {med(stats['materialize']):.2f} s more; "
            f"peak with all {stats['lines']:,} lines kept {stats['peak_mb'] + stats['peak_lines_mb']:.0f} MiB"
        )
        result = calculate(plan, "2026-Q1", people, quotas, deals)  # type: ignore[arg-type]
        started = time.perf_counter()
        with paused_gc():
            size = sum(len(chunk) for chunk in iter_result_json(result))
        print(f"render: JSON document ({size / 2**20:.0f} MiB, every sentence) {time.perf_counter() - started:.2f} s")
        del result
    if not options.skip_cli:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            write_csvs(folder, people, quotas, deals)
            del deals
            gc.collect()
            stats = bench_cli(folder, options.runs)
        runs = ", ".join(f"{t:.2f}" for t in stats["times"])
        print(
            f"commissions calc --json: median {med(stats['times']):.2f} s wall, {med(stats['cpu']):.2f} s CPU "
            f"(runs: {runs}); max RSS (RUSAGE_CHILDREN) median {med(stats['rss_mb']):.0f} MiB, "
            f"max {max(stats['rss_mb']):.0f} MiB; output {stats['output_mb']:.0f} MiB"
        )


if __name__ == "__main__":
    main()
