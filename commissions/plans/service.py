"""Plans in the app: validated, immutable versions of plan documents and who is on which plan when.

Keyword-only functions; the caller owns the transaction (``commissions.core.db.transaction``),
so a refused change leaves nothing behind. Every change is audited
(``plan.version``, ``plan.assign``, ``plan.unassign``).

- A plan is identified by the ``name`` in its document. Its first saved version creates
  the ``plan`` row (name, currency, period kind); later versions must keep the currency
  and the period kind.
- A version is the document text as written (line endings normalised to ``\\n``). The
  version in force for a period is the one with the latest ``effective_from`` on or
  before the period's first day, so a version dated inside a period first applies to
  the next one, and earlier periods keep theirs.
- Saving a text identical to the latest version stores nothing ("unchanged").
- A version may not take effect on or before the start of a locked or paid period of
  the plan's kind: that period would be computed differently (plans.md section 6).
- A person may not have two overlapping assignments to the same plan; assignments to
  different plans may overlap (an AE on the AE plan and a SPIFF plan at once).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from sqlalchemy import Engine, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from commissions.calculation.rows import stored_id
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.errors import Conflict, InputProblem
from commissions.core.money import currency_problem
from commissions.core.periods import CLOSED_STATES, bounds_of_day, check_day_in_window
from commissions.core.principal import Principal
from commissions.core.upserts import ItemProblem, Outcome, UpsertRefused, UpsertReport
from commissions.engine import Plan as PlanDocument
from commissions.engine import (
    PlanIssue,
    PlanValidationError,
    load_plan_document,
    parse_plan,
)
from commissions.models import (
    CustomField,
    Period,
    Person,
    Plan,
    PlanAssignment,
    PlanVersion,
)
from commissions.people.queries import person_by_email

MAX_DOCUMENT_CHARS = 200_000
Unchanged = Literal["same_text_as_latest", "same_plan_in_force"]


class InvalidPlan(InputProblem):
    """The plan document is invalid; ``issues`` lists every problem (component, field, message, position)."""

    def __init__(self, issues: Iterable[PlanIssue]) -> None:
        self.issues: tuple[PlanIssue, ...] = tuple(issues)
        first = self.issues[0] if self.issues else PlanIssue(None, "document", "invalid plan")
        super().__init__(first.field, "; ".join(str(issue) for issue in self.issues) or first.message)

    def __str__(self) -> str:
        return f"invalid plan: {self.message}"


class HasDates(Protocol):
    starts_on: date
    ends_on: date


@dataclass(frozen=True, slots=True)
class SavedVersion:
    """What ``save_plan_version`` did: ``created`` is False when the text equals the latest version."""

    plan: Plan
    version: PlanVersion
    created: bool
    plan_created: bool
    effective_from: date  # the date asked for (explicit, the document's, or the current period's first day)

    @property
    def outcome(self) -> str:
        if not self.created:
            return "unchanged"
        return "created" if self.plan_created else "new version"


@dataclass(frozen=True, slots=True)
class PlanInForce:
    """One of a person's plans in a period: the assignment and the version in force at the period start."""

    assignment: PlanAssignment
    plan: Plan
    version: PlanVersion


# --- documents -------------------------------------------------------------------------


