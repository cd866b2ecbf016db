"""Recording deals: the one service behind the API, CSV import and the deal form.

``DealWriter.write`` is idempotent on ``external_id``: the same body again changes
nothing, a changed body updates the deal, a cancellation is a status change.
It returns who and which periods the change touches, so the caller recomputes
exactly those statements and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import delete
from sqlmodel import Session, col, select

from commissions.calculation.loader import people_directory, periods_touching
from commissions.calculation.rows import id_col, stored_id, table_of
from commissions.core import outbox
from commissions.core.audit import log_on_commit, record_event
from commissions.core.db import among, insert_rows
from commissions.core.errors import InputProblem
from commissions.core.money import MoneyError, from_minor, to_minor
from commissions.core.periods import CLOSED_STATES, check_period_in_window
from commissions.core.principal import Principal
from commissions.deals.currency import PlansSeeingDeals
from commissions.deals.rules import Change, DealForbidden, decide
from commissions.deals.schemas import DealIn, DealOut
from commissions.models import AuditEvent, Campaign, Deal, DealApproval, DealRevision, DealSplit, Period, Person
from commissions.models.base import utcnow
from commissions.people.queries import people_by_email, person_by_email
from commissions.people.service import visible_person_ids

if TYPE_CHECKING:
    from commissions.adjustments.prior_period import Booked
    from commissions.calculation.service import RecomputeReport


class DealError(InputProblem):
    pass


@dataclass
class RecordResult:
    deal: Deal | None  # None for a deal created in bulk mode (inserted by DealWriter.finish)
    outcome: str  # created | updated | unchanged | held (waiting for approval: ``deal`` is the deal as it still is)
    people: set[int] = field(default_factory=set)  # credited before or after the change: recomputed at once
    chain: set[int] = field(default_factory=set)  # their managers, up the tree: recomputed by the queue worker
    days: set[date] = field(default_factory=set)  # closing dates before and after the change
    reports: list[RecomputeReport] = field(
        default_factory=list
    )  # RecomputeReports of the statements recomputed with it
    locked: bool = False  # it touches a locked or paid period: booked as prior-period adjustments
    booked: list[Booked] = field(default_factory=list)  # those adjustments (adjustments.prior_period.Booked)
    approval: DealApproval | None = None  # the held change (outcome "held")

    def stored_deal(self) -> Deal:
        """``deal``, for a result that has one (every result but a bulk-mode creation)."""
        if self.deal is None:
            raise RuntimeError("the deal was created in bulk mode: DealWriter.finish inserts it")
        return self.deal


def body_hash(data: DealIn, dumped: dict[str, Any] | None = None) -> str:
    """The digest of a delivery's body (``dumped``: its ``model_dump(mode="json")`` when the caller has it)."""
    canonical = json.dumps(
        dumped if dumped is not None else data.model_dump(mode="json"), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class DealWriter:
    """Records deals inside one transaction, caching what it looks up.

    One delivery looks up only what it needs; a CSV import calls ``preload`` once
    so a file of thousands of rows costs a handful of queries, not thousands.
    """

    def __init__(
        self,
        session: Session,
        by: Principal | None,
        *,
        bulk: bool = False,
        approved_for: int | None = None,
        defer_new: bool = False,
    ) -> None:
        self.session = session
        self.by = by
        self.bulk = bulk
        # A batch of deliveries: new deals without splits are inserted together by ``finish()`` (the
        # result carries the deal as it will be stored); a repeat of one of them inserts them first.
        self.defer_new = defer_new
        self.approved_for = approved_for  # applying a held change of this person, approved by ``by``
        self._pending: list[tuple[dict[str, Any], list[tuple[int, int]], dict[str, Any]]] = []
        self._people: dict[str, Person | None] = {}
        self._deals: dict[str, Deal | _Pending | None] = {}
        self._campaign_owner: dict[str, int | None] = {}
        self._manager_of: dict[int, int | None] | None = None
        self._chains: dict[int, int | None] = {}  # manager of each person met, read with their chain (one query)
        self._visible: set[int] | bool | None = False  # False: not loaded yet
        self._plans = PlansSeeingDeals(session, whole_periods=bulk)
        # Set once ``write`` starts writing (every check passed): a refusal raised before it left nothing
        # behind, so a batch can go on without that deal (deals/service.py) and needs no savepoint.
        self.writing = False
        self._outbox: list[tuple[dict[str, Any], dict[str, Any] | None]] = []  # deal.recorded events, for finish()
        self._wanted: dict[str, bool] = {}  # outbox.wanted per event type, asked once per transaction

    def preload(self, emails: set[str], external_ids: set[str], days: set[date] | None = None) -> None:
        """Read at once the people, deals and manager tree a batch needs; with ``days``, also who of
        them (and everyone above them) is on which plan in the periods of those days."""
        session = self.session
        self._people.update(people_by_email(session, emails))
        self._people.update({e: None for e in emails if e not in self._people})
        for chunk in _chunks(sorted(external_ids)):
            for deal in session.exec(select(Deal).where(among(session, col(Deal.external_id), chunk))).all():
                self._deals[deal.external_id] = deal
        self._deals.update({x: None for x in external_ids if x not in self._deals})
        self._campaign_owner.update(dict(session.exec(select(col(Campaign.code), col(Campaign.owner_id))).all()))
        self._manager_of = people_directory(session).manager_of()
        if days:
            met = {stored_id(p) for p in self._people.values() if p is not None} | {
                owner for owner in self._campaign_owner.values() if owner is not None
            }
            self._plans.preload(periods_touching(session, days), met | self.managers_of(met))

    # -- cached look-ups -------------------------------------------------
    def person(self, email: str) -> Person | None:
        if email not in self._people:
            self._people[email] = person_by_email(self.session, email)
        return self._people[email]

    def existing(self, external_id: str) -> Deal | _Pending | None:
        if external_id not in self._deals:
            self._deals[external_id] = self.session.exec(select(Deal).where(Deal.external_id == external_id)).first()
        return self._deals[external_id]

    def campaign_owner(self, code: str | None) -> int | None:
        if not code:
            return None
        if code not in self._campaign_owner:
            self._campaign_owner[code] = self.session.exec(
                select(Campaign.owner_id).where(Campaign.code == code)
            ).first()
        return self._campaign_owner[code]

    def managers_of(self, person_ids: set[int]) -> set[int]:
        """Everyone above the given people in the reporting tree (their overrides and team credit move too)."""
        found: set[int] = set()
        for pid in person_ids:
            current = self._manager(pid)
            while current is not None and current not in found:
                found.add(current)
                current = self._manager(current)
        return found

    def _manager(self, person_id: int) -> int | None:
        if self._manager_of is not None:
            return self._manager_of.get(person_id)
        if person_id in self._chains:
            return self._chains[person_id]
        person = self.session.get(Person, person_id)
        return person.manager_id if person else None

    def _read_chains(self, person_ids: set[int]) -> None:
        """The given people and everyone above them with their managers (the process's directory of people,
        ``calculation.loader.people_directory``: no query while nobody changed a person)."""
        missing = person_ids - self._chains.keys()
        if self._manager_of is not None or not missing:
            return
        directory = people_directory(self.session)
        self._chains.update((pid, directory.rows[pid][2]) for pid in directory.with_managers(missing))

    def credited_ids(self, deal: Deal) -> set[int]:
        ids = {deal.owner_id}
        ids |= set(self.session.exec(select(DealSplit.person_id).where(DealSplit.deal_id == deal.id)).all())
        return ids

    def _own_deal(self, deal: Deal) -> bool:
        """Whether the caller is a rep who owns ``deal`` (a rep's own deals are theirs to see, whoever recorded them)."""
        by = self.by
        return by is not None and by.role == "rep" and by.person_id is not None and deal.owner_id == by.person_id

    def decide(self, owner_id: int, involved: set[int], existing: Deal | None, source_campaign: str | None) -> str:
        """Who may change pay (deals/rules.py): "record", "hold", or DealForbidden."""
        if self.approved_for is not None:  # an approved held change: decided when it was submitted
            return "record"
        by = self.by
        if by is None or by.role not in ("rep", "manager"):
            return decide(by, Change(owner_id=owner_id, credited=frozenset(involved)), None)
        if by.role == "manager" and self._visible is False:
            self._visible = visible_person_ids(self.session, by)
        sourced = {self.campaign_owner(source_campaign)}
        change = Change(owner_id=owner_id, credited=frozenset(involved))
        if existing is not None:
            sourced.add(self.campaign_owner(existing.source_campaign))
            change = Change(
                owner_id=owner_id,
                credited=frozenset(involved),
                before_owner_id=existing.owner_id,
                before_credited=frozenset(self.credited_ids(existing)),
                recorded_by=self.recorders(existing.external_id) if by.role == "rep" else frozenset(),
            )
        change = replace(change, sourced=frozenset(p for p in sourced if p is not None))
        return decide(by, change, self._visible if isinstance(self._visible, set) else None)

    def recorders(self, external_id: str) -> frozenset[int | None]:
        """Who wrote the deal's versions (its audit events; an approved change counts as its requester's)."""
        rows = self.session.exec(
            select(AuditEvent.actor_id, AuditEvent.detail).where(
                AuditEvent.object_type == "deal",
                AuditEvent.object_id == external_id,
                col(AuditEvent.action).in_(("deal.created", "deal.updated")),
            )
        ).all()
        # no event at all: a loader or a bulk path wrote it, not the rep, so it is not theirs to rewrite
        return frozenset((detail or {}).get("requested_by", actor) for actor, detail in rows) or frozenset({None})

    def keep_revision(self, deal: Deal, period: Period) -> None:
        """The deal as it stands, kept before a change replaces it: it closed in ``period``, locked or paid,
        whose pay never changes (api.md: deals of a locked period are never edited in place)."""
        self.session.add(
            DealRevision(
                deal_id=stored_id(deal),
                period_key=period.key,
                period_state=period.state,
                deal=deal_out(self.session, deal).model_dump(mode="json"),
                replaced_by=self.by.label if self.by else "system",
            )
        )

    def hold(self, data: DealIn, existing: Deal | None) -> RecordResult:
        """Keep the change in ``deal_approval`` (it pays nobody) until a manager or finance approves it."""
        by = self.by
        if self.bulk or by is None or by.person_id is None:
            raise DealForbidden("a change that credits other people needs approval: record it through the form or API")
        session = self.session
        row = session.exec(
            select(DealApproval).where(DealApproval.external_id == data.external_id, DealApproval.state == "pending")
        ).first()
        if row is not None and row.requested_by_id != by.person_id:
            raise DealForbidden("a change of this deal by someone else is already waiting for approval")
        self.writing = True
        row = row or DealApproval(external_id=data.external_id, requested_by_id=by.person_id)
        row.body = data.model_dump(mode="json")
        row.base_hash = existing.body_hash if existing is not None else ""
        row.created_at = utcnow()
        session.add(row)
        session.flush()
        record_event(
            session,
            by,
            "deal.approval_requested",
            "deal",
            data.external_id,
            {
                "amount": str(data.amount),
                "currency": data.currency,
                "status": data.status,
                "owner": data.owner,
                "splits": [{"person": s.person, "share": str(s.share)} for s in data.splits],
            },
        )
        return RecordResult(existing, "held", approval=row)

    def check_currency(self, data: DealIn, credited: list[int]) -> None:
        """Refuse a deal in another currency than a plan seeing it pays in when no exchange rate converts it
        on its close date (deals/currency.py): the plans of the people it credits and of everyone above them."""
        if not self._plans.any_plan():
            return
        campaign_owner = self.campaign_owner(data.source_campaign)
        order = [*credited, *([campaign_owner] if campaign_owner is not None else [])]
        self._read_chains(set(order))
        for pid in list(order):
            current = self._manager(pid)
            while current is not None and current not in order:
                order.append(current)
                current = self._manager(current)
        refusal = self._plans.refusal(data.currency, data.closed_at, order)
        if refusal is None:
            return
        whose = self._email(refusal.person_id)
        if refusal.person_id == campaign_owner and refusal.person_id not in credited:
            whose += f", owner of campaign {data.source_campaign}"
        elif refusal.person_id not in credited:  # a manager: their team credit and overrides read the deal
            below = next(pid for pid in order if refusal.person_id in self.managers_of({pid}))
            whose += f", above {self._email(below)}"
        raise DealError("currency", f"{refusal.missing_rate} (plan '{refusal.plan}' of {whose})")

    def check_window(self, day: date) -> None:
        """A deal may not create a period outside the window (periods/keys.py): its statements are
        computed after the commit, so the refusal comes here, before anything is written."""
        known = self.session.info.get(_KNOWN_PERIODS_KEY)
        if known is None:
            known = self.session.info[_KNOWN_PERIODS_KEY] = {period.key for period in _periods(self.session)}
        for key in sorted(periods_touching(self.session, {day}) - known):
            check_period_in_window(key, field="closed_at")
            known.add(key)  # in the window: checked once per transaction

    def _email(self, person_id: int) -> str:
        person = self.session.get(Person, person_id)
        return person.email if person else f"person {person_id}"

    # -- the write -------------------------------------------------------
    def write(self, data: DealIn) -> RecordResult:
        emails = [data.owner, *(s.person for s in data.splits)]
        people: dict[str, Person] = {}
        for email in emails:
            person = self.person(email)
            if person is None:
                raise DealError("owner" if email == data.owner else "splits", f"no person with email {email}")
            people[email] = person
        try:
            amount_minor = to_minor(data.amount, data.currency)
        except MoneyError as exc:
            raise DealError("amount", str(exc)) from exc
        involved = {stored_id(p) for p in people.values()}
        existing = self.existing(data.external_id)
        if existing is _PENDING and self.defer_new:  # the same deal again in one batch: after the first
            self.finish()
            existing = self.existing(data.external_id)
        if existing is _PENDING:
            raise DealError("external_id", f"{data.external_id} appears twice")
        dumped = data.model_dump(mode="json")
        # the amount as the currency writes it: 1000, "1000" and "1000.00" USD are one body (the same deal again,
        # not an update), and what is announced reads "1000.00"
        dumped["amount"] = str(from_minor(amount_minor, data.currency))
        digest = body_hash(data, dumped)
        if existing is not None and existing.body_hash == digest and self._own_deal(existing):
            # api.md: the same body again returns the same deal with 200, also to a rep whose deal someone else
            # recorded (they may not change it, but sending what is stored changes nothing)
            return RecordResult(existing, "unchanged")
        decision = self.decide(stored_id(people[data.owner]), involved, existing, data.source_campaign)
        if existing is not None and existing.body_hash == digest:
            return RecordResult(existing, "unchanged")
        self.check_window(data.closed_at)
        if data.status == "won":  # a cancellation credits nobody: it is how a deal the plans cannot pay is withdrawn
            self.check_currency(data, [stored_id(p) for p in people.values()])
        if decision == "hold":
            return self.hold(data, existing)

        self.writing = True  # every check is behind: from here on only the database can fail
        session = self.session
        touched_people: set[int] = set()
        touched_days: set[date] = {data.closed_at}
        if existing is not None:
            previously = self.credited_ids(existing)
            touched_people |= previously
            if (owner := self.campaign_owner(existing.source_campaign)) is not None:
                touched_people.add(owner)
            touched_days.add(existing.closed_at)
            if (kept_in := closed_period_state(session, existing.closed_at)) is not None:
                self.keep_revision(existing, kept_in)
            deal = existing
            session.execute(  # "fetch": the identity map is not scanned per statement (evaluate made a
                # 20,000-row re-import quadratic: every row scanned every object the import had loaded)
                delete(DealSplit)
                .where(col(DealSplit.deal_id) == deal.id)
                .execution_options(synchronize_session="fetch")
            )
            outcome = "updated"
        else:
            deal = None
            outcome = "created"
        # A change touching a locked period is stored at once (never held back in bulk mode): the
        # caller books its prior-period adjustment deal by deal, so each line names its deal.
        locked = any(closed_period_state(session, day) is not None for day in touched_days)

        values = {
            "external_id": data.external_id,
            "name": data.name or data.external_id,
            "account": data.account,
            "owner_id": people[data.owner].id,
            "amount_minor": amount_minor,
            "currency": data.currency,
            "closed_at": data.closed_at,
            "type": data.type,
            "product": data.product,
            "term_months": data.term_months,
            "source_campaign": data.source_campaign,
            "status": data.status,
            "cancelled_at": data.cancelled_at,
            "custom_fields": dumped["custom_fields"],
            "body_hash": digest,
            "updated_at": utcnow(),
        }
        splits = [(stored_id(people[split.person]), int(split.share * 100)) for split in data.splits]
        audit: dict[str, Any] = {"amount": str(data.amount), "currency": data.currency, "status": data.status}
        if self.approved_for is not None:
            audit["requested_by"] = self.approved_for
            audit["approved_by"] = self.by.label if self.by else "system"
        if deal is None and not locked and (self.bulk or (self.defer_new and not splits)):
            # A file of new deals: rows are inserted together by ``finish()``, not one ORM object each.
            self._pending.append((values, splits, audit))
            self._deals[data.external_id] = _PENDING
            if self.defer_new:
                deal = Deal(**values)  # as it will be stored (not added to the session: ``finish`` inserts it)
        else:
            if deal is None:
                deal = Deal(**values)
            else:
                for key, value in values.items():
                    setattr(deal, key, value)
            session.add(deal)
            session.flush()
            self._deals[deal.external_id] = deal
            for person_id, share_bp in splits:
                session.add(DealSplit(deal_id=stored_id(deal), person_id=person_id, share_bp=share_bp))
            record_event(session, self.by, f"deal.{outcome}", "deal", deal.external_id, audit)

        self._announce(dumped, values["name"], outcome)
        touched_people |= involved
        if (owner := self.campaign_owner(data.source_campaign)) is not None:
            touched_people.add(owner)
        chain = self.managers_of(touched_people) - touched_people
        return RecordResult(deal, outcome, people=touched_people, chain=chain, days=touched_days, locked=locked)

    def _announce(self, dumped: dict[str, Any], name: str, outcome: str) -> None:
        """``deal.recorded`` in the outbox, in this transaction (nothing when no subscription wants it); a batch's
        events are written together by ``finish()``. A deal's amount is not pay: it goes to every receiver."""
        if self._wants("deal.recorded"):
            event = ({**dumped, "name": name, "outcome": outcome}, None)
            if self.bulk or self.defer_new:
                self._outbox.append(event)
            else:
                outbox.record_events(self.session, "deal.recorded", [event])
        if dumped["status"] == "won" and self._wants("deal.credited"):
            # per person credited: the split's people and shares, or the owner alone (a cancellation credits nobody)
            shares = [(s["person"], s["share"]) for s in dumped["splits"]] or [(dumped["owner"], "100")]
            outbox.record_events(
                self.session,
                "deal.credited",
                [
                    (
                        {
                            "external_id": dumped["external_id"],
                            "name": name,
                            "person": person,
                            "share": str(share),
                            "amount": dumped["amount"],
                            "currency": dumped["currency"],
                            "closed_at": dumped["closed_at"],
                            "outcome": outcome,
                        },
                        None,
                    )
                    for person, share in shares
                ],
            )

    def _wants(self, type: str) -> bool:
        """Whether some active subscription wants ``type`` (read once by this writer: an import asked it twice per
        row, 40,000 times for 20,000 deals)."""
        wanted = self._wanted.get(type)
        if wanted is None:
            wanted = self._wanted[type] = outbox.wanted(self.session, type)
        return wanted

    def holds(self, external_id: str) -> bool:
        """Whether ``write`` held back this new deal (``finish`` inserts it)."""
        return self._deals.get(external_id) is _PENDING

    def forget(self, external_id: str) -> None:
        """Look the deal up again next time (another writer of the transaction has just stored it)."""
        self._deals.pop(external_id, None)

    def finish(self) -> None:
        """Insert the deals ``write`` held back in bulk mode, with their splits and audit events."""
        if self._outbox:
            outbox.record_events(self.session, "deal.recorded", self._outbox)
            self._outbox = []
        if not self._pending:
            return
        session = self.session
        now = utcnow()
        connection = session.connection()
        rows = [{**values, "created_at": now} for values, _, _ in self._pending]
        ids: dict[str, int] = {}
        if len(rows) <= RETURNING_LIMIT:  # a round of deliveries: the new ids come back with the insert
            table = table_of(Deal)
            ids.update(connection.execute(table.insert().returning(table.c.external_id, table.c.id), rows).all())
        else:  # an import: the rows (by COPY on PostgreSQL), then the ids (RETURNING made it twice as slow)
            insert_rows(connection, table_of(Deal), rows)
            for chunk in _chunks([values["external_id"] for values, _, _ in self._pending]):
                ids.update(
                    session.exec(
                        select(Deal.external_id, id_col(Deal.id)).where(among(session, col(Deal.external_id), chunk))
                    ).all()
                )
        split_rows = [
            {"deal_id": ids[values["external_id"]], "person_id": pid, "share_bp": bp}
            for values, splits, _ in self._pending
            for pid, bp in splits
        ]
        if split_rows:
            insert_rows(connection, table_of(DealSplit), split_rows)
        actor_id, label = (self.by.person_id, self.by.label[:254]) if self.by else (None, "system")
        events = [
            {
                "at": now,
                "actor_id": actor_id,
                "actor_label": label,
                "action": "deal.created",
                "object_type": "deal",
                "object_id": values["external_id"],
                "detail": audit,
                "ip": "",
            }
            for values, _, audit in self._pending
        ]
        insert_rows(connection, table_of(AuditEvent), events)
        if self.defer_new:  # deliveries are logged like any audited change (an import is one event of its own)
            log_on_commit(session, [AuditEvent(**event) for event in events])
        for values, _, _ in self._pending:  # stored now: a later look-up reads them
            self._deals.pop(values["external_id"], None)
        self._pending.clear()


class _Pending(Enum):
    PENDING = "pending"


_PENDING: Final = _Pending.PENDING  # marks an external id written in this bulk batch but not inserted yet


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


_LOCKED_CACHE_KEY = "quotaboard.locked_periods"
_KNOWN_PERIODS_KEY = "quotaboard.known_periods"
RETURNING_LIMIT = 200  # new deals inserted with RETURNING (SQLAlchemy's insertmanyvalues) up to this many
_PERIODS_KEY = "quotaboard.periods"


def closed_periods(session: Session) -> list[Period]:
    """The locked and paid periods (looked up once per transaction)."""
    locked: list[Period] | None = session.info.get(_LOCKED_CACHE_KEY)
    if locked is None:
        locked = [period for period in _periods(session) if period.state in CLOSED_STATES]
        session.info[_LOCKED_CACHE_KEY] = locked
    return locked


def _periods(session: Session) -> list[Period]:
    """Every period row (a few dozen: the window), read once per transaction for the periods known and those
    closed (``check_window``, ``closed_periods``): one query for both."""
    rows: list[Period] | None = session.info.get(_PERIODS_KEY)
    if rows is None:
        rows = session.info[_PERIODS_KEY] = list(session.exec(select(Period)).all())
    return rows


def closed_period_state(session: Session, day: date) -> Period | None:
    """The locked (or paid) period containing ``day``, if any (looked up once per transaction)."""
    return next((p for p in closed_periods(session) if p.starts_on <= day <= p.ends_on), None)


def deal_out(session: Session, deal: Deal, *, unsplit: bool = False) -> DealOut:
    """The deal as stored. ``unsplit``: the caller has just written it without splits (nothing to read)."""
    owner = session.get(Person, deal.owner_id)
    splits = (
        []
        if unsplit
        else session.exec(
            select(Person.email, DealSplit.share_bp)
            .join(Person, col(Person.id) == DealSplit.person_id)
            .where(DealSplit.deal_id == deal.id)
            .order_by(Person.email)
        ).all()
    )
    return DealOut(
        external_id=deal.external_id,
        name=deal.name,
        account=deal.account,
        owner=owner.email if owner else "",
        amount=str(from_minor(deal.amount_minor, deal.currency)),
        currency=deal.currency,
        closed_at=deal.closed_at,
        type=deal.type,
        product=deal.product,
        term_months=deal.term_months,
        source_campaign=deal.source_campaign,
        status=deal.status,
        cancelled_at=deal.cancelled_at,
        splits=[{"person": email, "share": str(Decimal(bp) / 100)} for email, bp in splits],
        custom_fields=deal.custom_fields,
    )
