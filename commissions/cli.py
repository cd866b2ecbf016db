"""The ``commissions`` console command (shared/spec/cli.md), built on click.

Each command is a thin shell over a service function, so the web app, the CLI
and background jobs share one implementation.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from commissions.core.settings import get_settings

if TYPE_CHECKING:
    from sqlmodel import Session

    from commissions.calculation.queue import Pace
    from commissions.core.principal import Principal


class _LazyGroup(click.Group):
    """Subcommands imported when they are called: `commissions calc` reads CSV files and never needs the web
    app, the ORM or the extensions (it loaded 850 modules in 1.2 s before its first line of work). Extension
    commands (``cli_commands``) load when a name is not ours, or to list them all."""

    LAZY = {
        "calc": "commissions.calculator.command:calc_command",
        "email": "commissions.emails.cli:email_group",
        "verify": "commissions.calculator.verify:verify_command",
        "field": "commissions.custom_fields.cli:field_group",
        "plan": "commissions.plans.cli:plan_group",
        "sso": "commissions.sso.cli:sso_group",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        _register_extension_commands()
        return sorted(set(super().list_commands(ctx)) | set(self.LAZY))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY and cmd_name not in self.commands:
            from importlib import import_module

            module, attribute = self.LAZY[cmd_name].split(":")
            self.add_command(getattr(import_module(module), attribute), cmd_name)
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name not in self.LAZY:
            _register_extension_commands()
            command = super().get_command(ctx, cmd_name)
        return command


@click.group(cls=_LazyGroup, help="Quotaboard: sales commissions, quotas and a live leaderboard.")
def main() -> None:
    pass


@main.group(help="Database schema.")
def db() -> None:
    pass


@db.command("upgrade", help="Apply migrations to DATABASE_URL (default: a SQLite file under ./data).")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    from commissions.core.migrate import upgrade

    upgrade(revision, url=get_settings().database_url)
    click.echo(f"Database upgraded to {revision}.")


@db.command("copy", help="Copy this install's database (DATABASE_URL) into an empty database, and verify the copy.")
@click.option(
    "--to", "to_url", required=True, help="The empty target, e.g. postgresql+psycopg://user@host:5432/quotaboard"
)
@click.option(
    "--no-check",
    is_flag=True,
    help="Skip recomputing every open period on the copy (rows and statements are still compared).",
)
def db_copy(to_url: str, no_check: bool) -> None:
    from sqlalchemy.engine import make_url

    from commissions.app.extensions import load_extensions
    from commissions.core.db import make_engine
    from commissions.maintenance.backup import BackupError, sqlite_file
    from commissions.maintenance.copy import copy_database

    source_url = get_settings().database_url
    source_file = sqlite_file(source_url)
    if source_file is not None and not source_file.exists():
        raise click.ClickException(
            f"there is no database at {source_file}: set DATABASE_URL or DATA_DIR to this install's"
        )
    if make_url(to_url) == make_url(source_url):
        raise click.ClickException("--to names the database being copied")
    load_extensions()  # their tables are copied too
    source, target = make_engine(source_url), make_engine(to_url)
    try:
        click.echo(f"Copying {make_url(source_url).render_as_string()} -> {make_url(to_url).render_as_string()}")
        report = copy_database(source, target, check=not no_check, echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        source.dispose()
        target.dispose()
    click.echo(
        f"Copied {report.total_rows:,} rows in {len(report.rows)} tables; row counts equal, "
        f"{report.statements_compared:,} statements identical"
        + (f", ledger equals a fresh calculation in {len(report.periods_checked)} period(s)." if not no_check else ".")
    )
    click.echo("Now point the app at the copy: set DATABASE_URL to the URL you passed to --to (and REDIS_URL if you")
    click.echo("run several processes), restart `commissions run`, and keep the old database as a backup.")


@main.command(help="Back up the database to PATH while the app runs (SQLite: online backup; PostgreSQL: pg_dump).")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup(path: Path) -> None:
    from commissions.maintenance.backup import BackupError
    from commissions.maintenance.backup import backup as make_backup

    try:
        report = make_backup(get_settings().database_url, path)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.describe())


@main.command(help="Replace the database with the backup at PATH (stop the app first).")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data.")
def restore(path: Path, force: bool) -> None:
    from commissions.core.db import make_engine
    from commissions.maintenance.backup import BackupError
    from commissions.maintenance.backup import restore as put_back

    url = get_settings().database_url
    engine = make_engine(url)
    try:
        click.echo(put_back(url, path, engine, force=force))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()


@main.command(help="Load a realistic demo organisation and print the demo logins.")
def demo() -> None:
    from commissions.core.db import get_engine
    from commissions.core.migrate import upgrade
    from commissions.demo import load_demo

    settings = get_settings()
    if settings.environment == "production":
        raise click.ClickException("refusing to load demo data with ENVIRONMENT=production")
    upgrade(url=settings.database_url)
    summary = load_demo(get_engine())
    click.echo(summary.describe())


def _port_free(host: str, port: int) -> bool:
    """Whether nothing listens on the address: bound here without SO_REUSEPORT, so a server that shares the port
    with SO_REUSEPORT still counts as there."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(
            socket.SOL_SOCKET, socket.SO_REUSEADDR, 1
        )  # a stopped server's closing connections do not count
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


