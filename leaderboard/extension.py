"""What the leaderboard adds to the app: found through the ``quotaboard.extensions`` entry point.

``commissions`` reads these fields and never imports ``leaderboard`` itself, so the
dependency stays one-way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router

from commissions.core.i18n import N_
from commissions.core.navigation import EVERYONE, NavItem
from leaderboard.api import ContestsApiController, LeaderboardApiController
from leaderboard.contests_cli import contests_group
from leaderboard.demo import add_demo_contests
from leaderboard.home import SECTIONS as HOME_SECTIONS
from leaderboard.listener import start_listening, stop_listening
from leaderboard.pages import BadgesController, ContestsController, LeaderboardController, LeaderboardTvController


@dataclass(frozen=True)
class Extension:
    route_handlers: list[Any] = field(default_factory=list)
    nav_items: list[NavItem] = field(default_factory=list)
    on_startup: list[Any] = field(default_factory=list)  # app hooks: background listeners
    on_shutdown: list[Any] = field(default_factory=list)
    cli_commands: list[Any] = field(default_factory=list)  # click commands added to `commissions`
    worker_tasks: list[Any] = field(default_factory=list)  # callables(engine): `commissions worker`, each minute
    demo_data: list[Any] = field(default_factory=list)  # callables(session, *, today, period_start): `commissions demo`
    home_sections: list[Any] = field(
        default_factory=list
    )  # callables(session, principal, period) -> HomeSection | None


def _close_ended_contests(engine: Any) -> None:
    from commissions.core.db import transaction
    from leaderboard.contests.results import record_ended

    with transaction(engine) as session:
        record_ended(session)


extension = Extension(
    route_handlers=[
        LeaderboardController,
        LeaderboardApiController,
        LeaderboardTvController,
        BadgesController,  # badge rules: admins only
        ContestsController,  # /leaderboard/contests pages, linked from the leaderboard page
        ContestsApiController,
        create_static_files_router(
            path="/leaderboard/static", directories=[Path(__file__).parent / "static"], name="leaderboard-static"
        ),
    ],
    nav_items=[
        NavItem(N_("Leaderboard"), "/leaderboard", EVERYONE),
        NavItem(N_("Badges"), "/admin/badges", frozenset({"admin"})),
    ],
    on_startup=[start_listening],
    on_shutdown=[stop_listening],
    cli_commands=[contests_group],
    worker_tasks=[_close_ended_contests],
    demo_data=[add_demo_contests],
    home_sections=list(HOME_SECTIONS),  # Home's rank, streak and badges, recent wins, contest (leaderboard/home.py)
)
