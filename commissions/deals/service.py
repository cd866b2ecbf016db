"""Deal transactions: one delivery and the statements it changes in one transaction,
retried if a concurrent delivery won the race."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from commissions.auth.principal import Principal
from commissions.calculation.queue import enqueue
from commissions.calculation.service import recompute_touched
from commissions.db import transaction
from commissions.deals.ingest import RecordResult, deal_out, record_deal
from commissions.deals.schemas import DealIn, DealOut

ATTEMPTS = 3


def record_one(engine: Engine, data: DealIn, *, by: Principal | None) -> tuple[RecordResult, DealOut]:
    """Record a delivery; a unique-key race with an identical concurrent delivery resolves to one deal."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction(engine) as session:
                result = record_deal(session, data, by=by)
                if result.outcome != "unchanged":
                    result.reports = recompute_touched(session, people=result.people, days=result.days,
                                                       trigger=f"deal {data.external_id} {result.outcome}")
                    enqueue(session, result.chain, result.days)
                return result, deal_out(session, result.deal)
        except (IntegrityError, OperationalError):
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")