def normalise_text(text: str) -> str:
    """The document as written, with ``\\r\\n`` (what browsers post) read as ``\\n``."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def custom_field_types(session: Session) -> dict[str, str]:
    """The custom deal fields an admin declared, ``{name: type}``, for plan conditions."""
    return {field.name: field.type for field in session.exec(select(CustomField)).all()}


def validate_plan_text(text: str, custom_fields: Mapping[str, str] | None = None) -> PlanDocument:
    """Parse and validate a YAML/JSON plan; ``InvalidPlan`` carries every issue."""
    if not text.strip():
        raise InvalidPlan([PlanIssue(None, "document", "the plan is empty: paste or write a YAML plan document")])
    if len(text) > MAX_DOCUMENT_CHARS:
        raise InvalidPlan([PlanIssue(None, "document", f"the plan is longer than {MAX_DOCUMENT_CHARS} characters")])
    try:
        document = parse_plan(load_plan_document(text), custom_fields=dict(custom_fields or {}))
    except PlanValidationError as exc:
        raise InvalidPlan(exc.issues) from None
    # the engine (and ``commissions calc``) takes any three letters; the app pays in currencies it can hold
    # exchange rates for (``core.money.currency_problem``: a rate for "DOL" is refused)
    if (problem := currency_problem(document.currency)) is not None:
        raise InvalidPlan([PlanIssue(None, "currency", problem)])
    return document


def same_plan(stored_text: str, document: PlanDocument, custom_fields: Mapping[str, str] | None = None) -> bool:
    """Whether a stored version reads as the same plan as ``document`` (YAML or JSON, `15%` or `0.15`:
    the parsed plans are compared, not the texts). A stored text that no longer validates differs."""
    try:
        stored = validate_plan_text(stored_text, custom_fields)
    except InvalidPlan:
        return False
    return stored.model_dump() == document.model_dump()


def plan_by_name(session: Session, name: str, *, for_update: bool = False) -> Plan | None:
    query = select(Plan).where(Plan.name == name)
    if for_update:
        query = query.with_for_update()
    return session.exec(query).first()


def check_plan_text(
    session: Session, text: str, *, plan_id: int | None = None, create_only: bool = False
) -> tuple[PlanDocument, Plan | None]:
    """Validate a document and check it against the stored plan of the same name.

    ``plan_id``: the document must be a version of this plan (the editor of one plan).
    ``create_only``: the plan must not exist yet (the "new plan" page).
    Returns the parsed document and the existing plan (or None).
    """
    document = validate_plan_text(text, custom_field_types(session))
    existing = plan_by_name(session, document.name)
    if plan_id is not None:
        target = session.get(Plan, plan_id)
        if target is None:
            raise InputProblem("plan", "no such plan")
        if existing is None or existing.id != target.id:
            raise InvalidPlan(
                [
                    PlanIssue(
                        None,
                        "name",
                        f"this editor saves versions of {target.name!r}; the document "
                        f"is named {document.name!r} (plans are not renamed: create a new plan)",
                    )
                ]
            )
    if create_only and existing is not None:
        raise InvalidPlan(
            [PlanIssue(None, "name", f"a plan named {document.name!r} already exists: edit it to save a new version")]
        )
    if existing is not None:
        issues = []
        if document.currency != existing.currency:
            issues.append(
                PlanIssue(
                    None,
                    "currency",
                    f"plan {existing.name!r} is paid in {existing.currency}; a new "
                    f"version cannot change it to {document.currency} (create a new plan)",
                )
            )
        if document.period != existing.period_kind:
            issues.append(
                PlanIssue(
                    None,
                    "period",
                    f"plan {existing.name!r} has {existing.period_kind} periods; a "
                    f"new version cannot change it to {document.period} (create a new plan)",
                )
            )
        if issues:
            raise InvalidPlan(issues)
    return document, existing


# --- periods ---------------------------------------------------------------------------


def default_effective_from(kind: str, today: date | None = None) -> date:
    """The first day of the current period of the plan's kind."""
    return bounds_of_day(kind, today or date.today())[0]


def resolve_effective_from(document: PlanDocument, effective_from: date | None, today: date | None = None) -> date:
    """An explicit date, else the document's ``effective_from``, else the current period's first day."""
    if effective_from is None:
        return document.effective_from or default_effective_from(document.period, today)
    if document.effective_from is not None and document.effective_from != effective_from:
        raise InputProblem(
            "effective_from",
            f"the document says effective_from {document.effective_from.isoformat()} but "
            f"{effective_from.isoformat()} was given: change one of them",
        )
    return effective_from


