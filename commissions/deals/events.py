"""What happens after a deal is committed: recompute what it touches, then announce it.

``commissions`` only announces (on the ``deals`` channel); whoever listens, the
leaderboard for instance, decides what to do with it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from litestar import Litestar

from commissions.deals.ingest import RecordResult

if TYPE_CHECKING:
    from commissions.deals.csv_import import ImportReport

log = logging.getLogger("quotaboard.events")

DEALS_CHANNEL = "deals"
PAYOUTS_CHANNEL = "payouts"


def after_deal_recorded(app: Litestar, result: RecordResult) -> None:
    """Call from a worker thread (it recomputes synchronously) after the deal's transaction committed."""
    if result.outcome == "unchanged":
        return
    deal = result.deal
    recompute_and_announce(app, result.people, result.days, trigger=f"deal {deal.external_id} {result.outcome}")
    publish(app, DEALS_CHANNEL, {
        "event": f"deal.{result.outcome}",
        "external_id": deal.external_id,
        "name": deal.name,
        "account": deal.account,
        "status": deal.status,
        "people": sorted(result.people),
        "days": sorted(day.isoformat() for day in result.days),
    })


def after_deals_imported(app: Litestar, report: "ImportReport") -> None:
    """Call from a worker thread after the import committed."""
    recompute_and_announce(app, report.people, report.days, trigger=f"import of {report.rows} rows")
    publish(app, DEALS_CHANNEL, {
        "event": "deals.imported",
        "created": report.created,
        "updated": report.updated,
        "people": sorted(report.people),
        "days": sorted(day.isoformat() for day in report.days),
    })


def recompute_and_announce(app: Litestar, people: set[int], days: set, *, trigger: str) -> None:
    from commissions.calculation.service import recompute_change

    reports = recompute_change(app.state["engine"], people=people, days=days, trigger=trigger)
    changed = sorted({pid for r in reports for pid in r.people})
    if changed:
        publish(app, PAYOUTS_CHANNEL, {"event": "payouts.recomputed", "periods": sorted(r.period for r in reports),
                                       "people": changed})


def publish(app: Litestar, channel: str, event: dict[str, Any]) -> None:
    from litestar.channels import ChannelsPlugin

    try:
        plugin = app.plugins.get(ChannelsPlugin)
    except KeyError:
        return
    try:
        plugin.publish(event, channels=[channel])
    except Exception:  # a broken fan-out must not fail a recorded deal
        log.exception("could not publish %s on %s", event.get("event"), channel)
