"""Settings read from the environment (or a `.env` file), validated once at start-up."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
_DEV_SECRET = "dev-insecure-" + "quotaboard"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field(default="development", description="development | test | production")
    data_dir: Path = DEFAULT_DATA_DIR
    database_url: str = ""
    redis_url: str | None = None
    secret_key: str = _DEV_SECRET
    session_max_age_seconds: int = 8 * 3600  # idle timeout: a session unused this long ends
    session_absolute_seconds: int = 12 * 3600  # absolute timeout: every session ends this long after sign-in
    login_max_failures_per_account: int = 5
    login_max_failures_per_ip: int = 50
    login_window_seconds: int = 900
    login_lockout_seconds: int = 900
    # Host names the app answers to (Host header); "*" allows any. Unset: localhost names in development
    # and tests; production refuses to start without it.
    allowed_hosts: list[str] = []
    # Proxies whose X-Forwarded-For/-Proto are believed (commissions/app/asgi.py): comma-separated
    # addresses or networks, "*" for any. The default trusts only a proxy on this host.
    forwarded_allow_ips: str = "127.0.0.1"
    htmx_dir: Path | None = None
    sqlite_busy_timeout_ms: int = 15000
    # Threads that run the app's (synchronous) request handlers in each server process. Litestar would
    # use the event loop's default pool, min(32, CPUs + 4) threads: 6 on a 2-core machine, so six slow
    # requests (or deliveries waiting for their batch) held up everyone else.
    request_threads: int = Field(default=64, ge=4)
    # How stale a leaderboard table may be when no event announced the change (0: always re-check);
    # events re-check at once. Unset: 1 s, or 0 under tests so a write is visible to the next read.
    leaderboard_max_staleness_seconds: float | None = None
    # Approve and lock first bring up to this many pending statements of the period up to date;
    # with more pending (a big import still being digested) they answer 409 naming how many.
    approve_refresh_limit: int = 2000
    # Periods exist only within this window around today (commissions/core/periods.py): a quota, deal,
    # plan version or adjustment that would create a period ending before today minus the years back,
    # or starting after today plus the years ahead, is refused with a 400 naming the field and the window.
    period_window_years_back: int = Field(default=2, ge=0)
    period_window_years_ahead: int = Field(default=1, ge=0)
    # How long a process trusts a signed-in person's record (active, role, session version) before
    # reading it again; changes made in this process apply at once. Unset: 2 s, or 0 under tests.
    principal_cache_seconds: float | None = None
    # Revenue marketing (docs/metrics.md): the monthly churn rate behind customer lifetime value,
    # in percent, and the fewest pulse answers whose score a manager may see.
    marketing_monthly_churn_percent: Decimal = Decimal(2)
    pulse_min_group_size: int = Field(default=5, ge=2)
    # ``/metrics`` (Prometheus) answers only a scraper sending ``Authorization: Bearer <this>``;
    # unset, the endpoint is off (404). Never logged (a SecretStr prints as stars).
    metrics_token: SecretStr | None = None
    # Outbound webhooks go over https; plain http only to localhost unless this allows it (a private network).
    outbound_allow_http: bool = False
    # Email (docs/email.md): off while SMTP_HOST is unset (nothing is queued). STARTTLS on 587 by default;
    # SMTP_SSL for implicit TLS (465). The password is never logged (a SecretStr prints as stars).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    mail_from: str = ""
    # The site's address as people reach it (https://pay.example.com): the links in emails start with it.
    public_url: str = "http://localhost:8000"

    @model_validator(mode="after")
    def _defaults_and_checks(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'quotaboard.db').as_posix()}"
        if self.principal_cache_seconds is None:
            self.principal_cache_seconds = 0.0 if self.environment == "test" else 2.0
        if self.leaderboard_max_staleness_seconds is None:
            self.leaderboard_max_staleness_seconds = 0.0 if self.environment == "test" else 1.0
        if not self.allowed_hosts:
            if self.environment == "production":
                raise ValueError(
                    'ALLOWED_HOSTS must list the host names of the site in production (e.g. ["pay.example.com"])'
                )
            self.allowed_hosts = ["localhost", "127.0.0.1", "testserver", "[::1]"]
        if self.smtp_host and not self.mail_from:
            raise ValueError("MAIL_FROM must be set when SMTP_HOST is (e.g. Quotaboard <pay@example.com>)")
        self.public_url = self.public_url.rstrip("/")
        if self.smtp_host and self.environment == "production" and "://localhost" in self.public_url:
            raise ValueError("PUBLIC_URL must be the site's address (https://pay.example.com) when SMTP_HOST is set")
        if self.environment == "production" and (self.secret_key == _DEV_SECRET or len(self.secret_key) < 32):
            raise ValueError("SECRET_KEY must be set to a random string of at least 32 characters in production")
        return self

    @property
    def is_development(self) -> bool:
        return self.environment in {"development", "test"}


@lru_cache
def get_settings() -> Settings:
    return Settings()