def _refuse_closed_periods(session: Session, plan_kind: str, effective_from: date) -> None:
    closed = session.exec(
        select(Period)
        .where(Period.kind == plan_kind, col(Period.state).in_(CLOSED_STATES), Period.starts_on >= effective_from)
        .order_by(col(Period.starts_on))
    ).first()
    if closed is not None:
        raise Conflict(
            "effective_from",
            f"period {closed.key} is {closed.state}: a version effective from {effective_from.isoformat()} would "
            f"change it; choose a date after {closed.ends_on.isoformat()}",
        )


# --- versions --------------------------------------------------------------------------


def latest_version(session: Session, plan_id: int) -> PlanVersion | None:
    return session.exec(
        select(PlanVersion).where(PlanVersion.plan_id == plan_id).order_by(col(PlanVersion.version).desc())
    ).first()


def versions_of(session: Session, plan_id: int) -> list[PlanVersion]:
    return list(
        session.exec(
            select(PlanVersion).where(PlanVersion.plan_id == plan_id).order_by(col(PlanVersion.version).desc())
        )
    )


def version_for_period(session: Session, plan_id: int, period_start: date) -> PlanVersion | None:
    """The version in force for a period: the latest ``effective_from`` on or before its first day (of
    versions sharing that day, the highest number: the correction)."""
    return session.exec(
        select(PlanVersion)
        .where(PlanVersion.plan_id == plan_id, PlanVersion.effective_from <= period_start)
        .order_by(col(PlanVersion.effective_from).desc(), col(PlanVersion.version).desc())
    ).first()


def _lock_or_create_plan(session: Session, document: PlanDocument) -> tuple[Plan, bool]:
    plan = plan_by_name(session, document.name, for_update=True)
    if plan is not None:
        return plan, False
    plan = Plan(name=document.name, currency=document.currency, period_kind=document.period)
    try:
        with session.begin_nested():
            session.add(plan)
            session.flush()
    except IntegrityError:  # created concurrently by another request: use theirs
        plan = plan_by_name(session, document.name, for_update=True)
        if plan is None:
            raise
        return plan, False
    return plan, True


def save_plan_version(
    session: Session,
    *,
    text: str,
    effective_from: date | None,
    by: Principal | None,
    plan_id: int | None = None,
    create_only: bool = False,
    today: date | None = None,
    name: str | None = None,
    unchanged_if: Unchanged = "same_text_as_latest",
) -> SavedVersion:
    """Validate ``text`` and store it as the plan's next version (creating the plan on first use).

    ``effective_from``: None takes the document's own ``effective_from`` or else the first
    day of the current period of the plan's kind. ``name``: the document must be named so.
    ``unchanged_if``: when nothing is stored (``created=False``, the matching version returned):
    ``same_text_as_latest`` (the editor, the CLI) for a text identical to the latest version;
    ``same_plan_in_force`` (the API) for a document that parses to the same plan as the version in
    force on ``effective_from``.
    """
    text = normalise_text(text)
    document, _ = check_plan_text(session, text, plan_id=plan_id, create_only=create_only)
    if name is not None and document.name != name:
        raise InvalidPlan(
            [PlanIssue(None, "name", f"the document is named {document.name!r}, not {name!r}: the names must match")]
        )
    effective_from = resolve_effective_from(document, effective_from, today)
    check_day_in_window(effective_from, field="effective_from", on=today)  # 2099-01-01 is a typing mistake

    plan, plan_created = _lock_or_create_plan(session, document)
    latest = latest_version(session, stored_id(plan)) if not plan_created else None
    if latest is not None:
        # Re-checked under the plan's row lock: a concurrent version may have changed the plan.
        if plan.currency != document.currency or plan.period_kind != document.period:
            check_plan_text(session, text)
        same = latest if normalise_text(latest.document).rstrip() == text.rstrip() else None
        if unchanged_if == "same_plan_in_force":
            in_force = version_for_period(session, stored_id(plan), effective_from)
            fields = custom_field_types(session)
            same = in_force if in_force is not None and same_plan(in_force.document, document, fields) else None
        if same is not None:
            return SavedVersion(
                plan=plan, version=same, created=False, plan_created=False, effective_from=effective_from
            )

    _refuse_closed_periods(session, plan.period_kind, effective_from)

    version = PlanVersion(
        plan_id=stored_id(plan),
        version=(latest.version if latest else 0) + 1,
        document=text,
        effective_from=effective_from,
        created_by_id=by.person_id if by else None,
    )
    session.add(version)
    session.flush()
    record_event(
        session,
        by,
        "plan.version",
        "plan",
        plan.id,
        {
            "plan": plan.name,
            "version": version.version,
            "effective_from": effective_from.isoformat(),
            "plan_created": plan_created,
        },
    )
    _queue_recompute(session, plan, person_ids=None, starts_on=effective_from, ends_on=None)
    return SavedVersion(
        plan=plan, version=version, created=True, plan_created=plan_created, effective_from=effective_from
    )


