"""Extensions (the leaderboard): packages found through the ``quotaboard.extensions`` entry points.

Each entry point resolves to an object with any of ``route_handlers``, ``nav_items``,
``on_startup``/``on_shutdown`` (app hooks), ``cli_commands`` (click commands added to
`commissions`), ``worker_tasks`` (callables taking the engine, run by `commissions worker`
each minute) and ``demo_data`` (callables ``(session, *, today, period_start)`` that add the
extension's rows to `commissions demo`) and ``home_sections`` (callables
``(session, principal, period) -> core.rendering.HomeSection | None``: blocks on the Home page). ``commissions`` never imports an extension by
name, so the dependency stays one-way: the leaderboard uses commissions, not the reverse.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

GROUP = "quotaboard.extensions"


def load_extensions(*, on_error: Callable[[str, Exception], None] | None = None) -> list[Any]:
    """Every installed extension; with ``on_error`` one that fails to load is reported and skipped."""
    loaded = []
    for point in _entry_points():
        try:
            loaded.append(point.load())
        except Exception as exc:
            if on_error is None:
                raise
            on_error(point.name, exc)
    return loaded


@cache
def _entry_points() -> tuple[EntryPoint, ...]:
    """The extensions' entry points, found once per process: finding them reads every installed package's
    metadata (0.1-0.2 s, a fifth of building the app, which every test of the app does)."""
    return tuple(entry_points(group=GROUP))


def hooks(name: str) -> list[Any]:
    """One kind of hook (``"worker_tasks"``, ``"demo_data"``, ...) of every installed extension."""
    return [hook for extension in load_extensions() for hook in getattr(extension, name, [])]
