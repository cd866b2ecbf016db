"""Writers for the calculator's CSV files (cli.md): the inverse of ``readers``.

Engine inputs in, file text out, such that the readers give back the same inputs: what
``commissions calc`` computes from the written files is what the engine computed from
the inputs. The app uses them for a statement's downloadable inputs
(``commissions.statements.proof``). Numbers are written in plain notation with every
digit they carry (a prorated quota keeps its exact value); dates as 2026-01-31.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from commissions.calculator.readers import CAMPAIGN_COLUMNS, DEAL_COLUMNS, PEOPLE_COLUMNS, QUOTA_COLUMNS
from commissions.engine import Campaign, Deal, Person, Quota


def _number(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def people_csv(people: Iterable[Person], plans: Mapping[str, str] | None = None) -> str:
    """people.csv; with ``plans`` (email → plan name) a ``plan`` column, empty for everyone else."""
    header = [*PEOPLE_COLUMNS, *(("plan",) if plans is not None else ())]
    return _csv(
        header,
        (
            [
                p.email,
                p.name,
                p.manager or "",
                p.team,
                p.employee_id,
                *((plans.get(p.email, ""),) if plans is not None else ()),
            ]
            for p in people
        ),
    )


def deals_csv(deals: Iterable[Deal], custom_columns: Sequence[str] = ()) -> str:
    """deals.csv in cli.md's column order, then one column per custom field (empty where a deal has none)."""
    return _csv(
        [*DEAL_COLUMNS, *custom_columns],
        (
            [
                d.external_id,
                d.name,
                d.account,
                d.owner,
                _number(d.amount),
                d.currency,
                d.closed_at.isoformat(),
                d.type or "",
                d.product or "",
                "" if d.term_months is None else str(d.term_months),
                d.source_campaign or "",
                d.status,
                d.cancelled_at.isoformat() if d.cancelled_at else "",
                ";".join(f"{email}:{_number(share)}" for email, share in d.splits),
                *(str(d.custom.get(name, "") or "") for name in custom_columns),
            ]
            for d in deals
        ),
    )


def quotas_csv(quotas: Iterable[Quota]) -> str:
    return _csv(QUOTA_COLUMNS, ([q.person, q.metric, q.period, _number(q.target)] for q in quotas))


def campaigns_csv(campaigns: Iterable[Campaign]) -> str:
    return _csv(
        CAMPAIGN_COLUMNS,
        (
            [
                c.code,
                c.name,
                c.owner,
                c.channel,
                _number(c.cost),
                c.start.isoformat() if c.start else "",
                c.end.isoformat() if c.end else "",
            ]
            for c in campaigns
        ),
    )
