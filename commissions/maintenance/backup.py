"""``commissions backup`` and ``commissions restore`` (docs/backups.md).

SQLite: SQLite's online backup API copies the database page by page while the app keeps
running (readers and writers go on; the copy is one consistent moment), then the copy is
checked (``PRAGMA integrity_check`` and the Alembic revision it holds). PostgreSQL:
``pg_dump --format=custom`` (consistent by itself: one snapshot), checked by listing it with
``pg_restore --list``. A restore refuses to overwrite a database that holds anything unless
told ``force``.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import make_url


class BackupError(Exception):
    """A backup or restore that could not be made, and why (shown to the operator as is)."""


@dataclass(frozen=True, slots=True)
class BackupReport:
    path: Path
    kind: str  # sqlite | postgresql
    size_bytes: int
    tables: int
    revision: str

    def describe(self) -> str:
        return (
            f"Backed up to {self.path} ({self.kind}, {self.size_bytes:,} bytes, {self.tables} tables, "
            f"schema revision {self.revision}); checked."
        )


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None for another database or an in-memory one)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(parsed.database)


def libpq_url(url: str) -> str:
    """The URL ``pg_dump`` and ``pg_restore`` understand (no ``+psycopg`` driver part)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def backup(url: str, path: Path) -> BackupReport:
    """Copy the database at ``url`` to ``path`` (refuses to overwrite an existing file) and check the copy."""
    if path.exists():
        raise BackupError(f"{path} exists: choose a new file name (a backup never overwrites one)")
    path.parent.mkdir(parents=True, exist_ok=True)
    source = sqlite_file(url)
    if source is not None:
        return _backup_sqlite(source, path)
    return _backup_postgresql(url, path)


def check_sqlite_backup(path: Path) -> tuple[int, str]:
    """(tables, revision) of a SQLite backup; ``BackupError`` when it is damaged or not Quotaboard's."""
    try:
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"{path} cannot be opened as SQLite: {exc}") from None
    try:
        (verdict,) = connection.execute("PRAGMA integrity_check").fetchone()
        if verdict != "ok":
            raise BackupError(f"{path} is damaged: {verdict}")
        tables = [row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        if "alembic_version" not in tables:
            raise BackupError(f"{path} is not a Quotaboard database (it has no schema revision)")
        revision = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        return len(tables), revision[0] if revision else ""
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a SQLite database: {exc}") from None
    finally:
        connection.close()


def _backup_sqlite(source: Path, path: Path) -> BackupReport:
    if not source.exists():
        raise BackupError(f"there is no database at {source}")
    reader = sqlite3.connect(source)
    writer = sqlite3.connect(path)
    try:
        reader.backup(writer, pages=1024)  # in steps: writers of the live app get the lock between them
    except sqlite3.Error as exc:
        writer.close()
        path.unlink(missing_ok=True)
        raise BackupError(f"the backup failed: {exc}") from None
    finally:
        reader.close()
    writer.close()
    tables, revision = check_sqlite_backup(path)
    return BackupReport(path, "sqlite", path.stat().st_size, tables, revision)


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools (apt install postgresql-client)"
        )
    return found


def _backup_postgresql(url: str, path: Path) -> BackupReport:
    done = subprocess.run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path), "--dbname", libpq_url(url)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        path.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    tables, revision = check_postgresql_backup(path)
    return BackupReport(path, "postgresql", path.stat().st_size, tables, revision)


def check_postgresql_backup(path: Path) -> tuple[int, str]:
    """(tables, revision) of a ``pg_dump`` archive, read back with ``pg_restore``."""
    listing = subprocess.run([_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise BackupError(f"{path} is not a readable pg_dump archive: {listing.stderr.strip()}")
    tables = [line for line in listing.stdout.splitlines() if " TABLE DATA " in line]
    if not any(" alembic_version " in line for line in tables):
        raise BackupError(f"{path} is not a Quotaboard database (it has no schema revision)")
    data = subprocess.run(
        [_tool("pg_restore"), "--data-only", "--table=alembic_version", "--file=-", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    revision = ""
    lines = data.stdout.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("COPY ") and "alembic_version" in line and index + 1 < len(lines):
            revision = lines[index + 1].strip()
            break
    return len(tables), revision


def holds_data(engine: Engine) -> bool:
    """Whether the database has any table with a row in it (an empty schema does not count)."""
    with engine.connect() as connection:
        for table in inspect(connection).get_table_names():
            if table == "alembic_version":
                continue
            quoted = connection.dialect.identifier_preparer.quote(table)
            if connection.execute(text(f"SELECT 1 FROM {quoted} LIMIT 1")).first() is not None:
                return True
    return False


def restore(url: str, path: Path, engine: Engine, *, force: bool = False) -> str:
    """Put the backup at ``path`` in place of the database at ``url``; the app must be stopped."""
    if not path.exists():
        raise BackupError(f"there is no backup at {path}")
    target = sqlite_file(url)
    if target is not None:
        tables, revision = check_sqlite_backup(path)
    else:
        tables, revision = check_postgresql_backup(path)
    if not force and holds_data(engine):
        raise BackupError(
            "the database holds data: a restore would replace all of it. Stop the app, take a backup of it "
            "first, then run again with --force"
        )
    engine.dispose()
    if target is not None:
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)
        finally:
            reader.close()
            writer.close()
    else:
        done = subprocess.run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
                libpq_url(url),
                str(path),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            raise BackupError(f"pg_restore failed (nothing was changed): {done.stderr.strip()}")
    return f"Restored {path} ({tables} tables, schema revision {revision}). Run `commissions db upgrade` if the code is newer."
