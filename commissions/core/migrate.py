"""Run Alembic from code (CLI, app start-up, tests) without an alembic.ini lookup by the caller."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

PROJECT_ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def alembic_config(url: str | None = None) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _run(engine: Engine | None, url: str | None, action, *args) -> None:  # type: ignore[no-untyped-def]
    config = alembic_config(url)
    if engine is None:
        action(config, *args)
        return
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        action(config, *args)


def upgrade(revision: str = "head", *, engine: Engine | None = None, url: str | None = None) -> None:
    _run(engine, url, command.upgrade, revision)


def downgrade(revision: str = "base", *, engine: Engine | None = None, url: str | None = None) -> None:
    _run(engine, url, command.downgrade, revision)
