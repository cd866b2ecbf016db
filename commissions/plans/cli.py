"""``commissions plan apply PLAN.yaml [--effective-from DATE] [--assign EMAIL ...]``: plans as code.

Validates the file, stores it as a new version of the plan named inside it (or reports
it unchanged), assigns the given people from the effective date, and prints what it
did. All of it happens in one transaction: any problem stores nothing.

Exit status: 0 done (or unchanged); 2 bad input (an invalid plan, an unreadable file,
an unknown email), naming the file and the component and field; 1 a refusal by the
current state (a locked period, an overlapping assignment, a date already used).
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path

import click

from commissions.core.errors import Conflict, InputProblem
from commissions.core.principal import Principal

CLI_ACTOR = Principal(role="admin", person_id=None, email=None, name="cli: plan apply")


def _fail(status: int, lines: list[str]) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(status)


@click.group("plan", help="Compensation plans: validate, version and assign plan documents.")
def plan_group() -> None:
    pass


@plan_group.command("apply", help="Validate PLAN.yaml, store it as a new version of its plan, assign people.")
@click.argument("plan_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--effective-from",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="First day the version applies (default: the document's effective_from, else the first day "
    "of the current period of the plan's kind).",
)
@click.option(
    "--assign",
    "emails",
    multiple=True,
    metavar="EMAIL",
    help="Put this person on the plan; more emails may follow it (--assign a@x.com b@x.com) or it may be repeated.",
)
@click.argument("more_emails", nargs=-1, metavar="[EMAIL...]")
def apply(
    plan_file: Path, effective_from: datetime | None, emails: tuple[str, ...], more_emails: tuple[str, ...]
) -> None:
    from commissions.calculation.rows import stored_id
    from commissions.core.db import transaction
    from commissions.people.queries import normalise_email, person_by_email
    from commissions.plans.service import (
        InvalidPlan,
        assign,
        assignment_covering,
        save_plan_version,
    )

    if more_emails and not emails:  # cli.md: --assign EMAIL ...; an email alone is a slip, not a person to assign
        _fail(2, [f"unexpected argument {more_emails[0]!r}: write the emails to assign after --assign"])
        return
    emails = (*emails, *more_emails)
    try:
        text = plan_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(2, [f"{plan_file}: cannot read the plan: {exc}"])
        return
    day: date | None = effective_from.date() if effective_from else None
    done: list[str] = []
    try:
        with transaction() as session:
            people = []
            for email in dict.fromkeys(normalise_email(e) for e in emails):
                person = person_by_email(session, email)
                if person is None:
                    raise InputProblem("--assign", f"no person with email {email}")
                people.append(person)
            saved = save_plan_version(session, text=text, effective_from=day, by=CLI_ACTOR)
            plan, version = saved.plan, saved.version
            if saved.plan_created:
                done.append(
                    f"{plan.name}: created the plan ({plan.currency}, {plan.period_kind} periods) with "
                    f"version {version.version}, effective from {version.effective_from.isoformat()}"
                )
            elif saved.created:
                done.append(
                    f"{plan.name}: saved version {version.version}, effective from {version.effective_from.isoformat()}"
                )
            else:
                done.append(
                    f"{plan.name}: unchanged (identical to version {version.version}, effective from "
                    f"{version.effective_from.isoformat()}); nothing stored"
                )
            start = saved.effective_from
            for person in people:
                current = assignment_covering(session, plan_id=stored_id(plan), person_id=stored_id(person), day=start)
                if current is not None:
                    done.append(f"{person.email}: already on {plan.name} from {current.starts_on.isoformat()}")
                    continue
                assign(session, plan=plan, person=person, starts_on=start, by=CLI_ACTOR)
                done.append(f"{person.email}: assigned to {plan.name} from {start.isoformat()}")
    except InvalidPlan as exc:
        _fail(2, [f"{plan_file}: invalid plan, nothing stored"] + [f"{plan_file}: {issue}" for issue in exc.issues])
    except Conflict as exc:
        _fail(1, [f"{plan_file}: refused, nothing stored: {exc.field}: {exc.message}"])
    except InputProblem as exc:
        _fail(2, [f"{plan_file}: {exc.field}: {exc.message}; nothing stored"])
    for line in done:
        click.echo(line)


if __name__ == "__main__":  # pragma: no cover - `python -m commissions.plans.cli apply ...`
    plan_group()