# --- assignments -----------------------------------------------------------------------


def _overlapping(
    session: Session,
    *,
    plan_id: int,
    person_id: int,
    starts_on: date,
    ends_on: date | None,
    exclude_id: int | None = None,
) -> PlanAssignment | None:
    query = select(PlanAssignment).where(
        PlanAssignment.plan_id == plan_id,
        PlanAssignment.person_id == person_id,
        or_(col(PlanAssignment.ends_on).is_(None), col(PlanAssignment.ends_on) >= starts_on),
    )
    if ends_on is not None:
        query = query.where(PlanAssignment.starts_on <= ends_on)
    if exclude_id is not None:
        query = query.where(PlanAssignment.id != exclude_id)
    return session.exec(query.order_by(col(PlanAssignment.starts_on))).first()


def _describe(assignment: PlanAssignment) -> str:
    end = assignment.ends_on.isoformat() if assignment.ends_on else "open-ended"
    return f"{assignment.starts_on.isoformat()} to {end}"


def _lock_plan(session: Session, plan_id: int) -> Plan:
    plan = session.exec(select(Plan).where(Plan.id == plan_id).with_for_update()).first()
    if plan is None:
        raise InputProblem("plan", "no such plan")
    return plan


def assign(
    session: Session,
    *,
    plan: Plan,
    person: Person,
    starts_on: date,
    ends_on: date | None = None,
    prorate: bool = False,
    by: Principal | None,
) -> PlanAssignment:
    """Put ``person`` on ``plan`` from ``starts_on`` to ``ends_on`` (inclusive; None: open-ended)."""
    if ends_on is not None and ends_on < starts_on:
        raise InputProblem(
            "ends_on", f"the assignment ends ({ends_on.isoformat()}) before it starts ({starts_on.isoformat()})"
        )
    plan = _lock_plan(
        session, stored_id(plan)
    )  # serialises assignments to one plan (PostgreSQL; SQLite writes are serial)
    clash = _overlapping(
        session, plan_id=stored_id(plan), person_id=stored_id(person), starts_on=starts_on, ends_on=ends_on
    )
    if clash is not None:
        raise Conflict(
            "starts_on",
            f"{person.email} is already on {plan.name} from {_describe(clash)}; "
            "end that assignment first or choose dates that do not overlap",
        )
    assignment = PlanAssignment(
        person_id=stored_id(person), plan_id=stored_id(plan), starts_on=starts_on, ends_on=ends_on, prorate=prorate
    )
    session.add(assignment)
    session.flush()
    record_event(
        session,
        by,
        "plan.assign",
        "plan_assignment",
        assignment.id,
        {
            "plan": plan.name,
            "person": person.email,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
            "prorate": prorate,
        },
    )
    _queue_recompute(session, plan, person_ids={stored_id(person)}, starts_on=starts_on, ends_on=ends_on)
    return assignment


