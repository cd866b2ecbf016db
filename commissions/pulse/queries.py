"""What the manager's team page shows about the pulse: each pulse's score and a line over time."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from commissions.core.errors import Forbidden
from commissions.core.principal import Principal
from commissions.core.settings import Settings
from commissions.marketing.charts import enps_chart
from commissions.pulse.service import team_results


def pulse_context(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    minimum = settings.pulse_min_group_size
    if principal.person_id is None:  # the team page requires a person
        raise Forbidden("Pulse results are for a manager signed in as a person.")
    results = team_results(session, principal.person_id, minimum=minimum)
    shown = [
        (r.pulse.opened_on.isoformat(), r.result.score, r.result.score_text)
        for r in results
        if r.result.score is not None
    ]
    return {
        "pulses": list(reversed(results)),
        "pulse_minimum": minimum,
        "pulse_chart": enps_chart("eNPS over time", shown) if len(shown) >= 2 else None,
    }
