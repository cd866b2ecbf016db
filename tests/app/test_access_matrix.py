"""The access-control matrix: every route of the app × every kind of caller, allowed or refused.

The test enumerates ``app.routes``; a route without a rule in ``RULES`` fails
``test_every_route_has_a_rule`` with its method and path, and a rule for a route
that no longer exists fails too. **Adding a route means adding one line to RULES**:

    ("POST", "/periods/{key:str}/lock"): {"finance"},

The key is the method and the path template exactly as Litestar prints it (run
this test: the failure message shows it). The value is the set of callers who
may use the route:

- ``anonymous``: nobody signed in;
- ``rep``: a sales rep of *another* team than the objects' owner (``rep`` is the
  "rep reading another rep's object" for routes with an object in the path);
- ``manager``: the manager of the owner of the objects (ana, Sales East);
- ``other_manager``: the manager of another team (Sales West);
- ``finance`` and ``admin``.

``PUBLIC`` routes (sign-in, health, the OpenAPI schema, static files) may be used by
anyone and are only checked not to fail. Path parameters are filled from ``PARAMS``
with real objects owned by ana's team, so "refused" proves the object is not reachable
by guessing its id. Allowed means: not 401/403, not 404, not a redirect to the sign-in
page (400/422 for the empty body is fine: the request got past authorisation). Refused
means: anonymous pages go to ``/login``, anonymous API calls get 401, everyone else
403 or 404; and a refused request changed no row of any table (the audit log aside).

Page routes are called with the caller's session (and CSRF token), ``/api/`` routes
with the caller's bearer token. The data (the demo organisation) is built once per
database backend.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from sqlalchemy import Engine, select
from sqlmodel import Session

from commissions.app.assembly import create_app
from commissions.auth.tokens import create_token
from commissions.core.db import make_engine, transaction
from commissions.core.migrate import upgrade
from commissions.core.principal import Principal
from commissions.core.settings import Settings
from commissions.demo import DEMO_PASSWORD, DOMAIN, load_demo
from commissions.models import Campaign, Deal, Period, Person, Plan, PlanAssignment, SsoProvider, Subscription
from commissions.models.base import metadata, utcnow
from commissions.webhooks.service import create_integration
from tests.conftest import BACKENDS, empty_database, fresh_database_url

EVERYONE = {"rep", "manager", "other_manager", "finance", "admin"}
ACTORS = ["anonymous", *sorted(EVERYONE)]
PUBLIC = "public"
SALES = {"rep", "manager", "other_manager"}
STATEMENT_READERS = {"rep", "manager", "other_manager", "finance"}
MANAGERS = {"manager", "other_manager", "admin"}

RULES: dict[tuple[str, str], set[str] | str] = {
    # public
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # its own credential (METRICS_TOKEN; off, 404, when unset): tests/app/test_health_and_metrics.py
    ("GET", "/metrics"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,  # signs out whoever calls it; nothing to protect
    ("POST", "/account/sign-out-everywhere"): EVERYONE,
    ("GET", "/account/password"): EVERYONE,
    ("POST", "/account/password"): EVERYONE,  # an empty form: refused as a bad new password, nothing changes
    ("POST", "/account/language"): EVERYONE,  # an empty form: "browser's choice", already everyone's setting
    # a reset link is its own credential (a wrong one is a 404 for everyone)
    ("GET", "/password-reset/{token:str}"): PUBLIC,
    ("POST", "/password-reset/{token:str}"): PUBLIC,
    # "Forgot password?": anyone may ask; the answer never tells whether the address has an account
    ("GET", "/forgot-password"): PUBLIC,
    ("POST", "/forgot-password"): PUBLIC,
    # CRM webhooks authenticate by signature, not by role: every caller here is unsigned and refused
    # (401 even for a signed-in person or a token; tests/webhooks/test_webhooks.py covers signed deliveries)
    ("POST", "/api/v1/webhooks/crm/{name:str}/deals"): "signed",
    # home, me
    ("GET", "/"): EVERYONE,
    ("GET", "/api/v1/me"): EVERYONE,
    ("GET", "/help/figures"): EVERYONE,  # what each figure counts and how it is rounded
    # deals
    ("GET", "/deals"): EVERYONE,
    ("GET", "/api/v1/deals"): EVERYONE,
    ("POST", "/api/v1/deals"): EVERYONE,  # a rep records their own deal; the service checks the owner
    ("GET", "/deals/import"): {"finance", "admin"},
    ("POST", "/deals/import"): {"finance", "admin"},
    ("POST", "/api/v1/deals/import"): {"finance", "admin"},
    ("GET", "/deals/new"): SALES,
    ("POST", "/deals/new"): SALES,
    ("POST", "/deals/new/validate"): SALES,
    # ana's deal from the CRM (deals/rules.py): its page for whoever sees it (West's rep and manager do not),
    # changed by her manager, finance and admins (an empty edit or cancel is a 400 past authorisation)
    ("GET", "/deals/{deal_id:int}"): {"manager", "finance", "admin"},
    ("GET", "/deals/{deal_id:int}/edit"): {"manager", "finance", "admin"},
    ("POST", "/deals/{deal_id:int}/edit"): {"manager", "finance", "admin"},
    ("POST", "/deals/{deal_id:int}/cancel"): {"manager", "finance", "admin"},
    # held deal changes (ana's, crediting an East colleague): East's manager and finance decide; the first
    # approval applies it and later decisions get 409 (allowed: past authorisation); see test_deal_writes_*
    ("GET", "/deals/approvals"): STATEMENT_READERS,
    ("POST", "/deals/approvals/{approval_id:int}/approve"): {"manager", "finance"},
    ("POST", "/deals/approvals/{approval_id:int}/reject"): {"manager", "finance"},
    ("GET", "/api/v1/deals/approvals"): STATEMENT_READERS,
    ("POST", "/api/v1/deals/approvals/{approval_id:int}/approve"): {"manager", "finance"},
    ("POST", "/api/v1/deals/approvals/{approval_id:int}/reject"): {"manager", "finance"},
    # statements: ana's statement is hers, her manager's and finance's
    ("GET", "/statements"): STATEMENT_READERS,
    ("GET", "/statements/{email:str}"): {"manager", "finance"},
    ("GET", "/api/v1/statements/{email:str}"): {"manager", "finance"},
    ("GET", "/statements/{email:str}/inputs.zip"): {"manager", "finance"},  # "Check this statement yourself"
    ("GET", "/statements/{email:str}/check"): {"manager", "finance"},  # the proof of a long statement, when asked
    ("GET", "/api/v1/statements/{email:str}/inputs"): {"manager", "finance"},
    ("POST", "/statements/what-if"): SALES,
    # the what-if for a CRM card: without `person` the caller is asked about (finance, who has no statement: 400)
    ("GET", "/api/v1/estimate"): STATEMENT_READERS,
    ("GET", "/team"): {"manager", "other_manager"},
    # finance
    ("GET", "/finance"): {"finance"},
    ("GET", "/finance/periods"): {"finance"},
    ("GET", "/api/v1/payouts/{filename:str}"): {"finance"},
    # the period workflow (the open period; finance's allowed calls approve, lock and pay it in turn)
    ("GET", "/periods/{key:str}"): {"finance"},  # an old address: redirects to /finance/periods/{key}
    ("GET", "/finance/periods/{key:str}"): {"finance"},
    ("POST", "/finance/periods/{key:str}/{action:str}"): {"finance"},
    ("GET", "/api/v1/periods/{period:str}"): {"finance"},
    ("POST", "/api/v1/periods/{period:str}/approve"): {"finance"},
    ("POST", "/api/v1/periods/{period:str}/lock"): {"finance"},
    ("POST", "/api/v1/periods/{period:str}/pay"): {"finance"},
    ("GET", "/api/v1/periods/{period:str}/journal.csv"): {"finance"},
    ("GET", "/api/v1/periods/{period:str}/journal.xlsx"): {"finance"},
    ("GET", "/api/v1/periods/{period:str}/accruals"): {"finance"},
    ("GET", "/api/v1/periods/{period:str}/amortisation"): {"finance"},
    ("GET", "/finance/periods/{key:str}/accounting"): {"finance"},
    ("GET", "/finance/periods/{key:str}/payroll"): {"finance"},
    ("GET", "/finance/accounting/settings"): {"finance", "admin"},
    ("POST", "/finance/accounting/settings"): {"finance", "admin"},
    # manual adjustments (one booked on ana's statement)
    ("GET", "/finance/adjustments"): {"finance"},
    ("POST", "/finance/adjustments"): {"finance"},
    ("POST", "/finance/adjustments/{line_id:int}/reverse"): {"finance"},
    ("POST", "/api/v1/adjustments"): {"finance"},
    ("POST", "/api/v1/adjustments/{adjustment_id:int}/reverse"): {"finance"},
    # holds and payments (a hold on ana in the matrix period)
    ("GET", "/finance/holds"): {"finance"},
    ("POST", "/finance/holds"): {"finance"},
    ("POST", "/finance/holds/{hold_id:int}/release"): {"finance"},
    ("POST", "/finance/payments/import"): {"finance"},
    ("GET", "/api/v1/holds"): {"finance"},
    ("POST", "/api/v1/holds"): {"finance"},
    ("POST", "/api/v1/holds/{hold_id:int}/release"): {"finance"},
    ("POST", "/api/v1/payments"): {"finance", "admin"},
    # revenue marketing: everyone reads the dashboard; marketing's manager (not among the callers) and
    # admins set its team quotas; lead events come from finance and admin tokens
    ("GET", "/marketing"): EVERYONE,
    ("POST", "/marketing/team-quotas"): {"admin"},
    ("POST", "/api/v1/leads/events"): {"finance", "admin"},
    ("POST", "/api/v1/leads/events/import"): {"finance", "admin"},
    # the team pulse: the pulse is run by West's manager, so West's rep answers it; managers run their own
    ("GET", "/pulse"): SALES,
    ("POST", "/pulse/{pulse_id:int}"): {"rep"},
    ("POST", "/team/pulse"): {"manager", "other_manager"},
    ("POST", "/team/pulse/{pulse_id:int}/close"): {"other_manager"},
    # disputes: ana's dispute is seen by ana, her manager and finance
    ("GET", "/disputes"): STATEMENT_READERS,
    ("GET", "/disputes/new"): STATEMENT_READERS,
    ("POST", "/disputes"): {"manager", "finance"},  # about ana's statement (BODIES)
    ("GET", "/disputes/{dispute_id:int}"): {"manager", "finance"},
    ("POST", "/disputes/{dispute_id:int}/messages"): {"manager", "finance"},
    ("POST", "/disputes/{dispute_id:int}/resolve"): {"finance"},
    # admin
    ("GET", "/admin/people"): {"admin"},
    ("GET", "/account/tokens"): EVERYONE,
    ("POST", "/account/tokens"): EVERYONE,
    # only one's own token: the matrix's spare token (acting for nobody) is nobody's to revoke here, 404
    ("POST", "/account/tokens/{token_id:int}/revoke"): set(),
    ("GET", "/admin/teams"): {"admin"},
    ("POST", "/admin/teams"): {"admin"},
    ("GET", "/admin/teams/{team_id:int}"): {"admin"},
    ("POST", "/admin/teams/{team_id:int}"): {"admin"},
    ("POST", "/admin/teams/{team_id:int}/delete"): {"admin"},
    ("POST", "/admin/people"): {"admin"},
    ("GET", "/admin/people/{person_id:int}"): {"admin"},
    ("POST", "/admin/people/{person_id:int}/details"): {"admin"},
    ("POST", "/admin/people/{person_id:int}/active"): {"admin"},
    ("POST", "/admin/people/{person_id:int}/placement"): {"admin"},
    ("POST", "/admin/people/{person_id:int}/payment-currency"): {"admin"},
    ("POST", "/admin/people/{person_id:int}/locale"): {"admin"},
    ("GET", "/admin/people/{person_id:int}/password"): {"admin"},
    ("POST", "/admin/people/{person_id:int}/password/reset-link"): {"admin"},
    ("GET", "/admin/tokens"): {"admin"},
    ("POST", "/admin/tokens"): {"admin"},
    ("POST", "/admin/tokens/{token_id:int}/revoke"): {"admin"},
    ("GET", "/admin/audit"): {"admin"},
    ("GET", "/admin/audit.csv"): {"admin"},
    ("GET", "/admin/webhooks"): {"admin"},
    ("POST", "/admin/webhooks"): {"admin"},
    ("POST", "/admin/webhooks/{integration_id:int}/revoke"): {"admin"},
    # outbound webhooks: admins and finance (include_pay is finance's alone: tests/outbound)
    ("GET", "/admin/webhooks/outbound"): {"admin", "finance"},
    ("POST", "/admin/webhooks/outbound"): {"admin", "finance"},
    ("POST", "/admin/webhooks/outbound/{subscription_id:int}/deactivate"): {"admin", "finance"},
    ("POST", "/admin/webhooks/outbound/deliveries/{delivery_id:int}/replay"): {"admin", "finance"},
    # chat channels (Slack, Teams) on the same page: tests/outbound/test_chat_pages.py
    ("POST", "/admin/webhooks/outbound/chat"): {"admin", "finance"},
    ("POST", "/admin/webhooks/outbound/chat/{channel_id:int}/test"): {"admin", "finance"},
    ("GET", "/api/v1/subscriptions"): {"admin", "finance"},
    ("POST", "/api/v1/subscriptions"): {"admin", "finance"},
    ("DELETE", "/api/v1/subscriptions/{subscription_id:int}"): {"admin", "finance"},
    ("DELETE", "/api/v1/subscriptions"): {"admin", "finance"},
    # single sign-on: starting and finishing a sign-in are public (a slug nobody configured: 404 / refused);
    # the flow itself: tests/sso/test_oidc_flow.py
    ("POST", "/login/sso/{slug:str}"): PUBLIC,
    ("GET", "/login/sso/{slug:str}/callback"): PUBLIC,
    ("GET", "/admin/sso"): {"admin"},
    ("POST", "/admin/sso"): {"admin"},
    ("GET", "/admin/sso/{provider_id:int}"): {"admin"},
    ("POST", "/admin/sso/{provider_id:int}"): {"admin"},
    ("POST", "/admin/sso/{provider_id:int}/enable"): {"admin"},
    ("POST", "/admin/sso/{provider_id:int}/disable"): {"admin"},
    ("POST", "/admin/sso/password-sign-in"): {"admin"},
    ("GET", "/admin/custom-fields"): {"admin"},
    ("POST", "/admin/custom-fields"): {"admin"},
    ("GET", "/api/v1/custom-fields"): {"admin"},
    ("POST", "/api/v1/custom-fields"): {"admin"},
    # the integration API (api.md "Integration resources"): an empty body is a 400 past authorisation
    ("GET", "/api/v1/campaigns"): {"admin", "finance"},
    ("PUT", "/api/v1/campaigns"): {"admin", "finance"},
    ("GET", "/api/v1/plans"): {"admin"},
    ("GET", "/api/v1/plans/{name:str}"): {"admin"},
    ("PUT", "/api/v1/plans/{name:str}"): {"admin"},
    ("PUT", "/api/v1/plans/{name:str}/assignments"): {"admin"},
    # the integration API for people and teams (an empty body is a 400 past authorisation)
    ("GET", "/api/v1/people"): {"admin"},
    ("PUT", "/api/v1/people"): {"admin"},
    ("GET", "/api/v1/teams"): {"admin"},
    ("PUT", "/api/v1/teams"): {"admin"},
    # SCIM 2.0 (an admin's API token only; a body-less write is a 400 past authorisation)
    ("GET", "/scim/v2/ServiceProviderConfig"): {"admin"},
    ("GET", "/scim/v2/ResourceTypes"): {"admin"},
    ("GET", "/scim/v2/Schemas"): {"admin"},
    ("GET", "/scim/v2/Users"): {"admin"},
    ("POST", "/scim/v2/Users"): {"admin"},
    ("GET", "/scim/v2/Users/{person_id:str}"): {"admin"},
    ("PUT", "/scim/v2/Users/{person_id:str}"): {"admin"},
    ("PATCH", "/scim/v2/Users/{person_id:str}"): {"admin"},
    ("DELETE", "/scim/v2/Users/{person_id:str}"): {"admin"},
    ("GET", "/scim/v2/Groups"): {"admin"},
    ("POST", "/scim/v2/Groups"): {"admin"},
    ("GET", "/scim/v2/Groups/{team_id:str}"): {"admin"},
    ("PUT", "/scim/v2/Groups/{team_id:str}"): {"admin"},
    ("PATCH", "/scim/v2/Groups/{team_id:str}"): {"admin"},
    ("DELETE", "/scim/v2/Groups/{team_id:str}"): {"admin"},
    # quotas
    ("GET", "/quotas"): {"manager", "other_manager", "admin"},
    ("POST", "/quotas/cell"): MANAGERS,
    ("POST", "/quotas/copy"): MANAGERS,
    ("GET", "/quotas/upload"): MANAGERS,
    ("POST", "/quotas/upload"): MANAGERS,
    ("POST", "/quotas/upload/confirm"): MANAGERS,
    ("PUT", "/api/v1/quotas"): MANAGERS,
    # exchange rates: finance and admins
    ("GET", "/finance/rates"): {"finance", "admin"},
    ("POST", "/finance/rates"): {"finance", "admin"},
    ("POST", "/finance/rates/import"): {"finance", "admin"},
    ("GET", "/finance/rates/history"): {"finance", "admin"},
    ("GET", "/api/v1/rates"): {"finance", "admin"},
    ("PUT", "/api/v1/rates"): {"finance", "admin"},
    # campaigns: everyone reads; the campaign (owned by marketing) is edited by marketing's manager and admins
    ("GET", "/campaigns"): EVERYONE,
    ("POST", "/campaigns"): {"admin"},  # and marketing's managers (not among the callers)
    ("GET", "/campaigns/{campaign_id:int}/edit"): {"admin"},
    ("POST", "/campaigns/{campaign_id:int}"): {"admin"},
    # plans
    ("GET", "/plans"): {"admin"},
    ("GET", "/plans/new"): {"admin"},
    ("POST", "/plans/new"): {"admin"},
    ("POST", "/plans/validate"): {"admin"},
    ("GET", "/plans/{plan_id:int}"): {"admin"},
    ("GET", "/plans/{plan_id:int}/edit"): {"admin"},
    ("POST", "/plans/{plan_id:int}/edit"): {"admin"},
    ("GET", "/plans/{plan_id:int}/versions/{number:int}"): {"admin"},
    ("POST", "/plans/{plan_id:int}/assignments"): {"admin"},
    ("POST", "/plans/{plan_id:int}/assignments/{assignment_id:int}/end"): {"admin"},
    # leaderboard extension
    ("GET", "/leaderboard"): EVERYONE,
    ("GET", "/api/v1/leaderboard"): EVERYONE,
    ("GET", "/leaderboard/stream"): EVERYONE,
    ("GET", "/leaderboard/tv"): EVERYONE,
    ("GET", "/leaderboard/tv/panel"): EVERYONE,
    ("GET", "/admin/badges"): {"admin"},
    ("POST", "/admin/badges"): {"admin"},
    ("GET", "/admin/badges/{rule_id:int}"): {"admin"},
    ("POST", "/admin/badges/{rule_id:int}"): {"admin"},
    # the contest belongs to Sales East (created by its manager): West's manager may not even see it
    ("GET", "/leaderboard/contests"): EVERYONE,
    ("POST", "/leaderboard/contests"): {"manager", "other_manager", "admin"},
    ("GET", "/leaderboard/contests/new"): {"manager", "other_manager", "admin"},
    ("GET", "/leaderboard/contests/{contest_id:int}"): {"manager", "finance", "admin"},
    ("GET", "/api/v1/contests"): EVERYONE,
    ("GET", "/api/v1/contests/{contest_id:int}"): {"manager", "finance", "admin"},
    ("GET", "/leaderboard/contests/{contest_id:int}/edit"): {"manager", "admin"},
    ("POST", "/leaderboard/contests/{contest_id:int}"): {"manager", "admin"},
    ("POST", "/leaderboard/contests/{contest_id:int}/cancel"): {"manager", "admin"},
}

# Served without authentication on purpose: the API description and static files (no data).
PUBLIC_PREFIXES = ("/schema", "/static/", "/leaderboard/static/")
STREAMS = {"/leaderboard/stream"}
# Form fields (or JSON) sent with a route; "{name}" is filled from the objects like path parameters.
BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/disputes"): {"email": "{email}"},
    ("POST", "/marketing/team-quotas"): {"period": "{key}", "team_id": "{marketing_team_id}", "target_mqls": "10"},
    ("POST", "/admin/webhooks/outbound"): {"url": "https://hooks.example.com/page", "events": "deal.recorded"},
    ("POST", "/admin/webhooks/outbound/chat"): {
        "kind": "slack",
        "name": "#matrix",
        "url": "https://hooks.slack.com/services/T0/B0/matrix",
        "events": "badge.granted",
    },
}
# Path parameters that mean something else under a prefix: a plan's {name} is the demo plan's name.
ROUTE_PARAMS: dict[str, dict[str, str]] = {
    "/api/v1/plans/": {"name": "plan_name"},
    "/scim/v2/Groups/": {"team_id": "marketing_team_id"},
}
TOKEN_PREFIXES = ("/api/", "/scim/")  # bearer tokens, JSON bodies, 401 for no one
SIGN_OUTS = {
    "/logout",
    "/account/sign-out-everywhere",
}  # the caller signs in again afterwards  # never-ending responses: the status line is checked, the body is not read


def app_routes(app: Litestar) -> list[tuple[str, str]]:
    """Every (method, path template) the app answers, OPTIONS/HEAD and public prefixes left out."""
    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(PUBLIC_PREFIXES):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                if method not in {"OPTIONS", "HEAD"}:
                    found.add((method, route.path))
    return sorted(found, key=lambda r: (r[1], r[0]))


@pytest.fixture(scope="module")
def matrix_app(tmp_path_factory: pytest.TempPathFactory) -> Litestar:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('routes') / 'routes.db'}")
    settings = Settings(
        environment="test", data_dir=tmp_path_factory.mktemp("data"), database_url="sqlite://", secret_key="t" * 40
    )
    return create_app(settings, engine=engine)


def test_every_route_has_a_rule(matrix_app: Litestar) -> None:
    routes = app_routes(matrix_app)
    missing = [f"{m} {p}" for m, p in routes if (m, p) not in RULES]
    assert not missing, (
        "routes without an access rule (add a line to RULES in tests/app/test_access_matrix.py):\n" + "\n".join(missing)
    )
    stale = [f"{m} {p}" for m, p in RULES if (m, p) not in set(routes)]
    assert not stale, "rules for routes that do not exist:\n" + "\n".join(stale)


def test_public_routes_are_only_schema_and_static(matrix_app: Litestar) -> None:
    for route in matrix_app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith(PUBLIC_PREFIXES):
            for handler in route.route_handlers:
                assert not handler.resolve_guards() or route.path.startswith("/schema"), route.path
                assert handler.handler_name in {
                    "get_handler",
                    "head_handler",
                    "options_handler",
                    "_handler",
                    "handle_schema_path_not_found",
                    "render_oauth2_redirect",
                }, route.path


# --- the data: the demo organisation, once per backend --------------------------------------------


class World:
    def __init__(self, engine: Engine, app: Litestar) -> None:
        self.engine, self.app = engine, app
        self.emails: dict[str, str] = {}
        self.tokens: dict[str, str] = {}
        self.params: dict[str, str] = {}


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    engine = make_engine(fresh_database_url(request.param, tmp_path_factory.mktemp("matrix"), "matrix"))
    upgrade(engine=engine)
    load_demo(engine, today=date(2026, 11, 20))
    settings = Settings(
        environment="test", data_dir=tmp_path_factory.mktemp("data"), database_url="sqlite://", secret_key="t" * 40
    )
    app = create_app(settings, engine=engine)
    w = World(engine, app)
    from commissions.disputes.service import open_dispute
    from leaderboard.badges import seed_default_rules
    from leaderboard.contests.editing import ContestInput, create_contest
    from leaderboard.models import BadgeRule

    with transaction(engine) as s:

        def person(prefix: str) -> Person:
            return s.exec(select(Person).where(Person.email == f"{prefix}@{DOMAIN}")).scalars().one()

        def principal(p: Person) -> Principal:
            return Principal(role=p.role, person_id=p.id, email=p.email, name=p.name)

        ana, east, west = person("ana.alvarez"), person("east.manager"), person("west.manager")
        west_rep = (
            s.exec(select(Person).where(Person.manager_id == west.id, Person.role == "rep").order_by(Person.id))
            .scalars()
            .first()
        )
        victim = (
            s.exec(select(Person).where(Person.manager_id == east.id, Person.id != ana.id).order_by(Person.id))
            .scalars()
            .first()
        )
        actors = {
            "rep": west_rep,
            "manager": east,
            "other_manager": west,
            "finance": person("finance"),
            "admin": person("admin"),
        }
        admin = principal(actors["admin"])
        for name, p in actors.items():
            w.emails[name] = p.email
            # a token acting for a person: the operator's (an admin makes only their own or a person's-less one)
            w.tokens[name] = create_token(s, name=f"matrix {name}", role=p.role, person=p, created_by=None)[1]
        spare_token = create_token(s, name="spare", role="rep", person=None, created_by=admin)[0]
        period = s.exec(select(Period).where(Period.state == "open").order_by(Period.starts_on)).scalars().first()
        dispute = open_dispute(
            s, principal=principal(ana), person=ana, period_key=period.key, line_id=None, question="Why?"
        )
        contest = create_contest(
            s,
            principal(east),
            ContestInput(
                name="East push",
                description="d",
                prize="p",
                scope="teams",
                teams=[str(east.team_id)],
                # still to start whenever the suite runs: its edit routes are open to its managers
                start=(utcnow().date() + timedelta(days=10)).isoformat(),
                end=(utcnow().date() + timedelta(days=20)).isoformat(),
            ),
        )
        seed_default_rules(s)
        rule = s.exec(select(BadgeRule).order_by(BadgeRule.id)).scalars().first()
        from decimal import Decimal

        from commissions.adjustments.service import add_manual_adjustment, line_of
        from commissions.pulse.service import open_pulse

        adjustment = add_manual_adjustment(
            s,
            person_id=ana.id,
            period_key=period.key,
            amount=Decimal("25.00"),
            reason="matrix",
            actor_id=actors["finance"].id,
        )
        s.flush()
        adjustment_line = line_of(s, adjustment)
        from commissions.models import CommissionHold

        hold = CommissionHold(
            period_id=period.id, person_id=ana.id, reason="matrix", created_by_id=actors["finance"].id
        )
        s.add(hold)
        pulse = open_pulse(s, principal(west), today=date(2026, 11, 20))
        from commissions.models import Team

        marketing_team = s.exec(select(Team).where(Team.kind == "marketing").order_by(Team.id)).scalars().first()
        plan = s.exec(select(Plan).order_by(Plan.id)).scalars().first()
        assignment = (
            s.exec(
                select(PlanAssignment).where(PlanAssignment.plan_id == plan.id, PlanAssignment.person_id == victim.id)
            )
            .scalars()
            .first()
        )
        campaign = s.exec(select(Campaign).order_by(Campaign.id)).scalars().first()
        hook = create_integration(s, name="matrix-crm", secret_key=settings.secret_key, by=admin)[0]
        from commissions.models import Delivery, OutboxEvent
        from commissions.outbound.service import create_subscription

        subscription = create_subscription(
            s,
            url="https://hooks.example.com/matrix",
            events=["deal.recorded"],
            include_pay=False,
            by=admin,
            secret_key=settings.secret_key,
            allow_http=False,
        )[0]
        from commissions.outbound.service import seal_chat_url

        chat_channel = Subscription(
            kind="slack",
            name="#matrix",
            url="http://127.0.0.1/…",
            url_encrypted=seal_chat_url(settings.secret_key, "http://127.0.0.1:9/matrix"),  # refused at once
            events=["badge.granted"],
            secret_encrypted="",
            prefix="",
        )
        s.add(chat_channel)
        outbox_event = OutboxEvent(event_id="evt_matrix", type="deal.recorded", data={}, fanned_out=True)
        s.add(outbox_event)
        s.flush()
        delivery = Delivery(subscription_id=subscription.id, event_id=outbox_event.id, status="dead", attempts=10)
        s.add(delivery)
        sso = SsoProvider(
            slug="matrix-sso",
            label="Matrix SSO",
            issuer="https://sso.invalid",
            client_id="quotaboard",
            client_secret_encrypted="not-read-here",
        )
        s.add(sso)
        s.flush()
        from commissions.deals.ingest import DealWriter
        from commissions.deals.schemas import DealIn

        held = (
            DealWriter(s, principal(ana))
            .write(
                DealIn.model_validate(
                    {  # a rep's split: waits for approval
                        "external_id": "MATRIX-HELD",
                        "owner": ana.email,
                        "amount": "1000",
                        "currency": "USD",
                        "closed_at": period.starts_on.isoformat(),
                        "splits": [{"person": ana.email, "share": "50"}, {"person": victim.email, "share": "50"}],
                    }
                )
            )
            .approval
        )
        s.flush()
        w.params = {
            "email": ana.email,
            "person_id": str(victim.id),
            "token_id": str(spare_token.id),
            "dispute_id": str(dispute.id),
            "contest_id": str(contest.id),
            "rule_id": str(rule.id),
            "plan_id": str(plan.id),
            "plan_name": plan.name,
            "assignment_id": str(assignment.id),
            "number": "1",
            "campaign_id": str(campaign.id),
            "filename": f"{period.key}.csv",
            "name": "matrix-crm",
            "key": period.key,
            "period": period.key,
            "action": "approve",
            "adjustment_id": str(adjustment.id),
            "line_id": str(adjustment_line.id),
            "hold_id": str(hold.id),
            "pulse_id": str(pulse.id),
            "marketing_team_id": str(marketing_team.id),
            "team_id": str(marketing_team.id),
            "integration_id": str(hook.id),
            "subscription_id": str(subscription.id),
            "delivery_id": str(delivery.id),
            "channel_id": str(chat_channel.id),
            "provider_id": str(sso.id),
            "slug": "no-such-provider",
            "approval_id": str(held.id),
            "deal_id": str(
                s.exec(select(Deal.id).where(Deal.owner_id == ana.id, Deal.status == "won").order_by(Deal.id))
                .scalars()
                .first()
            ),
        }
        w.params["token"] = "not-a-reset-link"  # /password-reset/{token}
    yield w
    empty_database(engine)
    engine.dispose()


def fill(path: str, params: dict[str, str]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: params[m.group(1)], path)


def snapshot(engine: Engine) -> str:
    """A digest of every row of every table except the audit log (which records refusals on purpose)
    and tokens' last-used times (any call with a token, refused or not, may move it)."""
    h = hashlib.sha256()
    with Session(engine) as s:
        for table in metadata.sorted_tables:
            if table.name == "audit_event":
                continue
            columns = [c for c in table.columns if (table.name, c.name) != ("api_token", "last_used_at")]
            rows = s.execute(select(*columns).order_by(*table.primary_key.columns)).all()
            h.update(repr((table.name, rows)).encode())
    return h.hexdigest()