def _check_new_end(session: Session, plan: Plan, assignment: PlanAssignment, ends_on: date | None) -> None:
    """A new last day (None: open-ended) for ``assignment``: not before its start, overlapping no other."""
    if ends_on is not None and ends_on < assignment.starts_on:
        raise InputProblem(
            "ends_on",
            f"the assignment starts on {assignment.starts_on.isoformat()}: it cannot end "
            f"before that ({ends_on.isoformat()})",
        )
    clash = _overlapping(
        session,
        plan_id=stored_id(plan),
        person_id=assignment.person_id,
        starts_on=assignment.starts_on,
        ends_on=ends_on,
        exclude_id=assignment.id,
    )
    if clash is not None:
        raise Conflict("ends_on", f"that would overlap the assignment from {_describe(clash)}")


def end_assignment(
    session: Session, *, assignment: PlanAssignment, ends_on: date, by: Principal | None
) -> PlanAssignment:
    """End (or move the end of) an assignment; the last day is ``ends_on``, inclusive."""
    plan = _lock_plan(session, assignment.plan_id)
    _check_new_end(session, plan, assignment, ends_on)
    previous = assignment.ends_on
    assignment.ends_on = ends_on
    session.add(assignment)
    session.flush()
    person = session.get(Person, assignment.person_id)
    record_event(
        session,
        by,
        "plan.unassign",
        "plan_assignment",
        assignment.id,
        {
            "plan": plan.name,
            "person": person.email if person else None,
            "ends_on": ends_on.isoformat(),
            "previous_ends_on": previous.isoformat() if previous else None,
        },
    )
    changed_from = min(ends_on, previous) if previous else ends_on
    _queue_recompute(session, plan, person_ids={assignment.person_id}, starts_on=changed_from, ends_on=None)
    return assignment


def change_assignment(
    session: Session, *, assignment: PlanAssignment, ends_on: date | None, prorate: bool, by: Principal | None
) -> PlanAssignment:
    """Set an assignment's end (None: open-ended) and ``prorate``; the periods the change reaches are recomputed."""
    plan = _lock_plan(session, assignment.plan_id)
    _check_new_end(session, plan, assignment, ends_on)
    before = (assignment.ends_on, assignment.prorate)
    if before == (ends_on, prorate):
        return assignment
    assignment.ends_on, assignment.prorate = ends_on, prorate
    session.add(assignment)
    session.flush()
    person = session.get(Person, assignment.person_id)
    record_event(
        session,
        by,
        "plan.assignment.change",
        "plan_assignment",
        assignment.id,
        {
            "plan": plan.name,
            "person": person.email if person else None,
            "starts_on": assignment.starts_on.isoformat(),
            "ends_on": [before[0].isoformat() if before[0] else None, ends_on.isoformat() if ends_on else None],
            "prorate": [before[1], prorate],
        },
    )
    if before[1] != prorate:
        changed_from = assignment.starts_on  # the quota of every period it covers
    else:
        changed_from = min(day for day in (before[0], ends_on) if day is not None)
    _queue_recompute(session, plan, person_ids={assignment.person_id}, starts_on=changed_from, ends_on=None)
    return assignment


@dataclass(frozen=True, slots=True)
class AssignmentItem:
    """One item of ``PUT /api/v1/plans/{name}/assignments``, keyed by (person, starts_on)."""

    person: str
    starts_on: date
    ends_on: date | None
    prorate: bool


#: The service's field names as the API spells them.
_ITEM_FIELDS = {"starts_on": "from", "ends_on": "to", "email": "person"}


