"""Rounds: callers of one slot share a round; after a crowded round the next one gathers the callers coming back."""

from __future__ import annotations

import threading
import time

from commissions.core.rounds import Rounds


def _caller(rounds: Rounds[int], sizes: list[int], item: int, hold: float = 0.05) -> threading.Thread:
    def run(batch: list[int]) -> None:
        sizes.append(len(batch))
        time.sleep(hold)

    thread = threading.Thread(target=rounds.join, args=("slot", item, run))
    thread.start()
    return thread


def _crowded_round(rounds: Rounds[int], sizes: list[int], callers: int) -> None:
    """One caller runs a round while the others gather behind it: a round of 1, then one of the rest.

    The first round ends only once all the others wait behind it (not after a fixed time: on a loaded
    machine starting five threads took longer than the round, and a straggler made a round of its own)."""
    everyone_waits = threading.Event()

    def first_round(batch: list[int]) -> None:
        sizes.append(len(batch))
        everyone_waits.wait(10)

    first = threading.Thread(target=rounds.join, args=("slot", 0, first_round))
    first.start()
    while not sizes:  # the first round is running
        time.sleep(0.001)
    others = [_caller(rounds, sizes, i) for i in range(1, callers)]
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        waiting = rounds._gathering.get("slot")
        if waiting is not None and len(waiting.items) == callers - 1:
            break
        time.sleep(0.001)
    everyone_waits.set()
    for thread in [first, *others]:
        thread.join()


def test_a_lone_caller_runs_at_once() -> None:
    """Nobody is running, so nothing is gathered: the caller never waits out the gather gap. The gap is made
    long (2 s) so that a loaded machine's thread start (it took 127 ms once, beside a full suite) cannot be
    mistaken for waiting."""
    rounds: Rounds[int] = Rounds(gather_gap=2.0, gather_limit=4.0)
    sizes: list[int] = []
    started = time.monotonic()
    _caller(rounds, sizes, 1, hold=0).join()
    assert sizes == [1]
    assert time.monotonic() - started < 1.0


def test_callers_coming_back_after_a_crowded_round_share_the_next_round() -> None:
    rounds: Rounds[int] = Rounds(gather_gap=0.2, gather_limit=1.0)  # gaps that a loaded machine keeps
    sizes: list[int] = []
    _crowded_round(rounds, sizes, 6)
    assert sizes == [1, 5]
    # The five come back one by one, 10 ms apart (their answers going out, their next requests coming
    # in): without gathering the first would run alone and the four others wait for it.
    threads = []
    for i in range(5):
        threads.append(_caller(rounds, sizes, i))
        time.sleep(0.01)
    for thread in threads:
        thread.join()
    assert sizes == [1, 5, 5]


def test_gathering_stops_when_callers_stop_coming() -> None:
    rounds: Rounds[int] = Rounds(gather_gap=0.02, gather_limit=0.3)
    sizes: list[int] = []
    _crowded_round(rounds, sizes, 4)
    started = time.monotonic()
    _caller(rounds, sizes, 9, hold=0).join()  # the only one to come back
    waited = time.monotonic() - started
    assert sizes == [1, 3, 1]
    assert 0.25 <= waited < 0.5  # it waited for the others up to gather_limit, then ran alone


def test_no_gathering_long_after_the_last_round() -> None:
    rounds: Rounds[int] = Rounds(gather_gap=0.02, gather_limit=0.1)
    sizes: list[int] = []
    _crowded_round(rounds, sizes, 4)
    time.sleep(0.15)  # quiet for longer than gather_limit: the burst is over
    started = time.monotonic()
    _caller(rounds, sizes, 9, hold=0).join()
    assert time.monotonic() - started < 0.05