@main.command(help="Serve the web app and API (upgrades the schema first) with a recompute worker beside it.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Processes (set REDIS_URL for more than one).")
@click.option("--no-recompute-worker", is_flag=True, help="Do not start `commissions worker` (run it yourself).")
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (a proxy in front usually does; it costs a third of the throughput).",
)
def run(host: str, port: int, workers: int, no_recompute_worker: bool, access_log: bool) -> None:
    import subprocess

    from granian.constants import Interfaces, Loops
    from granian.server import Server

    from commissions.core.migrate import upgrade

    if not _port_free(host, port):
        # granian binds with SO_REUSEPORT, so a second server on a taken port started silently and the two
        # shared its requests (each with its own database, when their settings differed)
        click.echo(f"port {port} on {host} is in use (another commissions run?): stop it or pass --port", err=True)
        sys.exit(1)
    _share_metrics_between_processes(get_settings().data_dir)
    upgrade(url=get_settings().database_url)
    worker = None
    if not no_recompute_worker:
        # Its own process: a manager's recompute is CPU-bound and would starve requests of the GIL.
        worker = subprocess.Popen(
            [sys.executable, "-m", "commissions.cli", "worker", "--exit-with-parent"], env=_child_env()
        )
    click.echo(f"Quotaboard on http://{host}:{port}")
    try:
        # Granian (docs/architecture.md: why not uvicorn); open live streams get 5 s to end on a stop.
        # Every open leaderboard holds a request (its live stream): granian's default cap of 1,024
        # in flight across all processes would stall a large sales floor, so each process takes 4,096.
        Server(
            "commissions.app.asgi:app",
            address=host,
            port=port,
            interface=Interfaces.ASGI,
            workers=workers,
            loop=Loops.uvloop if sys.platform != "win32" else Loops.auto,
            log_access=access_log,
            workers_kill_timeout=5,
            backpressure=4096,
        ).serve()
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(10)


PARENT_PID = "QUOTABOARD_PARENT_PID"


def _child_env() -> dict[str, str]:
    """The environment of a process this one starts with ``--exit-with-parent``: it names this process."""
    return {**os.environ, PARENT_PID: str(os.getpid())}


def _share_metrics_between_processes(data_dir: Path) -> None:
    """Every process this starts (web workers, the recompute worker) writes its figures into one fresh
    directory, and ``/metrics`` adds them up (``commissions.core.metrics``). Set before anything imports
    prometheus_client; the figures of an earlier run are removed from it, as the library requires."""
    chosen = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    directory = Path(chosen) if chosen else data_dir / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # only the library's own files
        stale.unlink(missing_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)


@main.command(help="Drain the recompute queue continuously (managers' statements after deal changes).")
@click.option("--poll-seconds", default=0.5, show_default=True, type=float)
@click.option("--once", is_flag=True, help="Drain what is queued now, then exit.")
@click.option("--exit-with-parent", is_flag=True, hidden=True, help="Stop when the process that started it is gone.")
@click.option(
    "--processes",
    default=min(2, os.cpu_count() or 1),
    show_default="the CPUs, at most 2",
    type=click.IntRange(1, 16),
    help="Processes sharing the queue, each taking its own part of the statements (a big catch-up uses every core).",
)
@click.option("--part", hidden=True, help="k/n: this process takes the statements of people whose id is k modulo n.")
def worker(poll_seconds: float, once: bool, exit_with_parent: bool, processes: int, part: str | None) -> None:
    import logging
    import subprocess

    from commissions.calculation.queue import WHOLE
    from commissions.core.db import get_engine

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log = logging.getLogger("quotaboard.worker")
    _yield_cpu_to_requests()
    mine = WHOLE
    helpers: list[subprocess.Popen[bytes]] = []
    if part is not None:
        k, _, n = part.partition("/")
        if not (k.isdigit() and n.isdigit() and int(k) < int(n)):
            raise click.BadParameter("k/n with 0 <= k < n", param_hint="--part")
        mine = (int(k), int(n))
    elif processes > 1:  # this process takes part 0 (and the extension tasks), a child each of the others
        mine = (0, processes)
        for other in range(1, processes):
            command = [sys.executable, "-m", "commissions.cli", "worker", "--exit-with-parent", "--part"]
            command += [f"{other}/{processes}", "--poll-seconds", str(poll_seconds), *(["--once"] if once else [])]
            helpers.append(subprocess.Popen(command, env=_child_env()))
    try:
        _work(log, get_engine(), poll_seconds, once, exit_with_parent, mine, tasks=mine[0] == 0)
    finally:
        for helper in helpers:
            if once:
                helper.wait()
            else:
                helper.terminate()
                helper.wait(10)


