"""Schemathesis against the app's own OpenAPI schema: no server errors, responses as documented.

Every API operation in ``/schema/openapi.json`` gets generated requests (valid and
invalid) sent through the ASGI app with a finance token and a rep token. Checks: no
5xx (``not_a_server_error``), the body matches the documented schema for its status
(``response_schema_conformance``) and the declared content type
(``content_type_conformance``). Bounded and deterministic: ``derandomize`` (examples
derived from the test itself, no random seed), ``MAX_EXAMPLES`` per operation and mode.
Unlisted statuses (401/403/404 are not in every operation's description) are allowed:
the access matrix checks who gets which refusal.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance
from sqlalchemy import Engine

from commissions.core.db import transaction
from commissions.core.periods import ensure_period
from tests.deals.test_deals_api import BODY, token_for

MAX_EXAMPLES = 8
#: Each role is fuzzed on one database (the schema and the handlers are the same on both; the access matrix
#: and the area tests cover both databases): rep on SQLite, finance on PostgreSQL.
FUZZED_ON = {"rep": "sqlite", "finance": "postgresql"}
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.fixture
def tokens(engine: Engine, make_person) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    make_person("boss@example.com", "manager")
    make_person("ana@example.com", manager="boss@example.com")
    make_person("fin@example.com", "finance")
    with transaction(engine) as s:
        ensure_period(s, "2026-Q1")
    return {
        "finance": token_for(engine, "finance", "fin@example.com"),
        "rep": token_for(engine, "rep", "ana@example.com"),
    }


@pytest.mark.parametrize("role", ["finance", "rep"])
def test_no_server_errors_and_responses_match_the_schema(app, client, engine, tokens, role: str) -> None:  # type: ignore[no-untyped-def]
    if engine.dialect.name != FUZZED_ON[role]:
        pytest.skip(f"{role} is fuzzed on {FUZZED_ON[role]} only")
    assert client.post("/api/v1/deals", json=BODY, headers=tokens["finance"]).status_code == 201  # something to read
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, [op.label for op in operations]
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=MAX_EXAMPLES,
                derandomize=True,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case) -> None:  # type: ignore[no-untyped-def]
                case.call_and_validate(headers=tokens[role], checks=CHECKS)

            try:
                run()
            except Exception as exc:
                failures.append(f"{operation.label} ({mode.value}): {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
