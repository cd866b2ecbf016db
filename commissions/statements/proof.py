"""Proof of pay: a statement's inputs as the offline calculator's files, its fingerprint, and
what a download can and cannot reproduce (docs/checking-your-pay.md).

The inputs come from the recomputation's own reader (``calculation.loader``:
``plans_in_period``, ``load_period_inputs`` focused on the person, ``PeriodInputs.quotas_for``),
so the files hold what the app computed from, narrowed to what the person's payout depends
on (the plan's credit rules decide which):

- plan.yaml: the plan version document in force, byte for byte;
- people.csv: the person (the only one with a ``plan``, so ``commissions calc`` pays only
  them), and for ``scope: team`` or an override the reports whose deals count, with the
  managers linking them to the person; split partners and campaign owners by email and
  name only (no manager, team or employee id: the calculation does not need them);
- deals.csv: the period's deals that credit those people (for ``sourced_revenue``: the
  deals their campaigns sourced), with the declared custom fields as extra columns;
- quotas.csv: the person's target for the plan's metric, prorated as the app uses it;
- campaigns.csv: under ``sourced_revenue``, the campaigns that credit those people;
- rates.csv: when one of those deals is in another currency than the plan's, the exchange rates that
  convert them (each as stored, ``from,to,rate,effective_from``).

``build_proof`` also runs the offline calculator on the very files (in a temporary
folder) and compares its answer with the stored statement, so ``reproducible`` is a fact
checked on every read, not a promise; when it is false, ``notes`` say why in plain words
(a recoverable draw balance carried in, a plan on lead metrics, more than one plan, a
locked period changed since, changes still pending, a failed calculation). Adjustments
(prior-period, clawback and manual lines) are never engine lines: a note says the
calculator reproduces the total before them.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from commissions import engine as eng
from commissions.calculation.loader import load_period_inputs, plans_in_period
from commissions.calculation.rows import stored_id
from commissions.calculation.state import Freshness
from commissions.calculator.readers import CsvError
from commissions.calculator.verify import (
    INPUT_FILES,
    fingerprint,
    first_difference,
    payee_of,
    recompute,
    sha256_hex,
)
from commissions.calculator.writers import campaigns_csv, deals_csv, people_csv, quotas_csv
from commissions.core.money import format_money
from commissions.core.periods import CLOSED_STATES
from commissions.core.principal import Principal
from commissions.engine.plan import OverrideComponent
from commissions.holds.cash import CashFigures, cash_figures, releases_on_cash
from commissions.models import CustomField, PayeeSummary, Person, PlanVersion
from commissions.people.access import find_statement_person
from commissions.statements.queries import (
    Statement,
    line_cursor,
    period_key,
    read_statement,
    statement_freshness,
)
from commissions.statements.schemas import CashOut, StatementOut, statement_out


@dataclass
class Proof:
    """A statement's inputs (file name → bytes), their SHA-256, the fingerprint, and whether
    ``commissions calc`` on the files gives the statement's engine lines and total."""

    person: str
    period: str
    files: dict[str, bytes]
    inputs: dict[str, str]
    fingerprint: str
    reproducible: bool
    notes: list[str] = field(default_factory=list)
    computed: bool = True  # False: no plan computed anything for the person here (only adjustments or released holds)

    def as_json(self) -> dict[str, Any]:
        return {
            "engine_version": eng.ENGINE_VERSION,
            "fingerprint": self.fingerprint,
            "inputs": dict(self.inputs),
            "reproducible": self.reproducible,
            "offline_notes": list(self.notes),
        }


