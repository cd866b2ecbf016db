"""The worker in parts (``commissions worker --processes N``): each process takes the managers the people directory
gives its part (balanced by the people below them) and everyone else whose id is k modulo N, so a big catch-up
uses every core evenly; the parts never overlap and together leave nothing pending, and the ledger then equals a
fresh calculation."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from commissions.calculation.check import check_period
from commissions.calculation.loader import PeopleDirectory, people_directory
from commissions.calculation.queue import drain
from commissions.calculation.state import pending_in
from commissions.models import StatementState
from tests.conftest import read
from tests.finance_fixtures import example_deal, setup_books

Q1 = "2026-Q1"
ROOT = Path(__file__).resolve().parents[2]


def _pending(engine: Engine) -> set[int]:
    return set(read(engine, lambda s: pending_in(s, Q1)))


def _deals(client: TestClient, tokens: dict[str, dict[str, str]]) -> None:
    for i, owner in enumerate(["ana@example.com", "bo@example.com", "ana@example.com"]):
        body = example_deal(f"D-{i}", str(20_000 + i), "2026-02-1" + str(i), owner=owner)
        assert client.post("/api/v1/deals", json=body, headers=tokens["crm"]).status_code == 201


def test_two_parts_compute_disjoint_statements_and_together_all_of_them(
    client: TestClient, engine: Engine, make_person
) -> None:
    tokens = setup_books(engine, make_person)
    _deals(client, tokens)
    pending = _pending(engine)
    assert pending, "the deals' manager waits for the worker"
    with_states = set(read(engine, lambda s: s.exec(select(StatementState.person_id)).all()))
    managers = read(engine, lambda s: people_directory(s).balanced_parts(2))
    assert managers, "the managers are placed by what their statements cost"
    part = {pid: managers.get(pid, pid % 2) for pid in with_states}
    first = {pid for pid in with_states if part[pid] == 0}

    computed = {pid for report in drain(engine, part=(0, 2)) for pid in report.people}
    assert _pending(engine) == {pid for pid in pending if part[pid] == 1}  # the other part's are left
    assert computed <= first
    drain(engine, part=(1, 2))
    assert _pending(engine) == set()
    result = check_period(engine, Q1)
    assert result.checked and result.differences == [] and result.pending == 0


def test_the_worker_command_runs_its_parts_in_processes(
    client: TestClient, engine: Engine, make_person, tmp_path: Path
) -> None:
    tokens = setup_books(engine, make_person)
    _deals(client, tokens)
    assert _pending(engine)
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "commissions.cli", "worker", "--once", "--processes", "2"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _pending(engine) == set()
    assert check_period(engine, Q1).differences == []


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def test_a_part_process_whose_parent_died_before_it_started_exits(engine: Engine, tmp_path: Path) -> None:
    """The parent names itself to its parts: a part slow to start (it runs at idle priority) may begin after
    its parent was killed, when os.getppid() already names whoever adopted it; it must still notice and exit."""
    import signal
    import time

    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": url, "DATA_DIR": str(tmp_path)}
    parent = subprocess.Popen(
        [sys.executable, "-m", "commissions.cli", "worker", "--processes", "2", "--poll-seconds", "0.2"],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while not (children := _children(parent.pid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children, "the worker never started its second part"
    os.kill(parent.pid, signal.SIGKILL)  # at once: the part is most likely still importing
    parent.wait(10)
    deadline = time.monotonic() + 60
    while any(Path(f"/proc/{pid}").exists() and "zombie" not in _state(pid) for pid in children):
        assert time.monotonic() < deadline, "an orphaned part kept running"
        time.sleep(0.2)


def _state(pid: int) -> str:
    try:
        return "zombie" if (Path(f"/proc/{pid}") / "stat").read_text().rsplit(")", 1)[1].split()[0] == "Z" else "alive"
    except OSError:
        return "zombie"


def _org(levels: list[int]) -> PeopleDirectory:
    """A reporting tree: one top person, then each level's people spread over the level above."""
    rows: dict[int, tuple[str, str, int | None, str, str]] = {1: ("top", "", None, "", "")}
    above, next_id = [1], 2
    for size in levels:
        level = []
        for i in range(size):
            rows[next_id] = (f"p{next_id}", "", above[i % len(above)], "", "")
            level.append(next_id)
            next_id += 1
        above = level
    reports: dict[int, list[int]] = {}
    for pid, row in rows.items():
        if row[2] is not None:
            reports.setdefault(row[2], []).append(pid)
    return PeopleDirectory(rows, reports)


def test_the_parts_share_the_work_evenly_and_place_everyone_once() -> None:
    directory = _org([10, 100, 4000])  # a CRO, 10 VPs, 100 managers, 4,000 reps
    below = {pid: len(directory.with_reports({pid})) - 1 for pid in directory.rows}
    for n in (2, 3):
        managers = directory.balanced_parts(n)
        assert set(managers) == {pid for pid, count in below.items() if count}
        load = [0] * n
        for pid in directory.rows:
            load[managers.get(pid, pid % n)] += 1 + below[pid]
        assert max(load) - min(load) <= sum(load) // 100, load  # within 1 % (by id alone: 6,105 against 10,216)
        by_id = [0] * n
        for pid in directory.rows:
            by_id[pid % n] += 1 + below[pid]
        assert max(load) < max(by_id)  # better than by id alone
    assert directory.balanced_parts(2) is directory.balanced_parts(2)  # kept for the directory


def test_a_store_runs_with_the_cycle_collector_paused_and_restores_it(
    client: TestClient, engine: Engine, make_person, monkeypatch
) -> None:
    """A store builds a row per changed line while the computation's objects stay alive: the collector is paused
    for it (as for ``calculate``), and on again after, also when the store fails."""
    import gc

    from commissions.calculation import service

    tokens = setup_books(engine, make_person)
    _deals(client, tokens)
    seen: list[bool] = []
    real = service.claim

    def watching(*args, **kwargs):  # type: ignore[no-untyped-def]
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "claim", watching)
    assert gc.isenabled()
    drain(engine)
    assert seen and not any(seen) and gc.isenabled()
    assert _pending(engine) == set()
