"""Request limits (commissions/app/limits.py, the plan loader's depth check) and the sweep: every input
of the bad-input suite, run again here with the test client refusing any 5xx answer.

The sweep re-collects tests/app/test_bad_input.py and tests/core/test_period_window.py in this module (imported
below), where ``_no_server_errors`` makes every request through the test client fail on a 5xx; the new
cases of this module run under it too. Add a hostile input to any of them and it is swept as well.
"""

from __future__ import annotations

import json

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine, func
from sqlmodel import select

from commissions.app.limits import DEFAULT_MAX_BODY_BYTES, MAX_JSON_DEPTH, nests_deeper_than, odd_path
from commissions.engine.plan import MAX_DOCUMENT_DEPTH
from commissions.models import Deal, PlanVersion
from tests.app import test_bad_input as _bad_input
from tests.app.test_faults import everything as _everything
from tests.conftest import csrf_from, read, sign_in
from tests.core import test_period_window as _period_window
from tests.finance_fixtures import example_deal, setup_books

# ---------------------------------------------------------------- the sweep: no input reaches a 500

for _module in (_bad_input, _period_window):
    for _name in dir(_module):
        if _name.startswith("test_"):
            globals()[f"{_name}__swept"] = getattr(_module, _name)
_fixed_today = _period_window._fixed_today