def build_proof(
    session: Session, person: Person, statement: Statement, figures: Mapping[str, Any], fresh: Freshness
) -> Proof:
    """The statement's downloadable inputs and what they reproduce. ``figures`` is the statement
    as the API answers it (the engine lines are compared with the calculator's from it)."""
    key = statement.period.key
    summaries = session.exec(
        select(PayeeSummary).where(PayeeSummary.person_id == person.id, PayeeSummary.period_id == statement.period.id)
    ).all()
    reasons: list[str] = []
    files: dict[str, bytes] = {}
    if not summaries:
        reasons.append(f"No plan paid {person.email} in {key}: there is nothing for the calculator to recompute.")
    elif len(summaries) > 1:
        reasons.append(
            f"{person.email} was paid under {len(summaries)} plans in {key}; the offline calculator "
            "computes one plan at a time, so this statement cannot be recomputed in one run."
        )
    else:
        try:
            files, found = _files(session, person, statement, summaries[0])
        except eng.EngineError as exc:  # the plan in force no longer parses (a custom field it uses was dropped, say)
            found = [f"The inputs cannot be put together for the offline calculator: {exc}"]
        reasons += found
    if fresh.pending:
        reasons.append(
            "Changes are still being applied to this statement: download it again once its figures are up to date."
        )
    if fresh.error:
        reasons.append(
            "The last calculation of this statement failed, so it shows no lines from its plan: "
            "there is nothing to reproduce until its inputs are corrected."
        )
    inputs = {name: sha256_hex(files[name]) for name in INPUT_FILES if name in files}
    digest = fingerprint(person=person.email, period=key, engine_version=eng.ENGINE_VERSION, inputs=inputs)
    difference = _check(files, key, figures, digest) if files else "no input files"
    reproducible = difference is None
    notes: list[str] = []
    if not reproducible:
        if statement.period.state in CLOSED_STATES and not reasons:
            reasons.append(
                f"{key} is {statement.period.state}: changes made since to its deals, quotas or plan "
                "are booked as prior-period adjustments in a later period, so today's inputs no longer "
                "give the figures it was locked with."
            )
        notes += reasons
        if files:
            notes.append(f"Recomputed offline, the first difference is: {difference}")
    if statement.adjustments:
        notes.append(
            f"The total includes {format_money(statement.adjustments_minor, statement.currency)} of adjustments "
            "(prior-period, clawback or manual lines): they are booked by finance or for changes to locked periods, "
            "not computed from these inputs, so `commissions calc` gives the total before them, "
            f"{format_money(statement.total_minor - statement.adjustments_minor, statement.currency)}."
        )
    return Proof(person.email, key, files, inputs, digest, reproducible, notes, computed=bool(summaries))


def _files(
    session: Session, person: Person, statement: Statement, summary: PayeeSummary
) -> tuple[dict[str, bytes], list[str]]:
    """The cli.md files of the person's one plan in the period, and reasons they cannot reproduce it."""
    period = eng.parse_period(statement.period.key)
    plan = next(
        (p for p in plans_in_period(session, period, {stored_id(person)}) if p.plan.id == summary.plan_id), None
    )
    if plan is None:
        return {}, [f"{person.email} is no longer assigned the plan these figures were computed with."]
    reasons = []
    parsed, email = plan.parsed, person.email
    if plan.version.id != summary.plan_version_id:
        then = session.get(PlanVersion, summary.plan_version_id)
        reasons.append(
            f"These figures were computed with version {then.version if then else '?'} of "
            f"{plan.plan.name}; version {plan.version.version} is in force now."
        )
    if parsed.metric in eng.LEAD_METRICS:
        reasons.append(
            f"{parsed.name} pays on marketing leads ({parsed.metric}); the offline calculator reads "
            "deals, not lead events, so it cannot recompute this statement."
        )
    if summary.draw_balance_in_minor:
        reasons.append(
            f"A recoverable draw balance of {format_money(summary.draw_balance_in_minor, summary.currency)} "
            "was carried in from the previous period; the offline calculator starts every period without "
            "one, so its draw line differs."
        )
    inputs = load_period_inputs(session, period, focus={stored_id(person)})
    managers = {p.email: p.manager for p in inputs.people}
    needs_reports = parsed.credit.scope == "team" or any(isinstance(c, OverrideComponent) for c in parsed.components)
    credited = {email} | (_reports(managers, email) if needs_reports else set())
    deals, campaigns = _deals(inputs.deals, inputs.campaigns, parsed.metric, credited)
    needed = {email, *(d.owner for d in deals), *(e for d in deals for e, _ in d.splits), *(c.owner for c in campaigns)}
    for member in needed & credited:  # the managers linking a report to the person (team credit, overrides)
        manager = managers.get(member)
        while member != email and manager is not None and manager not in needed:
            needed.add(manager)
            member, manager = manager, managers.get(manager)
    people = sorted((p for p in inputs.people if p.email in needed), key=lambda p: (p.email != email, p.email))
    people = [
        eng.Person(
            p.email,
            p.name,
            p.manager if p.email != email and p.email in credited else None,
            p.team if p.email == email else "",
            p.employee_id if p.email == email else "",
        )
        for p in people
    ]
    quotas = [q for q in inputs.quotas_for(plan) if q.person == email and q.metric == parsed.metric]
    custom = list(session.exec(select(CustomField.name).order_by(CustomField.name)).all())
    files = {
        "plan.yaml": plan.version.document.encode(),
        "people.csv": people_csv(people, {email: parsed.name}).encode(),
        "deals.csv": deals_csv(deals, custom).encode(),
        "quotas.csv": quotas_csv(quotas).encode(),
    }
    if campaigns:
        files["campaigns.csv"] = campaigns_csv(campaigns).encode()
    rates = _rates_used(inputs.rate_book, deals, parsed.currency)
    if rates:
        files["rates.csv"] = rates.encode()
    return files, reasons


