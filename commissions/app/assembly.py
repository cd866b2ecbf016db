"""The application factory: one place that wires settings, database, auth, templates and routes."""

from __future__ import annotations

import gc
import logging
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.channels import ChannelsBackend, ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.channels.backends.redis import RedisChannelsPubSubBackend
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.htmx import HTMXPlugin, HTMXRequest
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.file import FileStore
from litestar.stores.memory import MemoryStore
from litestar.template.config import TemplateConfig
from litestar.types import ExceptionHandlersMap
from sqlalchemy import Engine
from sqlalchemy.exc import DataError

from commissions.accounting.api import AccountingApiController
from commissions.accounting.pages import AccountingController
from commissions.accounts.api import MeController
from commissions.accounts.pages import (
    AccountLanguageController,
    AccountPasswordController,
    AccountTokensController,
    AuthController,
    ForgotPasswordController,
    PasswordResetAdminController,
    PasswordResetController,
    TokensController,
)
from commissions.adjustments.api import AdjustmentsApiController
from commissions.adjustments.pages import AdjustmentsController
from commissions.app.errors import (
    domain_error_handler,
    http_exception_handler,
    internal_error_handler,
    out_of_range_handler,
)
from commissions.app.extensions import load_extensions
from commissions.app.headers import AllowedHostsMiddleware, security_headers
from commissions.app.health import healthz, readyz
from commissions.app.help import HelpController
from commissions.app.home import HomeController
from commissions.app.language import LocaleMiddleware
from commissions.app.limits import DEFAULT_MAX_BODY_BYTES, RequestLimitsMiddleware
from commissions.app.metrics import metrics, request_metrics
from commissions.app.team import TeamController
from commissions.audit.pages import AuditController
from commissions.auth.csrf import SessionCsrfMiddleware
from commissions.auth.middleware import AuthenticationMiddleware
from commissions.auth.sessions import SESSION_COOKIE, CachedSessionStore, RotatingSessionConfig
from commissions.auth.throttle import SignInThrottle
from commissions.campaigns.api import CampaignsApiController
from commissions.campaigns.pages import CampaignsController
from commissions.core import i18n, mail
from commissions.core.db import get_engine
from commissions.core.dependencies import provide_db, provide_principal
from commissions.core.errors import Forbidden, InputProblem
from commissions.core.formatting import register_filters
from commissions.core.migrate import PROJECT_ROOT
from commissions.core.navigation import NavItem, nav_for, set_extra_items
from commissions.core.sentences import shown_sentence
from commissions.core.settings import Settings, get_settings
from commissions.custom_fields.api import CustomFieldsApiController
from commissions.custom_fields.pages import CustomFieldsController
from commissions.deals.api import DealApprovalsApiController, DealImportApiController, DealsApiController
from commissions.deals.pages import DealApprovalsController, DealFormController, DealImportController, DealsController
from commissions.disputes.pages import DisputesController
from commissions.holds.api import HoldsApiController, PaymentsApiController
from commissions.holds.pages import HoldsController
from commissions.marketing.api import MarketingApiController
from commissions.marketing.pages import MarketingController
from commissions.outbound.api import SubscriptionsApiController
from commissions.outbound.pages import OutboundWebhooksController
from commissions.payroll.api import PayrollApiController
from commissions.payroll.pages import PayrollController
from commissions.people.api import PeopleApiController, TeamsApiController
from commissions.people.pages import AdminPeopleController
from commissions.people.team_pages import AdminTeamsController
from commissions.periods.api import PeriodsApiController
from commissions.periods.pages import PeriodsController
from commissions.plans.api import PlansApiController
from commissions.plans.pages import PlansController
from commissions.pulse.pages import PulseController, TeamPulseController
from commissions.quotas.api import QuotasApiController
from commissions.quotas.pages import QuotasController
from commissions.rates.api import RatesApiController
from commissions.rates.pages import RatesController
from commissions.scim.api import ScimDiscoveryController, ScimGroupsController, ScimUsersController
from commissions.sso.pages import SsoAdminController, SsoSignInController
from commissions.statements.api import EstimateApiController, StatementsApiController
from commissions.statements.pages import StatementsController
from commissions.webhooks.api import WebhooksController
from commissions.webhooks.junk import JunkCounter
from commissions.webhooks.pages import WebhooksAdminController

log = logging.getLogger("quotaboard")

TEMPLATES_DIR = PROJECT_ROOT / "templates"
STATIC_DIR = Path(__file__).parent / "static"
CHANNELS = ["deals", "payouts"]
VENDOR_FILES = {"htmx.org/dist": "htmx", "htmx-ext-sse/dist": "htmx-ext-sse"}