def _work(
    log: Any,
    engine: Any,
    poll_seconds: float,
    once: bool,
    exit_with_parent: bool,
    part: tuple[int, int],
    *,
    tasks: bool,
) -> None:
    from commissions.core import mail
    from commissions.core.settings import get_settings
    from commissions.emails import sender
    from commissions.emails.digest import weekly_task
    from commissions.outbound.dispatcher import dispatch_once, run_in_thread

    settings = get_settings()
    mail.configure(settings)
    smtp = sender.SmtpConfig.from_settings(settings)
    extension_tasks = _extension_worker_tasks() if tasks else []  # e.g. recording the winners of contests that ended
    if tasks and smtp is not None:
        extension_tasks.append(weekly_task)  # the managers' digest of last week, once per week
    secret_key = settings.secret_key
    # outbound webhooks (the process with the tasks): sent from a thread of their own, so a slow receiver never
    # delays a recomputation; several worker processes may each run one (a delivery is claimed by one only)
    stop_dispatcher = run_in_thread(engine, secret_key=secret_key) if tasks and not once else None
    # email likewise (docs/email.md): a message is claimed by one sender only
    stop_sender = sender.run_in_thread(engine, smtp) if tasks and not once and smtp is not None else None
    try:
        _drain_loop(log, engine, poll_seconds, once, exit_with_parent, part, extension_tasks)
    finally:
        for stop in (stop_dispatcher, stop_sender):
            if stop is not None:
                stop.set()
    if once and tasks:
        try:
            dispatch_once(engine, secret_key=secret_key)
        except Exception:  # the deliveries stay due for the next run
            log.exception("outbound dispatch failed")
        try:
            if smtp is not None:
                sender.send_once(engine, smtp)
        except Exception:  # the messages stay due for the next run
            log.exception("email sending failed")


def _drain_loop(
    log: Any,
    engine: Any,
    poll_seconds: float,
    once: bool,
    exit_with_parent: bool,
    part: tuple[int, int],
    extension_tasks: list[Any],
) -> None:
    import time

    from commissions.calculation.queue import Pace
    from commissions.calculation.worker_lock import PartLock
    from commissions.core.metrics import WORKER_ERRORS

    # the parent's pid as the parent gave it: a child slow to start (SCHED_IDLE) may begin after its parent died,
    # when os.getppid() already names whoever adopted it, and would then never notice
    parent = int(os.environ.get(PARENT_PID, os.getppid()))
    tasks_due = 0.0
    pace = Pace()  # rounds wait while deliveries keep coming (calculation/queue.py)
    lock = PartLock(engine, part)  # one worker per part on any number of hosts; the others stand by
    standing_by = False
    try:
        while True:
            if exit_with_parent and os.getppid() != parent:
                return
            try:
                holding = lock.hold()
            except Exception:  # the database is unreachable: try again on the next poll
                WORKER_ERRORS.labels("lock").inc()
                log.exception("worker part %s/%s could not reach the database", *part)
                holding = False
            if not holding:
                if not standing_by:
                    log.info("another worker holds part %s/%s of the queue: standing by", *part)
                    standing_by = True
                if once:
                    return
                time.sleep(poll_seconds)
                continue
            if standing_by:
                log.info("worker part %s/%s taken over", *part)
                standing_by = False
            _round(log, engine, part, extension_tasks, once or time.monotonic() >= tasks_due, None if once else pace)
            if extension_tasks and (once or time.monotonic() >= tasks_due):
                tasks_due = time.monotonic() + 60
            if once:
                return
            time.sleep(poll_seconds)
    finally:
        lock.release()