def upsert_assignments(
    session: Session, *, plan: Plan, items: Sequence[AssignmentItem], by: Principal | None
) -> UpsertReport:
    """Create or update the plan's assignments by (person, starts_on), all or nothing.

    An existing assignment of the person to this plan starting that day gets the item's end and
    ``prorate``; any other item is a new assignment. Assignments not in the list stay as they are.
    Every bad item (unknown person, end before start, the same key twice, an overlap with another
    assignment of the person to this plan) is reported (``UpsertRefused``) and nothing is written.
    Updates are applied before creations, so a list may end one assignment and start the next.
    """
    problems: list[ItemProblem] = []
    first_index: dict[tuple[str, date], int] = {}
    updates: list[tuple[int, str, AssignmentItem, PlanAssignment]] = []
    creations: list[tuple[int, AssignmentItem, Person]] = []
    for index, item in enumerate(items):
        person = person_by_email(session, item.person)
        if person is None:
            problems.append(ItemProblem(index, "person", f"no person with email {item.person.strip() or '(empty)'}"))
            continue
        natural = (person.email, item.starts_on)
        if natural in first_index:
            problems.append(
                ItemProblem(index, "from", f"{person.email} from {item.starts_on} is also item {first_index[natural]}")
            )
            continue
        first_index[natural] = index
        if item.ends_on is not None and item.ends_on < item.starts_on:
            problems.append(ItemProblem(index, "to", f"{item.ends_on} is before the start ({item.starts_on})"))
            continue
        existing = session.exec(
            select(PlanAssignment).where(
                PlanAssignment.plan_id == plan.id,
                PlanAssignment.person_id == person.id,
                PlanAssignment.starts_on == item.starts_on,
            )
        ).first()
        if existing is not None:
            updates.append((index, f"{person.email} {item.starts_on.isoformat()}", item, existing))
        else:
            creations.append((index, item, person))
    if problems:
        # the items that read well may still overlap another assignment: tried in a savepoint and rolled back,
        # so one answer names every bad item, not those of the first kind only
        with session.begin_nested() as trial:
            problems += _apply_assignments(session, plan, updates, creations, by)[1]
            trial.rollback()
        raise UpsertRefused(sorted(problems, key=lambda p: p.index))
    outcomes, problems = _apply_assignments(session, plan, updates, creations, by)
    if problems:
        raise UpsertRefused(problems)  # the caller's transaction rolls back what the other items did
    return UpsertReport.of(outcomes[index] for index in sorted(outcomes))


def _apply_assignments(
    session: Session,
    plan: Plan,
    updates: list[tuple[int, str, AssignmentItem, PlanAssignment]],
    creations: list[tuple[int, AssignmentItem, Person]],
    by: Principal | None,
) -> tuple[dict[int, tuple[str, Outcome]], list[ItemProblem]]:
    """Updates, then creations (a list may end one assignment and start the next): the outcomes, and the problems
    of the items the stored assignments refuse."""
    problems: list[ItemProblem] = []
    outcomes: dict[int, tuple[str, Outcome]] = {}
    for index, key, item, assignment in updates:
        if (assignment.ends_on, assignment.prorate) == (item.ends_on, item.prorate):
            outcomes[index] = (key, "unchanged")
            continue
        try:
            change_assignment(session, assignment=assignment, ends_on=item.ends_on, prorate=item.prorate, by=by)
            outcomes[index] = (key, "updated")
        except InputProblem as exc:
            problems.append(ItemProblem(index, _ITEM_FIELDS.get(exc.field, exc.field), exc.message))
    for index, item, person in creations:
        try:
            assign(
                session,
                plan=plan,
                person=person,
                starts_on=item.starts_on,
                ends_on=item.ends_on,
                prorate=item.prorate,
                by=by,
            )
            outcomes[index] = (f"{person.email} {item.starts_on.isoformat()}", "created")
        except InputProblem as exc:
            problems.append(ItemProblem(index, _ITEM_FIELDS.get(exc.field, exc.field), exc.message))
    return outcomes, problems


