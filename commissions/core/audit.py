"""The audit trail: one call records who did what to which object.

Values are stored as structured JSON, never interpolated into log lines: the log
line of an event is one JSON object (``ensure_ascii``), so a newline or control
character in an email, name or id is written escaped and cannot forge another line.
Times are UTC.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import event as sa_event
from sqlmodel import Session

from commissions.models import AuditEvent
from commissions.models.base import utcnow

if TYPE_CHECKING:
    from commissions.core.principal import Principal

log = logging.getLogger("quotaboard.audit")


def log_line(event: AuditEvent) -> str:
    """The event as one line of JSON: control characters, newlines and non-ASCII escaped."""
    return json.dumps(
        {
            "at": event.at.isoformat() if event.at else None,
            "action": event.action,
            "actor": event.actor_label,
            "actor_id": event.actor_id,
            "object": f"{event.object_type}:{event.object_id}",
            "ip": event.ip,
            "detail": event.detail,
        },
        ensure_ascii=True,
        default=str,
        sort_keys=True,
    )


def record_event(
    session: Session,
    actor: Principal | None,
    action: str,
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    *,
    ip: str = "",
) -> AuditEvent:
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.person_id if actor else None,
        actor_label=(actor.label if actor else "system")[:254],
        action=action,
        object_type=object_type,
        object_id=("" if object_id is None else str(object_id))[:128],
        detail=detail or {},
        ip=ip[:64],
    )
    session.add(event)
    log_on_commit(session, [event])
    return event


def log_on_commit(session: Session, events: list[AuditEvent]) -> None:
    """Log these events' lines when the session's transaction commits (events written in bulk call it)."""
    session.info.setdefault(_UNLOGGED, []).extend(log_line(event) for event in events)


_UNLOGGED = "quotaboard.audit_lines"  # session.info: lines of events not committed yet


@sa_event.listens_for(Session, "after_commit")
def _log_committed(session: Session) -> None:
    """An event reaches the log once it is committed: a dry run or a refused request logs nothing."""
    for line in session.info.pop(_UNLOGGED, ()):
        log.info("audit %s", line)


@sa_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: object) -> None:
    if session.in_transaction() and session.get_transaction() is not previous_transaction:
        return  # a savepoint rolled back: the outer transaction's events stay to be logged on its commit
    session.info.pop(_UNLOGGED, None)


def escape_controls(text: str) -> str:
    """Newlines, tabs and other control characters as visible escapes (``\\n``, ``\\x1b``)."""
    if text.isprintable():
        return text
    out = []
    for ch in text:
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not ch.isprintable() and ch != " ":
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 256 else f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def record_forbidden(engine: Any, actor: Principal | None, method: str, path: str, reason: str, ip: str) -> None:
    """A refused request (403): who tried what (its own short transaction, after the response)."""
    from commissions.core.db import transaction

    with transaction(engine) as session:
        record_event(
            session, actor, "auth.forbidden", "route", f"{method} {path}"[:128], {"reason": str(reason)[:500]}, ip=ip
        )
