"""Errors that services raise for bad requests; the web layer turns them into 4xx answers.

Services stay free of HTTP: they raise these, and ``commissions.app.errors`` maps
them to 400 / 403 / 409 with the field that is wrong in ``extra``.
"""

from __future__ import annotations


class InputProblem(ValueError):
    """Bad input; ``field`` names what is wrong (HTTP 400)."""

    status_code = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Conflict(InputProblem):
    """Valid input that the current state refuses, e.g. a locked period (HTTP 409)."""

    status_code = 409


class Forbidden(PermissionError):
    """Outside the caller's role or team (HTTP 403); nothing was changed."""

    status_code = 403