def _vendor_dirs(settings: Settings) -> list[Path]:
    """Front-end libraries installed by ``npm ci`` at set-up (see package.json), never committed."""
    root = settings.htmx_dir or PROJECT_ROOT / "node_modules"
    dirs = [root / sub for sub in VENDOR_FILES if (root / sub).is_dir()]
    if not dirs:
        log.warning("htmx is not installed under %s: run `npm ci` (pages still work without JavaScript)", root)
    return dirs


def _store(settings: Settings, name: str) -> Store:
    """Server-side state shared by every app process: Redis if configured, else files under DATA_DIR."""
    if settings.environment == "test":
        return MemoryStore()
    if settings.redis_url:
        from litestar.stores.redis import RedisStore

        return RedisStore.with_client(url=settings.redis_url, namespace=f"quotaboard-{name}")
    return FileStore(settings.data_dir / name, create_directories=True)


def _session_store(settings: Settings) -> Store:
    """Sessions, read through a short in-process memory outside tests (auth/sessions.py)."""
    store = _store(settings, "sessions")
    ttl = settings.principal_cache_seconds or 0
    return CachedSessionStore(store, ttl=ttl) if ttl > 0 else store


def _channels_backend(settings: Settings) -> ChannelsBackend:
    """Events fan out in memory for one process, through Redis for several."""
    if settings.redis_url:
        from redis.asyncio import Redis

        return RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis_url))
    return MemoryChannelsBackend()


def _template_engine_callback(engine: JinjaTemplateEngine) -> None:
    engine.engine.globals["nav_for"] = nav_for
    engine.engine.add_extension("jinja2.ext.i18n")  # {{ _("...") }} and {% trans %}: commissions/core/i18n.py
    engine.engine.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext, npgettext=i18n.npgettext
    )
    engine.engine.globals["current_locale"] = i18n.current_locale  # <html lang="...">
    register_filters(engine.engine.filters, engine.engine.globals)  # money, percent, ...: one rounding rule
    engine.engine.filters["sentence"] = shown_sentence  # a stored line sentence in the page's language, grouped


