"""The audit trail: one call records who did what to which object.

Values are stored as structured JSON, never interpolated into log lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from commissions.models import AuditEvent

if TYPE_CHECKING:
    from commissions.auth.principal import Principal


def record_event(
    session: Session,
    actor: "Principal | None",
    action: str,
    object_type: str = "",
    object_id: object = "",
    detail: dict[str, Any] | None = None,
    *,
    ip: str = "",
) -> AuditEvent:
    event = AuditEvent(
        actor_id=actor.person_id if actor else None,
        actor_label=(actor.label if actor else "system")[:254],
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        detail=detail or {},
        ip=ip[:64],
    )
    session.add(event)
    return event
