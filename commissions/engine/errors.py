"""The engine's typed errors.

``EngineError`` is the root; callers catch it to tell bad input from bugs.

- ``PlanValidationError``: the plan document is invalid. It carries one or more
  ``PlanIssue`` (component, field, message, position) so an editor can point at the
  mistake.
- ``ConditionError``: a ``when`` expression is invalid (a ``PlanIssue`` once it is
  attached to a component).
- ``InputError``: the people, deals, quotas or campaigns handed to the engine are
  inconsistent (unknown person, a deal in another currency without an exchange rate
  (``NoExchangeRate``), a cancelled deal
  without ``cancelled_at``...). Nothing is computed when it is raised.

Per-person problems (no quota, say) are not exceptions: they are reported on the
person's payee in the result, and everyone else is still computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


class EngineError(Exception):
    """Root of every error the engine raises on purpose."""


@dataclass(frozen=True, slots=True)
class PlanIssue:
    """One problem in a plan document.

    ``component`` is the component's name (``None`` for plan-level fields), ``field`` a
    path inside it (``tiers[2].to``), ``position`` the 1-based column inside a ``when``
    expression when the problem is there.
    """

    component: str | None
    field: str
    message: str
    position: int | None = None

    def __str__(self) -> str:
        where = f"component {self.component!r}, " if self.component is not None else ""
        at = f" (at position {self.position})" if self.position is not None else ""
        return f"{where}{self.field}: {self.message}{at}"


class PlanValidationError(EngineError, ValueError):
    """The plan document is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: list[PlanIssue] | tuple[PlanIssue, ...]):
        self.issues = tuple(issues)
        super().__init__("invalid plan: " + "; ".join(str(issue) for issue in self.issues))

    @property
    def component(self) -> str | None:
        return self.issues[0].component if self.issues else None

    @property
    def field(self) -> str | None:
        return self.issues[0].field if self.issues else None

    @property
    def message(self) -> str:
        return self.issues[0].message if self.issues else ""


class ConditionError(EngineError, ValueError):
    """A ``when`` expression is not valid. ``position`` is 1-based within the text."""

    def __init__(self, message: str, position: int, text: str = ""):
        self.message = message
        self.position = position
        self.text = text
        super().__init__(f"{message} at position {position}")


class InputError(EngineError, ValueError):
    """The inputs (people, deals, quotas, campaigns, period) are inconsistent."""


class NoExchangeRate(InputError):
    """No exchange rate converts ``source`` into ``target`` on or before ``day`` (plans.md 3);
    ``deal`` is the external id of the deal that needed it, when there is one."""

    def __init__(self, source: str, target: str, day: date, deal: str | None = None):
        self.source, self.target, self.day, self.deal = source, target, day, deal
        message = f"no exchange rate from {source} to {target} on or before {day.isoformat()}"
        super().__init__(f"deal {deal}: {message}" if deal is not None else message)


class PeriodError(InputError):
    """A period key cannot be read, or does not match the plan's period kind."""