def _freeze_startup_objects() -> None:
    """Move everything alive after start-up out of the collector's sight.

    Without it, full collections rescan every module, model and cached plan about once
    a dozen requests and add ~40 ms to those requests (measured: p95 64 ms → 28 ms).
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _unfreeze() -> None:
    """Give the collector back what start-up froze: an app that stops (a test's app, a reload) must not keep
    its objects, or the cycles among them, alive for the rest of the process (the test suite grew to 7 GiB a worker)."""
    gc.unfreeze()


#: Every area's controllers (extensions add theirs, and the static files come last).
ROUTE_HANDLERS: tuple[Any, ...] = (
    healthz,
    readyz,
    metrics,
    AuthController,
    SsoSignInController,
    SsoAdminController,
    MeController,
    AccountPasswordController,
    AccountTokensController,
    AccountLanguageController,
    ForgotPasswordController,
    PasswordResetController,
    PasswordResetAdminController,
    HomeController,
    HelpController,
    DealsController,
    DealsApiController,
    DealImportController,
    DealImportApiController,
    DealFormController,
    DealApprovalsController,
    DealApprovalsApiController,
    StatementsController,
    StatementsApiController,
    EstimateApiController,
    TeamController,
    PeriodsController,
    PeriodsApiController,
    AdjustmentsController,
    AdjustmentsApiController,
    HoldsController,
    HoldsApiController,
    PaymentsApiController,
    AdminPeopleController,
    AdminTeamsController,
    PeopleApiController,
    TeamsApiController,
    ScimDiscoveryController,
    ScimUsersController,
    ScimGroupsController,
    TokensController,
    QuotasController,
    QuotasApiController,
    RatesController,
    RatesApiController,
    CampaignsController,
    CampaignsApiController,
    CustomFieldsController,
    CustomFieldsApiController,
    PlansController,
    PlansApiController,
    PayrollController,
    PayrollApiController,
    AccountingApiController,
    AccountingController,
    DisputesController,
    WebhooksController,
    WebhooksAdminController,
    SubscriptionsApiController,
    OutboundWebhooksController,
    AuditController,
    MarketingController,
    MarketingApiController,
    PulseController,
    TeamPulseController,
)

EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: http_exception_handler,
    InputProblem: domain_error_handler,
    Forbidden: domain_error_handler,
    OverflowError: out_of_range_handler,  # SQLite: an integer beyond 64 bits
    DataError: out_of_range_handler,  # PostgreSQL: numeric out of range, value too long
    Exception: internal_error_handler,
}


def _openapi() -> OpenAPIConfig:
    """A fresh config per app: Litestar fills it in as it builds the schema."""
    return OpenAPIConfig(
        title="Quotaboard API",
        version="1",
        components=Components(
            security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="API token")}
        ),
        security=[{"bearer": []}],
    )


def _cookies(settings: Settings) -> tuple[RotatingSessionConfig, CSRFConfig]:
    """The session cookie and CSRF settings (secure outside development)."""
    secure_cookies = not settings.is_development
    session_config = RotatingSessionConfig(
        key=SESSION_COOKIE,
        store="sessions",
        max_age=settings.session_max_age_seconds,
        httponly=True,
        samesite="lax",
        secure=secure_cookies,
    )
    csrf_config = CSRFConfig(
        secret=settings.secret_key,
        cookie_secure=secure_cookies,
        cookie_samesite="lax",
        exclude=["/api/", "/scim/"],  # API and SCIM writes need a bearer token; see commissions.auth.middleware
    )
    return session_config, csrf_config


def _static_routers(settings: Settings) -> list[Any]:
    routers = [create_static_files_router(path="/static", directories=[STATIC_DIR], name="static")]
    vendor = _vendor_dirs(settings)
    if vendor:
        routers.append(create_static_files_router(path="/static/vendor", directories=[*vendor], name="vendor"))
    return routers


def _state(settings: Settings, engine: Engine, session_config: RotatingSessionConfig, throttle_store: Any) -> State:
    """What handlers reach through ``request.app.state``: the engine, settings, sign-in limits, junk counter."""
    throttle = SignInThrottle(
        engine,
        account_limit=settings.login_max_failures_per_account,
        ip_limit=settings.login_max_failures_per_ip,
        window_seconds=settings.login_window_seconds,
        lockout_seconds=settings.login_lockout_seconds,
    )
    return State(
        {
            "engine": engine,
            "settings": settings,
            "session_config": session_config,
            "throttle": throttle,
            "webhook_junk": JunkCounter(throttle_store),
        }
    )


def create_app(settings: Settings | None = None, *, engine: Engine | None = None) -> Litestar:
    settings = settings or get_settings()
    engine = engine or get_engine()
    mail.configure(settings)  # on when SMTP_HOST is set; links in messages start with PUBLIC_URL
    session_config, csrf_config = _cookies(settings)
    extensions = load_extensions()
    set_extra_items([item for ext in extensions for item in ext.nav_items if isinstance(item, NavItem)])
    throttle_store = _store(settings, "throttle")
    # A served app freezes its start-up heap; a test's app does not: the suite starts an app per test in one
    # process, and the full collection before the freeze grew with that process's heap (0.15-0.3 s a test).
    freeze, unfreeze = ([], []) if settings.environment == "test" else ([_freeze_startup_objects], [_unfreeze])
    return Litestar(
        route_handlers=[
            *ROUTE_HANDLERS,
            *[handler for ext in extensions for handler in ext.route_handlers],
            *_static_routers(settings),
        ],
        dependencies={"db": Provide(provide_db), "principal": Provide(provide_principal, sync_to_thread=False)},
        middleware=[
            AllowedHostsMiddleware(allowed_hosts=settings.allowed_hosts),
            request_metrics().middleware,  # rate, latency and errors by route, for /metrics
            RequestLimitsMiddleware(),  # body size, JSON nesting, odd paths (commissions/app/limits.py)
            session_config.middleware,
            AuthenticationMiddleware(),
            LocaleMiddleware(),  # the person's language, else the browser's (commissions/app/language.py)
            SessionCsrfMiddleware(),
        ],
        before_send=[security_headers(hsts=not settings.is_development)],
        csrf_config=csrf_config,
        request_max_body_size=DEFAULT_MAX_BODY_BYTES,  # handlers that take files set their own
        stores={
            "sessions": _session_store(settings),
            "imports": _store(settings, "imports"),
            "throttle": throttle_store,
        },
        state=_state(settings, engine, session_config, throttle_store),
        on_startup=[*freeze, *[hook for ext in extensions for hook in getattr(ext, "on_startup", ())]],
        on_shutdown=[*[hook for ext in extensions for hook in getattr(ext, "on_shutdown", ())], *unfreeze],
        template_config=TemplateConfig(
            directory=TEMPLATES_DIR, engine=JinjaTemplateEngine, engine_callback=_template_engine_callback
        ),
        plugins=[
            HTMXPlugin(),
            ChannelsPlugin(backend=_channels_backend(settings), channels=CHANNELS, arbitrary_channels_allowed=False),
        ],
        request_class=HTMXRequest,
        exception_handlers=dict(EXCEPTION_HANDLERS),
        openapi_config=_openapi(),
        debug=False,
    )
