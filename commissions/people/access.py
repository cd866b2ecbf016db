"""Who may see whose pay: oneself, anyone up one's manager chain, and finance (api.md).

Statements, disputes and proofs all ask here, so the rule is written once; a person one may
not see gets the same 404 as a person who does not exist.
"""

from __future__ import annotations

from sqlmodel import Session

from commissions.core.errors import InputProblem
from commissions.core.principal import Principal
from commissions.models import Person
from commissions.people.queries import person_by_email
from commissions.people.service import report_ids


class StatementNotFound(InputProblem):
    status_code = 404


def may_read_statement(session: Session, principal: Principal, person: Person) -> bool:
    """Self, anyone up the manager chain, and finance (api.md)."""
    if principal.role == "finance":
        return True
    if principal.person_id is None:
        return False
    if principal.person_id == person.id:
        return True
    return principal.role == "manager" and person.id in report_ids(session, principal.person_id)


def find_statement_person(session: Session, principal: Principal, email: str) -> Person:
    """The person whose statement is asked for; 404 alike for strangers and for people one may not see."""
    person = person_by_email(session, email)
    if person is None or not may_read_statement(session, principal, person):
        raise StatementNotFound("person", f"no statement for {email.strip().lower()} that you may see")
    return person