def _rates_used(book: eng.RateBook, deals: list[eng.Deal], currency: str) -> str:
    """rates.csv of the rates converting ``deals`` into ``currency`` (each as stored), or "" when none is needed."""
    used: set[tuple[str, str, str, str]] = set()
    for deal in deals:
        if deal.currency == currency:
            continue
        applied = book.lookup(deal.currency, currency, deal.closed_at)
        if applied is not None:
            source, target = (applied.target, applied.source) if applied.inverted else (applied.source, applied.target)
            used.add((source, target, format(applied.rate, "f"), applied.effective_from.isoformat()))
    if not used:
        return ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("from", "to", "rate", "effective_from"))
    writer.writerows(sorted(used))
    return out.getvalue()


def _reports(managers: Mapping[str, str | None], email: str) -> set[str]:
    """Everyone whose manager chain (among the loaded people) leads to ``email``."""
    out = set()
    for person in managers:
        seen, manager = {person}, managers.get(person)
        while manager is not None and manager not in seen:
            if manager == email:
                out.add(person)
                break
            seen.add(manager)
            manager = managers.get(manager)
    return out


def _deals(
    deals: list[eng.Deal], campaigns: list[eng.Campaign], metric: str, credited: set[str]
) -> tuple[list[eng.Deal], list[eng.Campaign]]:
    """The deals (in deal order) and campaigns that can credit ``credited`` under the plan's metric."""
    if metric in eng.LEAD_METRICS:
        return [], []
    if metric == "sourced_revenue":
        theirs = [c for c in campaigns if c.owner in credited]
        codes = {c.code for c in theirs}
        chosen = [d for d in deals if d.source_campaign in codes]
        used = {d.source_campaign for d in chosen}
        return _in_deal_order(chosen), sorted((c for c in theirs if c.code in used), key=lambda c: c.code)
    chosen = [d for d in deals if (any(e in credited for e, _ in d.splits) if d.splits else d.owner in credited)]
    return _in_deal_order(chosen), []


def _in_deal_order(deals: list[eng.Deal]) -> list[eng.Deal]:
    return sorted(deals, key=lambda d: (d.closed_at, d.external_id))


# --- the check: the offline calculator on the very files --------------------------------------------

_CHECKED: OrderedDict[str, str | None] = OrderedDict()  # (fingerprint, stored figures) → first difference
_CHECKED_LOCK = threading.Lock()
_CHECKED_SIZE = 512
_COMPARED = ("person", "period", "total", "components", "adjustments", "plans")


def _check(files: Mapping[str, bytes], key: str, figures: Mapping[str, Any], digest: str) -> str | None:
    """``commissions calc`` on ``files``: None when it pays the statement's lines and total, else the first
    difference. Remembered per fingerprint and stored figures (both change whenever the answer can)."""
    memo = sha256_hex(
        json.dumps([digest, {k: figures.get(k) for k in _COMPARED}], sort_keys=True, default=str).encode()
    )
    with _CHECKED_LOCK:
        if memo in _CHECKED:
            _CHECKED.move_to_end(memo)
            return _CHECKED[memo]
    with tempfile.TemporaryDirectory(prefix="quotaboard-proof-") as folder:
        directory = Path(folder)
        for name, data in files.items():
            (directory / name).write_bytes(data)
        try:
            difference = first_difference(
                figures, payee_of(recompute(directory, list(files), key), str(figures["person"]))
            )
        except (CsvError, eng.EngineError) as exc:
            difference = "the offline calculator refuses these inputs: " + str(exc).replace(f"{directory}/", "")
    with _CHECKED_LOCK:
        _CHECKED[memo] = difference
        while len(_CHECKED) > _CHECKED_SIZE:
            _CHECKED.popitem(last=False)
    return difference


# --- the download ------------------------------------------------------------------------------------

_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same statement downloads byte-identical


def download_name(proof: Proof) -> str:
    return f"statement-{re.sub(r'[^A-Za-z0-9.-]+', '_', proof.person)}-{proof.period}.zip"


def proof_zip(proof: Proof, statement_json: bytes, *, name: str) -> bytes:
    """The download: the input files, statement.json (the API's answer) and a README.txt."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        members = {**proof.files, "statement.json": statement_json, "README.txt": _readme(proof, name).encode()}
        for member, data in members.items():
            info = zipfile.ZipInfo(member, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def calc_command_line(proof: Proof) -> str:
    """The ``commissions calc`` command for the download's files, one option a line (shell continuations)."""
    options = [
        f"--{name.removesuffix('.yaml').removesuffix('.csv')} {name}" for name in INPUT_FILES if name in proof.files
    ]
    return " \\\n  ".join(["commissions calc", *options, f"--period {proof.period} --json"])