def _queue_recompute(
    session: Session, plan: Plan, *, person_ids: set[int] | None, starts_on: date, ends_on: date | None
) -> None:
    """Statements in open periods that the change reaches are recomputed by the worker (earlier periods keep
    the version they were computed with: a version only applies from its effective date)."""
    from commissions.calculation.state import open_period_keys, touch

    if person_ids is None:
        person_ids = set(session.exec(select(PlanAssignment.person_id).where(PlanAssignment.plan_id == plan.id)).all())
    # locked periods first: they come before the open ones, and every writer takes period locks in key order
    _book_locked_periods(session, plan, person_ids, starts_on, ends_on)
    touch(session, person_ids, open_period_keys(session, plan.period_kind, starts_on, ends_on))


def _book_locked_periods(
    session: Session, plan: Plan, person_ids: set[int], starts_on: date, ends_on: date | None
) -> None:
    """Locked periods the change reaches never change: the difference is a prior-period adjustment (docs/finance.md)."""
    from commissions.adjustments.prior_period import book_locked_change
    from commissions.core.periods import lock_period

    query = select(Period).where(
        Period.kind == plan.period_kind, col(Period.state).in_(CLOSED_STATES), Period.ends_on >= starts_on
    )
    if ends_on is not None:
        query = query.where(Period.starts_on <= ends_on)
    for period in sorted(session.exec(query).all(), key=lambda p: p.starts_on):
        lock_period(session, period.key)
        book_locked_change(
            session,
            period=period,
            people=set(person_ids),
            deal=None,
            what=f"plan assignment change ({plan.name})",
            actor=None,
            trigger=f"assignment to {plan.name}",
        )


def assignment_covering(session: Session, *, plan_id: int, person_id: int, day: date) -> PlanAssignment | None:
    """The person's assignment to the plan that includes ``day``, if any."""
    return session.exec(
        select(PlanAssignment).where(
            PlanAssignment.plan_id == plan_id,
            PlanAssignment.person_id == person_id,
            PlanAssignment.starts_on <= day,
            or_(col(PlanAssignment.ends_on).is_(None), col(PlanAssignment.ends_on) >= day),
        )
    ).first()


def plans_for_person(session: Session, person_id: int, period: HasDates) -> list[PlanInForce]:
    """The person's assignments that overlap the period, each with the version in force at its start.

    Plans with no version in force yet for that period (first version later) are left out.
    """
    rows = session.exec(
        select(PlanAssignment, Plan)
        .join(Plan, col(Plan.id) == PlanAssignment.plan_id)
        .where(
            PlanAssignment.person_id == person_id,
            PlanAssignment.starts_on <= period.ends_on,
            or_(col(PlanAssignment.ends_on).is_(None), col(PlanAssignment.ends_on) >= period.starts_on),
        )
        .order_by(Plan.name, col(PlanAssignment.starts_on))
    ).all()
    found = []
    for assignment, plan in rows:
        version = version_for_period(session, stored_id(plan), period.starts_on)
        if version is not None:
            found.append(PlanInForce(assignment=assignment, plan=plan, version=version))
    return found


# --- pages -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanSummary:
    plan: Plan
    latest: PlanVersion | None
    effective_dates: list[date]
    assigned_now: int
    assigned_later: int