def _round(
    log: Any, engine: Any, part: tuple[int, int], extension_tasks: list[Any], tasks_due: bool, pace: Pace | None
) -> None:
    """One round of the worker: the extensions' tasks when due, then the recompute queue (``pace``: None for
    ``--once``, which drains it whatever comes in meanwhile)."""
    from commissions.calculation.queue import drain
    from commissions.core.metrics import STATEMENTS_RECOMPUTED, WORKER_ERRORS

    for task in extension_tasks if tasks_due else []:
        try:
            task(engine)
        except Exception:  # retried a minute later
            WORKER_ERRORS.labels(getattr(task, "__name__", "task")).inc()
            log.exception("worker task %s failed", getattr(task, "__name__", task))
    try:
        reports = drain(engine, yield_to_writers=True, part=part, pace=pace)
        if reports:
            STATEMENTS_RECOMPUTED.inc(sum(r.computed for r in reports))
            changed = sum(len(r.people) for r in reports)
            log.info("recomputed %d statement(s), %d changed", sum(r.computed for r in reports), changed)
    except Exception:  # the requests stay queued; try again on the next poll
        WORKER_ERRORS.labels("recompute").inc()
        log.exception("recompute queue drain failed")


def _yield_cpu_to_requests() -> None:
    """Requests first: managers' statements may lag by a moment during a burst, replies may not.

    Linux's SCHED_IDLE runs the worker only on CPU time nothing else wants (under a burst of
    deliveries a niced worker still took a quarter of the 2-core machine); elsewhere, nice 10."""
    import os

    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # type: ignore[attr-defined,unused-ignore]
    except (AttributeError, OSError):
        if hasattr(os, "nice"):
            os.nice(10)


@main.command(help="Recompute a period from stored deals, quotas and plans.")
@click.option("--period", "period_key", required=True, help="2026-01, 2026-Q1 or 2026")
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing: recompute in memory, print every difference from what "
    "is stored, exit 1 on any (the result is kept in the audit log and on the finance period page).",
)
@click.option(
    "--processes",
    default=min(2, os.cpu_count() or 1),
    show_default="2, or 1 on a one-core machine",
    type=click.IntRange(1, 64),
    help="Processes computing and storing the period's chunks, sharing the inputs read once.",
)
def recalc(period_key: str, check: bool, processes: int) -> None:
    if check:
        from commissions.calculation.check import run_check_command

        sys.exit(run_check_command(period_key, click.echo))
    from commissions.calculation.queue import drain
    from commissions.calculation.service import RecalcProcessDied, recalc_period
    from commissions.core.db import get_engine
    from commissions.core.errors import InputProblem
    from commissions.engine import EngineError, PlanValidationError
    from commissions.engine.inputs import parse_period

    try:
        parse_period(period_key)
        drain(get_engine(), trigger="commissions recalc: queued first")
        report = recalc_period(get_engine(), period_key, trigger="commissions recalc", processes=processes)
    except (PlanValidationError, EngineError, InputProblem, RecalcProcessDied) as exc:  # InputProblem: a period
        raise click.ClickException(str(exc)) from exc  # outside the window
    if report.skipped_locked:
        raise click.ClickException(f"period {period_key} is locked: it never changes (late changes become adjustments)")
    click.echo(f"{period_key}: {report.computed} statement(s) computed, {len(report.people)} changed.")
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)


@main.group(help="People.")
def user() -> None:
    pass


