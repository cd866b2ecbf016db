"""Who may change pay: the one rule every door (form, API, CSV import, webhook) goes through.

``DealWriter.write`` (deals/ingest.py) calls ``decide`` for every deal change, whatever the door:

- **Reps** record deals they own. They cannot re-record, edit or cancel a deal that someone
  else owns or that someone else recorded (any earlier version written by another person,
  finance, an admin, an import or a CRM). A change by a rep that credits anyone but the rep,
  before or after the change (a split partner added, changed or removed), is **held**: stored
  in ``deal_approval``, paying nobody, until a manager of the requester or of a person it
  credits, or finance, approves it. So is one whose source campaign credits a marketer (the
  campaign's owner, before or after the change) other than the rep: sourced revenue is pay too.
  A change that lowers the credit of someone outside that manager's tree
  (a split partner removed or cut) waits for a manager over them too, or finance (``may_approve``).
- **Managers** record and change deals whose credited people, before and after the change,
  are all in their reporting tree (themselves included). Nothing else. A change whose source
  campaign credits a marketer outside their tree is held, as a rep's split is.
- **No existence oracle**: a refusal because of the deal already behind an external id is one
  sentence whatever that deal is (``UNAVAILABLE``), and the deal form's live check
  (``POST /deals/new/validate``) checks a rep's or manager's entry as a new deal, so it never
  tells whether an id exists.
- **Finance and admins** (a person or a token with that role; a rep's token is a rep) and the
  system itself (CLI, demo loader) record anything. A signed CRM webhook records as finance.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from commissions.core.errors import Forbidden
from commissions.core.principal import Principal

Decision = Literal["record", "hold"]
# The one answer for an existing deal the caller may not change, whoever owns or recorded it: it names
# nobody, so it says no more than that the id cannot be used (and the form's live check never says it).
UNAVAILABLE = (
    "this external id is not available to you: leave it empty for a new deal, or ask your "
    "manager or finance to change the deal it names"
)


class DealForbidden(Forbidden):
    pass


@dataclass(frozen=True)
class Change:
    owner_id: int
    credited: frozenset[int]  # after the change: the owner and the split partners
    before_owner_id: int | None = None  # None: a new deal
    before_credited: frozenset[int] = frozenset()
    recorded_by: frozenset[int | None] = field(default_factory=frozenset)  # who wrote earlier versions (None: system)
    sourced: frozenset[int] = frozenset()  # the source campaign's owner, before and after: credited sourced revenue


def decide(by: Principal | None, change: Change, visible: set[int] | None) -> Decision:
    """Record now, hold for approval, or refuse (``DealForbidden``). ``visible``: the caller's reporting tree."""
    if by is None or by.role in ("finance", "admin"):
        return "record"
    everyone = change.credited | change.before_credited
    if by.role == "manager":
        if by.person_id is None or not change.credited <= (visible or set()):
            raise DealForbidden("a manager can only record deals of their own team")
        if not change.before_credited <= (visible or set()):
            raise DealForbidden(UNAVAILABLE)
        return "hold" if change.sourced - (visible or set()) else "record"
    me = by.person_id
    if me is None or change.owner_id != me:
        raise DealForbidden("a rep can only record deals they own")
    if change.before_owner_id is not None and (change.before_owner_id != me or change.recorded_by - {me}):
        raise DealForbidden(UNAVAILABLE)
    return "hold" if (everyone | change.sourced) - {me} else "record"


def may_approve(
    by: Principal,
    *,
    requester_id: int,
    credited: set[int],
    visible: set[int] | None,
    lowered: set[int] | frozenset[int] = frozenset(),
) -> bool:
    """Finance approves any held change; a manager one whose requester or a credited person reports to them
    (but never one that credits the manager), and only if everyone whose credit the change lowers, besides the
    requester, reports to them too: the rep's manager approves a split that gives another team's rep a share,
    not a change that takes one away from them (that waits for a manager over both, or finance)."""
    if by.role == "finance":
        return True
    if by.role != "manager" or by.person_id is None or by.person_id in credited or by.person_id == requester_id:
        return False  # nobody approves a change that credits them, nor their own (a manager's held change)
    below = (visible or set()) - {by.person_id}
    return bool(({requester_id} | credited) & below) and set(lowered) - {requester_id} <= below
