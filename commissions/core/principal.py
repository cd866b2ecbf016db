"""The authenticated caller of a request: a signed-in person or an API token."""

from __future__ import annotations

from dataclasses import dataclass

from commissions.core.i18n import N_

# "rep" is any individual contributor: a sales rep or a marketer (their team says which).
ROLE_LABELS = {"rep": N_("Rep"), "manager": N_("Manager"), "finance": N_("Finance"), "admin": N_("Administrator")}


@dataclass(frozen=True, slots=True)
class Principal:
    role: str
    person_id: int | None
    email: str | None
    name: str
    via_token: bool = False
    token_id: int | None = None
    locale: str | None = None  # the person's interface language setting (None: the browser's choice)

    @property
    def label(self) -> str:
        return self.email or self.name

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]