class Caller:
    """One TestClient; each actor's cookies (session, CSRF) are swapped in before its requests."""

    def __init__(self, client: TestClient, world: World) -> None:
        self.client, self.world = client, world
        self.jars = {actor: self.sign_in(actor) for actor in ACTORS}

    def request(self, actor: str, method: str, path: str, body: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
        body = body or {}
        self.client.cookies.clear()
        for k, v in self.jars[actor].items():
            self.client.cookies.set(k, v)
        headers = {}
        kwargs: dict = {}
        if path.startswith(TOKEN_PREFIXES):
            if actor != "anonymous":
                headers["Authorization"] = f"Bearer {self.world.tokens[actor]}"
            if method in {"POST", "PUT", "PATCH"}:
                kwargs["json"] = dict(body)
        elif method in {"POST", "PUT"}:
            csrf = self.jars[actor]["csrftoken"]
            headers["x-csrftoken"] = csrf
            kwargs["data"] = {"_csrf_token": csrf, **body}
        if path in STREAMS:
            with self.client.stream(method, path, headers=headers, follow_redirects=False) as r:
                return r
        response = self.client.request(method, path, headers=headers, follow_redirects=False, **kwargs)
        if actor != "anonymous" and path in SIGN_OUTS:
            self.jars[actor] = self.sign_in(actor)
        return response

    def sign_in(self, actor: str) -> dict[str, str]:
        self.client.cookies.clear()
        self.client.get("/login")
        if actor != "anonymous":
            token = self.client.cookies["csrftoken"]
            r = self.client.post(
                "/login",
                data={"email": self.world.emails[actor], "password": DEMO_PASSWORD, "_csrf_token": token},
                follow_redirects=False,
            )
            assert r.status_code in (302, 303), (actor, r.status_code)
        return dict(self.client.cookies)


def refused(actor: str, path: str, response) -> bool:  # type: ignore[no-untyped-def]
    if actor == "anonymous" or path.startswith("/api/v1/webhooks/"):
        if path.startswith(TOKEN_PREFIXES):
            return response.status_code == 401
        return response.status_code in (302, 303) and response.headers["location"].startswith("/login?next=")
    return response.status_code in (403, 404)


def allowed(path: str, response) -> bool:  # type: ignore[no-untyped-def]
    if response.status_code in (401, 403, 404) or response.status_code >= 500:
        return False
    return not (response.status_code in (302, 303) and response.headers["location"].startswith("/login?next="))


def test_every_route_for_every_caller(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    import leaderboard.stream

    monkeypatch.setattr(leaderboard.stream, "STREAM_SECONDS", 0)  # the live stream ends at once
    problems: list[str] = []
    with TestClient(app=world.app, base_url="http://127.0.0.1:8000") as client:
        caller = Caller(client, world)
        routes = app_routes(world.app)
        for method, template in routes:
            rule = RULES.get((method, template))
            if rule is None:
                continue  # reported by test_every_route_has_a_rule
            params = dict(world.params)
            for name, source in ROUTE_PARAMS.get(template.split("{", 1)[0], {}).items():
                params[name] = world.params[source]
            path = fill(template, params)
            body = {k: v.format(**world.params) for k, v in BODIES.get((method, template), {}).items()}
            if rule == PUBLIC:
                for actor in ACTORS:
                    r = caller.request(actor, method, path, body)
                    if r.status_code >= 500:
                        problems.append(f"{method} {template} as {actor}: {r.status_code}")
                continue
            who = set() if rule == "signed" else rule
            writes = method not in {"GET", "HEAD"}
            before = snapshot(world.engine) if writes else ""
            for actor in [a for a in ACTORS if a not in who]:  # refusals first: allowed writes may change data
                r = caller.request(actor, method, path, body)
                if not refused(actor, path, r):
                    problems.append(f"{method} {template} as {actor}: expected refusal, got {r.status_code}")
            if writes and snapshot(world.engine) != before:
                problems.append(f"{method} {template}: a refused request changed the data")
            for actor in sorted(who):
                r = caller.request(actor, method, path, body)
                if not allowed(path, r):
                    problems.append(f"{method} {template} as {actor}: expected access, got {r.status_code}")
    assert not problems, "\n".join(problems)


# --- deal writes: who may create, edit, cancel and split (commissions/deals/rules.py) -------------

# What each caller's write of a deal of ana's team does, at the API and the deal form:
# "record" (counts at once), "hold" (waits for approval, pays nobody), "refuse" (403 / the form's error).
# ``colleague`` is a rep of ana's own team; ``rep`` one of another team.
RECORD, HOLD, REFUSE = "record", "hold", "refuse"
DEAL_WRITES: dict[str, dict[str, str]] = {
    # a new deal owned by ana
    "create": {
        "rep": REFUSE,
        "colleague": REFUSE,
        "manager": RECORD,
        "other_manager": REFUSE,
        "finance": RECORD,
        "admin": RECORD,
    },
    # ana's deal (recorded by finance): a new amount
    "edit": {
        "rep": REFUSE,
        "colleague": REFUSE,
        "manager": RECORD,
        "other_manager": REFUSE,
        "finance": RECORD,
        "admin": RECORD,
    },
    # ana's deal cancelled
    "cancel": {
        "rep": REFUSE,
        "colleague": REFUSE,
        "manager": RECORD,
        "other_manager": REFUSE,
        "finance": RECORD,
        "admin": RECORD,
    },
    # ana's deal re-recorded with the caller as owner (the split partner's rewrite of issue 14)
    "take": {
        "rep": REFUSE,
        "colleague": REFUSE,
        "manager": RECORD,
        "other_manager": REFUSE,
        "finance": RECORD,
        "admin": RECORD,
    },
    # the caller's own new deal, half of it credited to ana
    "split": {
        "rep": HOLD,
        "colleague": HOLD,
        "manager": RECORD,
        "other_manager": REFUSE,
        "finance": RECORD,
        "admin": RECORD,
    },
}
FORM_USERS = {"rep", "colleague", "manager", "other_manager"}  # the deal form is for sales people


def test_deal_writes_for_every_role_and_team(world: World) -> None:
    from commissions.deals.schemas import DealIn
    from commissions.deals.service import record_one
    from commissions.models import Deal, DealApproval, DealSplit

    with Session(world.engine) as s:
        ana = s.execute(select(Person).where(Person.email == world.params["email"])).scalars().one()
        colleague = (
            s.execute(
                select(Person)
                .where(
                    Person.manager_id == ana.manager_id,
                    Person.role == "rep",
                    Person.id != ana.id,
                    Person.active.is_(True),  # the route matrix (run before) deactivates its victim
                )
                .order_by(Person.id)
            )
            .scalars()
            .first()
        )
        fin = s.execute(select(Person).where(Person.email == world.emails["finance"])).scalars().one()
        open_period = (
            s.execute(select(Period).where(Period.state == "open").order_by(Period.starts_on)).scalars().first()
        )
    with transaction(world.engine) as s:
        if open_period is None:  # the route matrix paid the demo's quarter (and maybe nothing booked into the next)
            from commissions.core.periods import ensure_period

            open_period = ensure_period(s, "2027-Q1")
        day = open_period.starts_on
        world.emails["colleague"] = colleague.email
        world.tokens["colleague"] = create_token(
            s, name="matrix colleague", role="rep", person=colleague, created_by=None
        )[1]
    finance = Principal(role="finance", person_id=fin.id, email=fin.email, name=fin.name)

    def body(external_id: str, owner: str, **extra: object) -> dict:
        return {
            "external_id": external_id,
            "name": external_id,
            "account": "Acme",
            "owner": owner,
            "amount": "1000",
            "currency": "USD",
            "closed_at": day.isoformat(),
            **extra,
        }

    def state(external_id: str) -> tuple | None:
        with Session(world.engine) as s:
            deal = s.execute(select(Deal).where(Deal.external_id == external_id)).scalars().first()
            if deal is None:
                return None
            return (
                deal.owner_id,
                deal.amount_minor,
                deal.status,
                sorted(
                    s.execute(select(DealSplit.person_id, DealSplit.share_bp).where(DealSplit.deal_id == deal.id)).all()
                ),
            )

    def pending(external_id: str) -> bool:
        with Session(world.engine) as s:
            return (
                s.execute(
                    select(DealApproval).where(DealApproval.external_id == external_id, DealApproval.state == "pending")
                ).first()
                is not None
            )

    problems: list[str] = []
    with TestClient(app=world.app, base_url="http://127.0.0.1:8000") as client:
        caller = Caller(client, world)
        caller.jars["colleague"] = caller.sign_in("colleague")
        for op, outcomes in DEAL_WRITES.items():
            for actor, expected in outcomes.items():
                for door in (
                    ("api", "form") if actor in FORM_USERS and op != "cancel" else ("api",)
                ):  # no cancel on the form
                    xid = f"MW-{op}-{actor}-{door}"
                    me = world.emails[actor]
                    if op in ("edit", "cancel", "take"):  # ana's deal, recorded by finance
                        record_one(world.engine, DealIn.model_validate(body(xid, ana.email)), by=finance)
                    wanted = {
                        "create": body(xid, ana.email),
                        "edit": body(xid, ana.email, amount="1999"),
                        "cancel": body(xid, ana.email, status="cancelled", cancelled_at=day.isoformat()),
                        "take": body(xid, me),
                        "split": body(
                            xid, me, splits=[{"person": me, "share": "50"}, {"person": ana.email, "share": "50"}]
                        ),
                    }[op]
                    if door == "form":
                        splits = wanted.pop("splits", [])
                        for i, split in enumerate(splits):
                            wanted[f"split_person_{i}"], wanted[f"split_share_{i}"] = split["person"], split["share"]
                    before_state, before_rows = state(xid), snapshot(world.engine)
                    path = "/api/v1/deals" if door == "api" else "/deals/new"
                    r = caller.request(actor, "POST", path, wanted)
                    where = r.headers.get("location", "")
                    if door == "api":
                        got = {201: RECORD, 200: RECORD, 202: HOLD, 403: REFUSE, 404: REFUSE}.get(r.status_code)
                    else:
                        got = (
                            RECORD
                            if where.startswith("/deals?recorded=")
                            else HOLD
                            if where.startswith("/deals/approvals?held=")
                            else REFUSE
                            if r.status_code == 400 and ("not available to you" in r.text or "only record" in r.text)
                            else None
                        )
                    if got != expected:
                        problems.append(f"{op} as {actor} via {door}: expected {expected}, got {r.status_code} {where}")
                        continue
                    if expected == REFUSE and snapshot(world.engine) != before_rows:
                        problems.append(f"{op} as {actor} via {door}: refused, but the data changed")
                    if expected == HOLD and (state(xid) != before_state or not pending(xid)):
                        problems.append(f"{op} as {actor} via {door}: held, but the deal changed or nothing waits")
                    if expected == RECORD and state(xid) == before_state:
                        problems.append(f"{op} as {actor} via {door}: recorded, but the deal did not change")
    assert not problems, "\n".join(problems)
