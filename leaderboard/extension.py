"""What the leaderboard adds to the app: found through the ``quotaboard.extensions`` entry point."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar.static_files import create_static_files_router

from commissions.web.navigation import EVERYONE, NavItem
from leaderboard.controller import LeaderboardController
from leaderboard.tv import LeaderboardTvController


@dataclass(frozen=True)
class Extension:
    route_handlers: list[Any] = field(default_factory=list)
    nav_items: list[NavItem] = field(default_factory=list)
    cli_commands: list[Any] = field(default_factory=list)  # click commands added to `commissions`
    worker_tasks: list[Any] = field(default_factory=list)  # callables(engine) that `commissions worker` runs each minute


extension = Extension(
    route_handlers=[
        LeaderboardController,
        LeaderboardTvController,
        create_static_files_router(path="/leaderboard/static", directories=[Path(__file__).parent / "static"],
                                   name="leaderboard-static"),
    ],
    nav_items=[NavItem("Leaderboard", "/leaderboard", EVERYONE)],
)

# Badge rules (admins only), appended so the entries above stay as they are.
from leaderboard.badges_controller import BadgesController

extension.route_handlers.append(BadgesController)
extension.nav_items.append(NavItem("Badges", "/admin/badges", frozenset({"admin"})))

# Contests (issue 5): pages under /leaderboard/contests (linked from the leaderboard page) and the API.
from leaderboard.contests_controller import ContestsApiController, ContestsController

extension.route_handlers.extend([ContestsController, ContestsApiController])

from leaderboard.contests_cli import contests_group

extension.cli_commands.append(contests_group)


def _close_ended_contests(engine: Any) -> None:
    from commissions.db import transaction
    from leaderboard.contests import record_ended

    with transaction(engine) as session:
        record_ended(session)


extension.worker_tasks.append(_close_ended_contests)