def plan_summaries(session: Session, *, today: date | None = None) -> list[PlanSummary]:
    """Every plan with its latest version, its versions' effective dates and head counts (for /plans)."""
    today = today or date.today()
    plans = session.exec(select(Plan).order_by(Plan.name)).all()
    versions: dict[int, list[PlanVersion]] = {}
    for v in session.exec(
        select(PlanVersion).order_by(col(PlanVersion.effective_from), col(PlanVersion.version))
    ).all():
        versions.setdefault(v.plan_id, []).append(v)
    current = dict(
        session.exec(
            select(PlanAssignment.plan_id, func.count(func.distinct(PlanAssignment.person_id)))
            .where(
                PlanAssignment.starts_on <= today,
                or_(col(PlanAssignment.ends_on).is_(None), col(PlanAssignment.ends_on) >= today),
            )
            .group_by(col(PlanAssignment.plan_id))
        ).all()
    )
    later = dict(
        session.exec(
            select(PlanAssignment.plan_id, func.count(func.distinct(PlanAssignment.person_id)))
            .where(PlanAssignment.starts_on > today)
            .group_by(col(PlanAssignment.plan_id))
        ).all()
    )
    out = []
    for plan in plans:
        plan_id = stored_id(plan)
        mine = versions.get(plan_id, [])
        latest = max(mine, key=lambda v: v.version) if mine else None
        out.append(
            PlanSummary(plan, latest, [v.effective_from for v in mine], current.get(plan_id, 0), later.get(plan_id, 0))
        )
    return out


def assignments_of(session: Session, plan_id: int) -> list[tuple[PlanAssignment, Person]]:
    return list(
        session.exec(
            select(PlanAssignment, Person)
            .join(Person, col(Person.id) == PlanAssignment.person_id)
            .where(PlanAssignment.plan_id == plan_id)
            .order_by(Person.email, col(PlanAssignment.starts_on))
        ).all()
    )


# ---- the admin pages' writes, each in its own transaction -----------------------------------------


def save_version_from_form(
    engine: Engine,
    *,
    text: str,
    effective_from: date | None,
    by: Principal | None,
    plan_id: int | None,
    create_only: bool,
) -> tuple[int, str, int]:
    """``save_plan_version`` in a transaction of its own: (the plan's id, the outcome, the version's number)."""
    with transaction(engine) as session:
        saved = save_plan_version(
            session, text=text, effective_from=effective_from, by=by, plan_id=plan_id, create_only=create_only
        )
        return stored_id(saved.plan), saved.outcome, saved.version.version


def assign_by_email(
    engine: Engine,
    *,
    plan: Plan,
    email: str,
    starts_on: date,
    ends_on: date | None,
    prorate: bool,
    by: Principal | None,
) -> PlanAssignment:
    """``assign`` the person with this email, in a transaction of its own."""
    with transaction(engine) as session:
        person = person_by_email(session, email)
        if person is None:
            raise InputProblem("email", f"no person with email {email.strip().lower() or '(empty)'}")
        return assign(session, plan=plan, person=person, starts_on=starts_on, ends_on=ends_on, prorate=prorate, by=by)


def end_assignment_by_id(
    engine: Engine, *, plan_id: int, assignment_id: int, ends_on: date, by: Principal | None
) -> PlanAssignment | None:
    """``end_assignment`` in a transaction of its own; None if the plan has no such assignment."""
    with transaction(engine) as session:
        assignment = session.get(PlanAssignment, assignment_id)
        if assignment is None or assignment.plan_id != plan_id:
            return None
        return end_assignment(session, assignment=assignment, ends_on=ends_on, by=by)


def save_version_from_api(
    engine: Engine, *, name: str, text: str, effective_from: date | None, by: Principal | None
) -> SavedVersion:
    """``PUT /api/v1/plans/{name}``: ``save_plan_version`` of the plan ``name``, unchanged when the document
    is the same plan as the version in force on ``effective_from``, in a transaction of its own."""
    with transaction(engine) as session:
        return save_plan_version(
            session, text=text, effective_from=effective_from, by=by, name=name, unchanged_if="same_plan_in_force"
        )


def upsert_assignments_in(
    engine: Engine, *, name: str, items: Sequence[AssignmentItem], by: Principal | None
) -> UpsertReport | None:
    """``upsert_assignments`` to the plan ``name`` in a transaction of its own; None if there is no such plan."""
    with transaction(engine) as session:
        plan = plan_by_name(session, name)
        if plan is None:
            return None
        return upsert_assignments(session, plan=plan, items=items, by=by)
