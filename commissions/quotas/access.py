"""Who may set whose quota: admins and finance everyone, a manager their reporting tree."""

from __future__ import annotations

from sqlmodel import Session

from commissions.core.principal import Principal
from commissions.people.service import report_ids

# ---------------------------------------------------------------- who may edit whom


def editable_person_ids(session: Session, principal: Principal) -> set[int] | None:
    """Whose quotas the caller may read and set: None means everyone (admin).

    A manager sets the quotas of their reports, recursively, never their own (their
    own manager or an admin does that).
    """
    if principal.role == "admin":
        return None
    if principal.role == "manager" and principal.person_id is not None:
        return report_ids(session, principal.person_id)
    return set()


def may_edit(session: Session, principal: Principal, person_id: int) -> bool:
    ids = editable_person_ids(session, principal)
    return ids is None or person_id in ids
