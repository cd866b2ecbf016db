"""What happens after a deal and its statements are committed: announce it.

``commissions`` only announces (on the ``deals`` channel); whoever listens, the
leaderboard for instance, decides what to do with it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from anyio import from_thread
from litestar import Litestar

from commissions.core.metrics import DEALS_RECORDED
from commissions.deals.ingest import RecordResult

if TYPE_CHECKING:
    from commissions.calculation.service import RecomputeReport
    from commissions.deals.csv_import import ImportReport

log = logging.getLogger("quotaboard.events")

DEALS_CHANNEL = "deals"
PAYOUTS_CHANNEL = "payouts"


def after_deal_recorded(app: Litestar, result: RecordResult, *, door: str) -> None:
    """After the deal and its statements committed: tell listeners (the leaderboard) what changed.

    ``door``: api, webhook, form or approval (counted for ``/metrics``)."""
    DEALS_RECORDED.labels(door, result.outcome).inc()
    if result.outcome in ("unchanged", "held"):  # a held change moved nobody's pay
        return
    deal = result.stored_deal()
    announce_recomputed(app, result.reports)
    publish(
        app,
        DEALS_CHANNEL,
        {
            "event": f"deal.{result.outcome}",
            "external_id": deal.external_id,
            "name": deal.name,
            "account": deal.account,
            "status": deal.status,
            "people": sorted(result.people),
            "days": sorted(day.isoformat() for day in result.days),
        },
    )


def after_deals_imported(app: Litestar, report: ImportReport) -> None:
    """After the import and its statements committed."""
    DEALS_RECORDED.labels("csv", "created").inc(report.created)
    DEALS_RECORDED.labels("csv", "updated").inc(report.updated)
    publish(
        app,
        DEALS_CHANNEL,
        {
            "event": "deals.imported",
            "created": report.created,
            "updated": report.updated,
            "people": sorted(report.people),
            "days": sorted(day.isoformat() for day in report.days),
        },
    )


def announce_recomputed(app: Litestar, reports: list[RecomputeReport]) -> None:
    changed = sorted({pid for r in reports for pid in r.people})
    if changed:
        publish(
            app,
            PAYOUTS_CHANNEL,
            {"event": "payouts.recomputed", "periods": sorted(r.period for r in reports), "people": changed},
        )


def publish(app: Litestar, channel: str, event: dict[str, Any]) -> None:
    from litestar.channels import ChannelsPlugin

    try:
        plugin = app.plugins.get(ChannelsPlugin)
    except KeyError:
        return
    try:
        try:  # from a worker thread (sync handlers) hand over to the event loop: channels are not thread-safe
            from_thread.run_sync(lambda: plugin.publish(event, channels=[channel]))
        except RuntimeError:  # already on the event loop
            plugin.publish(event, channels=[channel])
    except Exception:  # a broken fan-out must not fail a recorded deal
        log.exception("could not publish %s on %s", event.get("event"), channel)