def _readme(proof: Proof, name: str) -> str:
    lines = [
        f"Statement of {name} <{proof.person}> for {proof.period}, with the inputs it was computed from.",
        "",
        f"Fingerprint: {proof.fingerprint}",
        f"Engine: {eng.ENGINE_VERSION}",
        "",
    ]
    if proof.files:
        lines += [
            "Recompute it with the offline calculator (no server, no database), in this folder:",
            "",
            *(f"    {line}" for line in calc_command_line(proof).splitlines()),
            "",
            "or recompute and compare with statement.json in one step:",
            "",
            "    commissions verify statement.json .",
            "",
            'It prints "reproduced" when the files give exactly the statement\'s lines and total.',
            "",
        ]
    lines.append("Reproducible offline: " + ("yes" if proof.reproducible else "no"))
    lines += [f"- {note}" for note in proof.notes]
    lines += ["", "What the files hold and what the fingerprint covers: docs/checking-your-pay.md.", ""]
    return "\n".join(lines)


PAGED_NOTE = (
    "A page of the statement does not check its proof (it would read the whole statement): the inputs "
    "download (GET /api/v1/statements/{email}/inputs) carries it."
)
UNCHECKED_NOTE = (
    "The proof of pay was not asked for: GET /api/v1/statements/{email}?proof=true checks it, and the "
    "inputs download (GET /api/v1/statements/{email}/inputs) carries it."
)


def paged_statement(
    session: Session, principal: Principal, email: str, period: str | None, *, limit: int, after: int | None
) -> tuple[StatementOut, str | None]:
    """A page of the statement as the API answers it (totals and ``limit`` lines after the line id ``after``),
    with its freshness but no proof, and the next page's cursor (the caller's right checked first)."""
    person = find_statement_person(session, principal, email)
    key = period_key(session, person, period)
    st = read_statement(session, person, key, limit=limit, after=after)
    following = line_cursor(st.next_after) if st.next_after is not None else None
    out = statement_out(st, next_cursor=following)
    fresh = statement_freshness(session, principal, person, key)
    update = {**fresh.as_json(), "reproducible": None, "offline_notes": [PAGED_NOTE]}
    return out.model_copy(update={**update, "cash": cash_out(session, st)}), following


def statement_without_proof(session: Session, principal: Principal, email: str, period: str | None) -> StatementOut:
    """The whole statement as the API answers it, with its freshness but without its proof of pay (the caller's
    right checked first): building the proof reads every input of the statement again and runs the offline
    calculator on them, a dozen statements and most of the read's time, asked for with ``proof=true``."""
    person = find_statement_person(session, principal, email)
    key = period_key(session, person, period)
    st = read_statement(session, person, key)
    out = statement_out(st)
    fresh = statement_freshness(session, principal, person, key)
    cash = cash_out(session, st)
    return out.model_copy(
        update={**fresh.as_json(), "reproducible": None, "offline_notes": [UNCHECKED_NOTE], "cash": cash}
    )


def statement_with_proof(
    session: Session, principal: Principal, email: str, period: str | None
) -> tuple[StatementOut, Proof]:
    """The statement as the API answers it, with its freshness and its proof (the caller's right checked first)."""
    person = find_statement_person(session, principal, email)
    key = period_key(session, person, period)
    st = read_statement(session, person, key)
    out = statement_out(st)
    fresh = statement_freshness(session, principal, person, key)
    proof = build_proof(session, person, st, out.model_dump(mode="json"), fresh)
    cash = cash_out(session, st)
    return out.model_copy(update={**fresh.as_json(), **proof.as_json(), "cash": cash}), proof


def statement_cash(session: Session, statement: Statement) -> CashFigures | None:
    """Earned, waiting, released, held and payable in the statement's currency (minor units); None when none of
    it applies. The page formats these; the API answers them as ``cash_out``."""
    person, period, currency = statement.person, statement.period, statement.currency
    if person.id is None:
        return None
    if not statement.any_hold and not releases_on_cash(session):  # the usual case: known from the statement's read
        return None
    entry = cash_figures(session, period, person_id=person.id).get((person.id, currency))
    if entry is None or not (
        entry.waiting_minor or entry.released_minor or entry.held_minor or entry.hold_released_minor or entry.holds
    ):
        return None
    return entry


def cash_out(session: Session, statement: Statement) -> CashOut | None:
    """``statement_cash`` as the API answers it: decimal strings."""
    entry = statement_cash(session, statement)
    if entry is None:
        return None
    currency = entry.currency
    return CashOut(
        currency=currency,
        earned=str(entry.money(entry.earned_minor)),
        waiting=str(entry.money(entry.waiting_minor)),
        released=str(entry.money(entry.released_minor)),
        held=str(entry.money(entry.held_minor)),
        holds_released=str(entry.money(entry.hold_released_minor)),
        payable=str(entry.money(entry.payable_minor)),
        holds=entry.holds,
    )