@pytest.fixture(autouse=True)
def _no_server_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every answer the test client gets in this module is below 500."""
    send = TestClient.request

    def request(self, method, url, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = send(self, method, url, *args, **kwargs)
        assert response.status_code < 500, (
            f"{method} {str(url)[:200]} answered {response.status_code}: {response.text[:300]}"
        )
        return response

    monkeypatch.setattr(TestClient, "request", request)


def everything(engine: Engine):  # type: ignore[no-untyped-def]
    return _everything(engine, skip=("api_token",))


def nested(depth: int, inner: str = "1") -> str:
    return '{"a":' * depth + inner + "}" * depth


# ---------------------------------------------------------------- JSON nesting and size


def test_the_depth_scan() -> None:
    assert not nests_deeper_than(b'{"a": [1, {"b": [2]}]}')
    assert not nests_deeper_than(json.dumps({"name": "[" * 10_000 + "{" * 10_000}).encode())  # brackets in strings
    assert not nests_deeper_than(b'{"a": "\\"[[[["}' * 100)  # an escaped quote does not end the string
    assert nests_deeper_than(nested(MAX_JSON_DEPTH + 1).encode())
    assert not nests_deeper_than(nested(MAX_JSON_DEPTH).encode())
    assert nests_deeper_than(b"[" * 100_000 + b"]" * 100_000)
    assert not nests_deeper_than(b"[]" * 100_000)  # many, side by side


def test_json_nested_5000_deep_in_custom_fields_is_a_400(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    body = (
        json.dumps(example_deal("D-1", "1000", "2026-01-10"))[:-1] + ', "custom_fields": {"x": ' + nested(5000) + "}}"
    )
    response = client.post("/api/v1/deals", content=body, headers={**tokens["crm"], "Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert f"nests more than {MAX_JSON_DEPTH} levels" in response.json()["detail"]
    assert response.json()["extra"] == {"field": "body"}
    assert everything(engine) == before


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
@pytest.mark.parametrize(
    "path,method",
    [
        ("/api/v1/deals", "POST"),
        ("/api/v1/quotas", "PUT"),
        ("/api/v1/adjustments", "POST"),
        ("/api/v1/webhooks/crm/x/deals", "POST"),
    ],
)
def test_a_body_nested_100000_deep_is_a_400_whatever_its_content_type(
    client,
    engine: Engine,
    make_person,  # type: ignore[no-untyped-def]
    path: str,
    method: str,
    content_type: str | None,
) -> None:
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    headers = {**tokens["admin"], **({"Content-Type": content_type} if content_type else {})}
    response = client.request(method, path, content=b"[" * 100_000 + b"]" * 100_000, headers=headers)
    assert response.status_code == 400, response.text
    assert "nests more than" in response.json()["detail"]
    assert everything(engine) == before


def test_deep_json_on_a_page_is_a_400_page(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    setup_books(engine, make_person)
    sign_in(client, "mia@example.com")
    response = client.post(
        "/quotas/cell",
        content=nested(5000),
        headers={"Content-Type": "application/json", "x-csrftoken": csrf_from(client)},
    )
    assert response.status_code == 400 and "nests more than" in response.text


def test_a_body_over_the_limit_is_a_413(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    before = everything(engine)
    big = json.dumps(
        [{"person": "ana@example.com", "metric": "bookings", "period": "2026-Q2", "target": "1" * 100}]
        * (DEFAULT_MAX_BODY_BYTES // 100)
    )
    response = client.put(
        "/api/v1/quotas", content=big, headers={**tokens["admin"], "Content-Type": "application/json"}
    )
    assert response.status_code == 413, response.text
    assert everything(engine) == before


def test_ordinary_json_still_works(client, engine: Engine, make_person) -> None:  # type: ignore[no-untyped-def]
    tokens = setup_books(engine, make_person)
    deal = example_deal("D-1", "1000", "2026-01-10")
    deal["name"] = "Acme [[[{{{ renewal"
    assert client.post("/api/v1/deals", json=deal, headers=tokens["crm"]).status_code == 201
    quotas = [{"person": "ana@example.com", "metric": "bookings", "period": "2026-Q2", "target": "1000"}] * 1
    assert client.put("/api/v1/quotas", json=quotas, headers=tokens["admin"]).status_code == 200
    assert read(engine, lambda s: s.exec(select(Deal.name)).one()) == "Acme [[[{{{ renewal"


# ---------------------------------------------------------------- YAML nesting


DEEP_YAML = {
    "flow": "name: Deep\ncurrency: USD\nperiod: quarter\ncomponents: " + "[" * 5000 + "]" * 5000 + "\n",
    "block": "name: Deep\ncurrency: USD\nperiod: quarter\ncomponents:\n  " + "- " * 5000 + "x\n",  # compact sequences
    "json": '{"name": "Deep", "x": ' + nested(5000) + "}",
}


@pytest.mark.parametrize("kind", sorted(DEEP_YAML))
def test_plan_yaml_nested_5000_deep_is_refused_with_a_clear_message(
    client, engine: Engine, make_person, kind: str
) -> None:  # type: ignore[no-untyped-def]
    make_person("root@example.com", "admin")
    sign_in(client, "root@example.com")
    message = f"nested more than {MAX_DOCUMENT_DEPTH} levels deep"
    validate = client.post("/plans/validate", data={"document": DEEP_YAML[kind], "_csrf_token": csrf_from(client)})
    assert validate.status_code == 200 and message in validate.text  # the validator lists issues, like any invalid plan
    save = client.post(
        "/plans/new", data={"document": DEEP_YAML[kind], "effective_from": "", "_csrf_token": csrf_from(client)}
    )
    assert save.status_code == 400 and message in save.text
    assert read(engine, lambda s: s.exec(select(func.count()).select_from(PlanVersion)).one()) == 0


def test_plan_cli_refuses_deep_yaml(engine: Engine, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from commissions.cli import main

    monkeypatch.setattr("commissions.core.db.get_engine", lambda *a, **k: engine)
    path = tmp_path / "deep.yaml"
    path.write_text(DEEP_YAML["flow"])
    result = CliRunner().invoke(main, ["plan", "apply", str(path)])
    assert result.exit_code != 0 and f"nested more than {MAX_DOCUMENT_DEPTH} levels deep" in result.output, (
        result.output
    )
    assert not isinstance(result.exception, RecursionError)


def test_a_plan_of_ordinary_depth_still_loads() -> None:
    from commissions.engine.plan import load_plan_document

    depth = MAX_DOCUMENT_DEPTH - 1  # inside the top-level mapping
    assert load_plan_document("a: " + "[" * depth + "]" * depth)["a"] is not None


# ---------------------------------------------------------------- odd paths


@pytest.mark.parametrize(
    "path",
    [
        "/static/app.css%00.py",
        "/static/%00",
        "/static/app.css%0a",
        "/static/" + "a" * 300 + ".css",
        "/static/../../etc/passwd",
        "/static/%ff%fe.css",
        "/static/vendor/%00",
        "/deals%00",
        "/api/v1/deals/%00",
    ],
)
def test_odd_static_paths_are_404s(client, engine: Engine, path: str) -> None:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code in (400, 404), (path, response.status_code)
    assert response.headers.get("content-security-policy")  # the security headers are on error answers too


def test_static_files_still_serve(client, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/static/app.css").status_code == 200


def test_odd_path_rule() -> None:
    assert odd_path("/static/app.css\x00.py") and odd_path("/x/" + "a" * 256) and odd_path("/a\nb")
    assert not odd_path("/static/app.css") and not odd_path("/statements/ana@example.com")
