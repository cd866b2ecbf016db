"""The managers' weekly digest: each active manager with reports gets their team's attainment ranking (the
quarter so far, as the team page shows it) and the deals the team won in the week; never pay, never a figure
in the subject (docs/email.md).

A week's digest is queued once: ``queue_weekly(engine, week)`` takes the week in the ``site_setting`` row
``email.digest_week`` by a conditional UPDATE and queues every digest in that same transaction, so two
workers (or the worker and ``commissions email digest --send``) never send one week twice. ``commissions
worker`` calls ``weekly_task`` every minute: in any week it queues the digest of the week before, once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from commissions.calculation.rows import id_col
from commissions.core import mail
from commissions.core.db import transaction
from commissions.core.formatting import format_percent
from commissions.core.i18n import DEFAULT_LOCALE, using_locale
from commissions.core.i18n import gettext as _
from commissions.core.money import format_money
from commissions.core.periods import quarter_of
from commissions.models import Deal, Person, SiteSetting
from commissions.models.base import utcnow
from commissions.people.progress import plan_progress
from commissions.people.service import report_ids

DIGEST_WEEK = "email.digest_week"


@dataclass(frozen=True)
class Week:
    """An ISO week, Monday to Sunday."""

    monday: date

    @property
    def label(self) -> str:
        year, number, _ = self.monday.isocalendar()
        return f"{year}-W{number:02d}"

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)

    @classmethod
    def of(cls, day: date) -> Week:
        return cls(day - timedelta(days=day.weekday()))

    @classmethod
    def parse(cls, text: str) -> Week:
        """``2026-W49`` (ISO year and week)."""
        try:
            year, number = text.strip().upper().split("-W")
            return cls(date.fromisocalendar(int(year), int(number), 1))
        except ValueError as exc:
            raise ValueError(f"week {text!r} is not an ISO week like 2026-W49") from exc

    def previous(self) -> Week:
        return Week(self.monday - timedelta(days=7))


@dataclass(frozen=True)
class Digest:
    to: str
    locale: str | None
    context: dict[str, Any]


def digests(session: Session, week: Week) -> list[Digest]:
    """One digest per active manager with reports: the ranking of the quarter holding the week's Sunday, the
    deals won by the team in the week."""
    period = quarter_of(week.sunday)
    managers = session.exec(
        select(Person).where(col(Person.role) == "manager", col(Person.active).is_(True)).order_by(col(Person.email))
    ).all()
    found: list[Digest] = []
    for manager in managers:
        team = sorted(report_ids(session, manager.id)) if manager.id is not None else []
        if not team:
            continue
        ranking: list[dict[str, str]] = []
        seen: set[int] = set()
        with using_locale(manager.locale or DEFAULT_LOCALE):  # figures as the manager's pages show them
            no_quota = _("no quota")
            for row in plan_progress(session, team, period):  # highest attainment first; a person's best plan
                if row.person_id in seen:
                    continue
                seen.add(row.person_id)
                ranking.append({"name": row.name, "attainment": format_percent(row.attainment_ppm, empty=no_quota)})
        deals = session.exec(
            select(Deal, Person.name)
            .join(Person, id_col(Person.id) == Deal.owner_id)
            .where(
                col(Deal.owner_id).in_(team),
                col(Deal.status) == "won",
                col(Deal.closed_at) >= week.monday,
                col(Deal.closed_at) <= week.sunday,
            )
            .order_by(col(Deal.closed_at), col(Deal.id))
        ).all()
        context = {
            "name": manager.name,
            "week": week.label,
            "period": period.key,
            "ranking": ranking,
            "deals": [
                {
                    "owner": owner,
                    "customer": deal.account or deal.name,
                    "amount": format_money(deal.amount_minor, deal.currency),
                    "closed": deal.closed_at.isoformat(),
                }
                for deal, owner in deals
            ],
            "url": mail.link("/team"),
        }
        found.append(Digest(manager.email, manager.locale, context))
    return found


def _take_week(session: Session, week: Week) -> bool:
    """Mark ``week`` as sent in this transaction; False if it already was (by anyone)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(
        insert(SiteSetting).values(name=DIGEST_WEEK, value="", updated_at=utcnow()).on_conflict_do_nothing()
    )
    taken = session.execute(
        update(SiteSetting)
        .where(col(SiteSetting.name) == DIGEST_WEEK, col(SiteSetting.value) < week.label)
        .values(value=week.label, updated_at=utcnow())
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def queue_weekly(engine: Engine, week: Week, *, force: bool = False) -> int | None:
    """Queue the week's digests (once: None if they were queued before, unless ``force``); how many."""
    if not mail.enabled():
        return 0
    with transaction(engine) as session:
        if not _take_week(session, week) and not force:
            return None
        found = digests(session, week)
        for digest in found:
            mail.queue_mail(session, "manager_digest", to=digest.to, context=digest.context, locale=digest.locale)
        return len(found)


def weekly_task(engine: Engine, *, today: date | None = None) -> int | None:
    """The worker's task: the digest of last week, if nobody queued it yet."""
    return queue_weekly(engine, Week.of(today or date.today()).previous())