@user.command("add", help="Add a person who can sign in.")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["rep", "manager", "finance", "admin"]))
@click.option("--name", default="")
@click.option("--manager", "manager_email", default=None, help="The manager's email.")
@click.option("--team", default=None)
@click.option("--employee-id", default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def user_add(
    email: str,
    role: str,
    name: str,
    manager_email: str | None,
    team: str | None,
    employee_id: str | None,
    password_stdin: bool,
) -> None:
    from commissions.auth.passwords import WeakPasswordError
    from commissions.core.db import transaction
    from commissions.people.service import PersonError, create_person

    generated = not password_stdin
    password = secrets.token_urlsafe(12) if generated else sys.stdin.readline().rstrip("\r\n")
    if not password:  # a person nobody can sign in as, added without a word, is not what was asked for
        raise click.UsageError("--password-stdin: no password on standard input (one line)")
    try:
        with transaction() as session:
            person = create_person(
                session,
                email=email,
                role=role,
                name=name,
                manager_email=manager_email,
                team_name=team,
                employee_id=employee_id,
                password=password,
            )
            click.echo(f"Added {person.email} ({person.role}).")
    except (PersonError, WeakPasswordError) as exc:
        raise click.ClickException(str(exc)) from exc
    if generated:
        click.echo(f"Initial password (shown once): {password}")


@user.command("set-password", help="Set a person's password (read from standard input); ends all their sessions.")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input (required).")
def user_set_password(email: str, password_stdin: bool) -> None:
    from commissions.auth.passwords import WeakPasswordError
    from commissions.core.db import transaction
    from commissions.people.queries import person_by_email
    from commissions.people.service import set_password

    if not password_stdin:
        raise click.UsageError("pass --password-stdin and the password on standard input (never as an argument)")
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        with transaction() as session:
            person = person_by_email(session, email)
            if person is None:
                raise click.ClickException(f"no person with email {email.strip().lower()}")
            set_password(session, person, password, by=None, how="command line")
    except WeakPasswordError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Password of {person.email} set; every session of theirs has ended.")


@main.group(help="API tokens for machines.")
def token() -> None:
    pass


@token.command("create", help="Create an API token; it is printed once and stored only as a hash.")
@click.option("--name", required=True)
@click.option(
    "--role",
    default=None,
    type=click.Choice(["rep", "manager", "finance", "admin"]),
    help="For a token acting for no person (an integration); never finance. With --as: the person's role.",
)
@click.option("--as", "as_email", default=None, help="Act as this person, with their role (finance powers need one).")
def token_create(name: str, role: str | None, as_email: str | None) -> None:
    from commissions.auth.tokens import TokenError, create_token
    from commissions.core.db import transaction
    from commissions.people.queries import person_by_email

    try:
        with transaction() as session:
            person = None
            if as_email:
                person = person_by_email(session, as_email)
                if person is None:
                    raise TokenError(f"no person with email {as_email.strip().lower()}")
            _, clear = create_token(session, name=name, role=role, person=person, created_by=None)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(clear)


@main.group(help="Signed webhook deliveries from a CRM (Standard Webhooks).")
def webhook() -> None:
    pass


def _as_admin(session: Session, email: str) -> Principal:
    """The principal of an active admin named on the command line (for the audit log)."""
    from commissions.core.principal import Principal
    from commissions.people.queries import person_by_email

    person = person_by_email(session, email)
    if person is None or person.role != "admin" or not person.active:
        raise click.ClickException(f"{email.strip().lower()} is not an active admin")
    return Principal(role=person.role, person_id=person.id, email=person.email, name=person.name)


@webhook.command("create", help="Create a webhook integration; its secret (whsec_...) is printed once.")
@click.argument("name")
@click.option("--as", "as_email", required=True, help="The admin creating it (for the audit log).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["standard", "hubspot", "salesforce"]),
    default="standard",
    show_default=True,
    help="How deliveries are read: the deal JSON, or a HubSpot / Salesforce payload (docs/integrations-crm.md).",
)
@click.option("--mapping", default="", help="JSON over the format's default field mapping (docs/integrations-crm.md).")
def webhook_create(name: str, as_email: str, fmt: str, mapping: str) -> None:
    from commissions.core.db import transaction
    from commissions.core.errors import InputProblem
    from commissions.core.settings import get_settings
    from commissions.webhooks.service import create_integration

    try:
        with transaction() as session:
            row, secret = create_integration(
                session,
                name=name,
                secret_key=get_settings().secret_key,
                by=_as_admin(session, as_email),
                fmt=fmt,
                mapping=mapping,
            )
    except InputProblem as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Webhook {row.name}: deliver to POST /api/v1/webhooks/crm/{row.name}/deals")
    click.echo(f"Secret (shown once): {secret}")


@webhook.command("revoke", help="Stop accepting deliveries for a webhook integration.")
@click.argument("name")
@click.option("--as", "as_email", required=True, help="The admin revoking it (for the audit log).")
def webhook_revoke(name: str, as_email: str) -> None:
    from commissions.core.db import transaction
    from commissions.core.errors import InputProblem
    from commissions.webhooks.service import revoke_integration

    try:
        with transaction() as session:
            row = revoke_integration(session, name, by=_as_admin(session, as_email))
    except InputProblem as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(f"Webhook {row.name} revoked.")


def _extension_worker_tasks() -> list[Any]:
    from commissions.app.extensions import hooks

    return hooks("worker_tasks")


_extensions_registered = False


def _register_extension_commands() -> None:
    """Commands of extensions (``quotaboard.extensions`` entry points with ``cli_commands``), e.g. `contests`."""
    global _extensions_registered
    if _extensions_registered:
        return
    _extensions_registered = True
    from commissions.app.extensions import load_extensions

    def warn(name: str, exc: Exception) -> None:
        click.echo(f"warning: extension {name} not loaded: {exc}", err=True)

    for extension in load_extensions(on_error=warn):
        for command in getattr(extension, "cli_commands", []):
            if command.name not in main.commands:
                main.add_command(command)


if __name__ == "__main__":  # pragma: no cover
    main()
