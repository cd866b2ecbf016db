"""``commissions contests ...``: found through the leaderboard extension (``Extension.cli_commands``)."""

from __future__ import annotations

import click


@click.group("contests", help="Leaderboard contests.")
def contests_group() -> None:
    pass


@contests_group.command("close", help="Record the final standings and winners of every contest that has ended.")
def close_command() -> None:
    from commissions.core.db import get_engine, transaction
    from leaderboard.contests.results import record_ended

    with transaction(get_engine()) as session:
        closed = [(c.id, c.name) for c in record_ended(session)]
    for contest_id, name in closed:
        click.echo(f"contest {contest_id} ({name}): results recorded")
    click.echo(f"{len(closed)} contest(s) closed.")
