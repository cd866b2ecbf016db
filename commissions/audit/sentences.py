"""The audit log in words: one sentence per kind of event ("Farah Finance locked period 2026-Q3").

Every action string written through ``core.audit.record_event`` (and the bulk inserts beside it) has
its sentence in ``SENTENCES``; ``tests/audit/test_audit_sentences.py`` reads the code for the actions
it writes and fails on one without a sentence. An action nobody taught a sentence still reads as words
(``describe``'s fallback). People, deals and teams are named, never numbered: ``references`` lists what a
page of events mentions, ``audit.queries.names_for`` looks them all up at once, and a sentence reads
the names from ``Names``. Where the object has a page an admin may open (a deal, a plan, a contest, a
sign-in provider), its name links there.

Sentences are HTML (``Markup``): the text goes through gettext, every value is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from markupsafe import Markup, escape

from commissions.core.formatting import COUNTED_METRICS, format_count, format_money
from commissions.core.i18n import SUPPORTED_LOCALES
from commissions.core.i18n import gettext as _
from commissions.core.money import to_minor


class EventLike(Protocol):
    actor_id: int | None
    actor_label: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]
    ip: str


@dataclass(frozen=True)
class References:
    """What a page of events mentions, to be looked up in one query per kind."""

    person_ids: frozenset[int] = frozenset()
    emails: frozenset[str] = frozenset()
    deals: frozenset[str] = frozenset()  # external ids
    team_ids: frozenset[int] = frozenset()


@dataclass(frozen=True)
class Names:
    people: Mapping[int, str] = field(default_factory=dict)  # person id -> name
    emails: Mapping[str, str] = field(default_factory=dict)  # email (lower case) -> name
    deals: Mapping[str, tuple[int, str]] = field(default_factory=dict)  # external id -> (id, name)
    teams: Mapping[int, str] = field(default_factory=dict)


#: Detail keys holding a person's email, and those holding a person's id.
EMAIL_KEYS = ("person", "email", "owner", "as")
PERSON_ID_KEYS = ("requested_by", "approved_by_id", "owner_id")


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def references(events: Iterable[EventLike]) -> References:
    people: set[int] = set()
    emails: set[str] = set()
    deals: set[str] = set()
    teams: set[int] = set()
    for e in events:
        detail = e.detail if isinstance(e.detail, dict) else {}
        if e.actor_id is not None:
            people.add(e.actor_id)
        if e.object_type == "person" and (pid := _int(e.object_id)) is not None:
            people.add(pid)
        if e.object_type == "team" and (tid := _int(e.object_id)) is not None:
            teams.add(tid)
        if e.object_type == "deal" and e.object_id:
            deals.add(e.object_id)
        if e.action == "period.prior_adjustment" and isinstance(detail.get("deal"), str):
            deals.add(detail["deal"])
        for key in EMAIL_KEYS:
            if isinstance(detail.get(key), str) and "@" in detail[key]:
                emails.add(detail[key].lower())
        for key in PERSON_ID_KEYS:
            if (pid := _int(detail.get(key))) is not None:
                people.add(pid)
        if e.action == "person.move":
            for side in ("before", "after"):
                placed = detail.get(side)
                if isinstance(placed, dict):
                    if (pid := _int(placed.get("manager_id"))) is not None:
                        people.add(pid)
                    if (tid := _int(placed.get("team_id"))) is not None:
                        teams.add(tid)
    return References(frozenset(people), frozenset(emails), frozenset(deals), frozenset(teams))


def fill(template: str, **values: object) -> Markup:
    """A translated sentence with its placeholders filled: the values escaped unless already Markup."""
    return Markup(escape(template)) % {k: v if isinstance(v, Markup) else escape(str(v)) for k, v in values.items()}


def _link(href: str, text: str) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


def _name(text: str, title: str = "") -> Markup:
    if title and title != text:
        return Markup('<span class="audit-name" title="{}">{}</span>').format(title, text)
    return Markup('<span class="audit-name">{}</span>').format(text)


def _plain(value: object) -> str:
    """A detail value as short text: lists joined, None as a dash."""
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list | tuple):
        return ", ".join(_plain(v) for v in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) or "–"
    return str(value)


class Sentence:
    """One event and the names of what it mentions: the helpers the sentences are written with."""

    def __init__(self, event: EventLike, names: Names) -> None:
        self.event, self.names = event, names
        self.d: dict[str, Any] = event.detail if isinstance(event.detail, dict) else {}

    def __call__(self, template: str, **values: object) -> Markup:
        return fill(template, actor=self.actor, **values)

    @property
    def actor(self) -> Markup:
        e = self.event
        if e.actor_id is not None and e.actor_id in self.names.people:
            return _name(self.names.people[e.actor_id], e.actor_label)
        if e.actor_id is None and e.actor_label in ("", "system"):
            return _name(_("The system"))
        return _name(e.actor_label)

    def person(self, ref: object) -> Markup:
        """A person named by id or email: their name (the email as a tooltip), else what was recorded."""
        if (pid := _int(ref)) is not None:
            name = self.names.people.get(pid)
            return _name(name) if name else _name(_("a person no longer on record"))
        if isinstance(ref, str) and ref:
            name = self.names.emails.get(ref.lower())
            return _name(name, ref) if name else _name(ref)
        return _name(_("someone"))

    @property
    def subject(self) -> Markup:
        """The person the event is about (its object)."""
        return self.person(self.event.object_id)

    def deal(self, external_id: object = None) -> Markup:
        ref = str(external_id if external_id is not None else self.event.object_id)
        found = self.names.deals.get(ref)
        if found is None:
            return _name(ref)
        deal_id, name = found
        return _link(f"/deals/{deal_id}", name or ref)

    def team(self, ref: object) -> Markup:
        if (tid := _int(ref)) is not None and tid in self.names.teams:
            return _name(self.names.teams[tid])
        return _name(_("no team")) if ref is None else _name(str(ref))

    def get(self, key: str) -> str:
        return _plain(self.d.get(key))

    @property
    def period(self) -> str:
        return str(self.d.get("period") or self.event.object_id or "–")

    def money(self, amount: object, currency: object) -> str:
        try:
            value = Decimal(str(amount))
            code = str(currency or "")
            return format_money(to_minor(value, code), code) if len(code) == 3 else f"{value}"
        except (InvalidOperation, ValueError, KeyError):
            return _plain(amount)

    def measure(self, value: object, unit: object, metric: object) -> str:
        """A quota as stored in the audit (plain text, its unit): money with separators, a count without zeros."""
        if value is None:
            return _("nothing")
        try:
            amount = Decimal(str(value))
        except InvalidOperation:
            return _plain(value)
        if unit == "count" or metric in COUNTED_METRICS:
            return format_count(int(amount * 100), COUNTED_METRICS.get(str(metric)))
        return self.money(amount, unit)

    def changes(self, changes: object) -> str:
        """``{field: {"before": b, "after": a}}`` or ``{field: [b, a]}`` as "field: b → a; ..."."""
        if not isinstance(changes, dict) or not changes:
            return _plain(changes)
        parts = []
        for key, value in changes.items():
            if isinstance(value, dict) and ("before" in value or "after" in value):
                parts.append(f"{key}: {_plain(value.get('before'))} → {_plain(value.get('after'))}")
            elif isinstance(value, list | tuple) and len(value) == 2:
                parts.append(f"{key}: {_plain(value[0])} → {_plain(value[1])}")
            else:
                parts.append(f"{key}: {_plain(value)}")
        return "; ".join(parts)


Say = Callable[[Sentence], Markup]
SENTENCES: dict[str, Say] = {}


def says(*actions: str) -> Callable[[Say], Say]:
    def register(function: Say) -> Say:
        for action in actions:
            SENTENCES[action] = function
        return function

    return register


def describe(event: EventLike, names: Names) -> Markup:
    """The event in one sentence (a readable fallback for an action without its own)."""
    s = Sentence(event, names)
    say = SENTENCES.get(event.action)
    if say is not None:
        try:
            return say(s)
        except (KeyError, TypeError, ValueError, AttributeError):
            pass  # an event written before its detail took this shape: the fallback still reads
    what = event.action.replace("_", " ").replace(".", ": ")
    if event.object_type == "person":
        return s(_("%(actor)s: %(what)s (%(person)s)"), what=what, person=s.subject)
    if event.object_type and event.object_id:
        kind = event.object_type.replace("_", " ")
        return s(_("%(actor)s: %(what)s (%(kind)s %(id)s)"), what=what, kind=kind, id=event.object_id)
    return s(_("%(actor)s: %(what)s"), what=what)


# --- sign-in and access -----------------------------------------------------------------------------------


@says("auth.sign_in")
def _sign_in(s: Sentence) -> Markup:
    if s.d.get("via") == "sso":
        return s(_("%(actor)s signed in through %(provider)s"), provider=s.get("provider"))
    return s(_("%(actor)s signed in"))


@says("auth.sign_out")
def _sign_out(s: Sentence) -> Markup:
    return s(_("%(actor)s signed out"))


@says("auth.sign_out_everywhere")
def _sign_out_everywhere(s: Sentence) -> Markup:
    if s.event.object_id and _int(s.event.object_id) != s.event.actor_id:
        return s(_("%(actor)s signed %(person)s out on every device"), person=s.subject)
    return s(_("%(actor)s signed out on every device"))


@says("auth.sign_in_failed")
def _sign_in_failed(s: Sentence) -> Markup:
    return s(_("A sign-in as %(email)s failed: wrong email or password"), email=s.get("email"))


@says("auth.sign_in_throttled")
def _throttled(s: Sentence) -> Markup:
    if s.d.get("email"):
        return s(_("Too many attempts: a sign-in as %(email)s was refused"), email=s.get("email"))
    return s(_("Too many attempts: a sign-in from %(ip)s was refused"), ip=s.event.ip or "–")


@says("auth.locked_out")
def _locked_out(s: Sentence) -> Markup:
    if s.d.get("email"):
        return s(_("Sign-in as %(email)s locked after repeated failures"), email=s.get("email"))
    return s(_("Sign-in from %(ip)s locked after repeated failures"), ip=s.event.ip or "–")


@says("auth.password_change_failed")
def _password_change_failed(s: Sentence) -> Markup:
    return s(_("%(actor)s tried to change their password but gave a wrong current password"))


@says("auth.forbidden")
def _forbidden(s: Sentence) -> Markup:
    return s(_("%(actor)s was refused %(route)s: %(reason)s"), route=s.event.object_id, reason=s.get("reason"))


@says("auth.sso_failed")
def _sso_failed(s: Sentence) -> Markup:
    return s(
        _("A sign-in through %(provider)s was refused: %(reason)s"), provider=s.get("provider"), reason=s.get("reason")
    )


# --- people, teams and tokens --------------------------------------------------------------------------------


@says("person.create")
def _person_create(s: Sentence) -> Markup:
    return s(_("%(actor)s added %(person)s as %(role)s"), person=s.subject, role=s.get("role"))


@says("person.password")
def _person_password(s: Sentence) -> Markup:
    if s.event.actor_id is not None and _int(s.event.object_id) == s.event.actor_id:
        return s(_("%(actor)s changed their password"))
    return s(_("%(actor)s set a new password for %(person)s"), person=s.subject)


@says("person.password_reset_link")
def _reset_link(s: Sentence) -> Markup:
    return s(
        _("%(actor)s made a password reset link for %(person)s, valid until %(until)s"),
        person=s.subject,
        until=s.get("expires_at").replace("T", " "),
    )


@says("person.activate")
def _activate(s: Sentence) -> Markup:
    return s(_("%(actor)s reactivated %(person)s"), person=s.subject)


@says("person.deactivate")
def _deactivate(s: Sentence) -> Markup:
    return s(_("%(actor)s deactivated %(person)s"), person=s.subject)


@says("person.locale_changed")
def _locale_changed(s: Sentence) -> Markup:
    chosen = s.d.get("to")
    language = SUPPORTED_LOCALES.get(str(chosen), str(chosen))
    if str(s.event.actor_id) != str(s.event.object_id):  # an admin chose it for them (the people page)
        if not chosen:
            return s(_("%(actor)s set the language of %(person)s to their browser's choice"), person=s.subject)
        return s(_("%(actor)s set the language of %(person)s to %(language)s"), person=s.subject, language=language)
    if not chosen:
        return s(_("%(actor)s set their language to the browser's choice"))
    return s(_("%(actor)s set their language to %(language)s"), language=language)


@says("person.payment_currency")
def _payment_currency(s: Sentence) -> Markup:
    if not s.d.get("after"):
        return s(_("%(actor)s set %(person)s to be paid in their plan's currency"), person=s.subject)
    return s(_("%(actor)s set %(person)s to be paid in %(currency)s"), person=s.subject, currency=s.get("after"))


def _placement(s: Sentence, placed: object) -> Markup:
    if not isinstance(placed, dict):
        return _name("–")
    manager = placed.get("manager_id")
    team = s.team(placed.get("team_id"))
    if manager is None:
        return fill(_("%(team)s, reporting to nobody"), team=team)
    return fill(_("%(team)s, reporting to %(manager)s"), team=team, manager=s.person(manager))


@says("person.move")
def _move(s: Sentence) -> Markup:
    return s(
        _("%(actor)s moved %(person)s from %(before)s to %(after)s"),
        person=s.subject,
        before=_placement(s, s.d.get("before")),
        after=_placement(s, s.d.get("after")),
    )


@says("person.update")
def _person_update(s: Sentence) -> Markup:
    return s(_("%(actor)s changed %(person)s: %(changes)s"), person=s.subject, changes=s.changes(s.d))


@says("team.create")
def _team_create(s: Sentence) -> Markup:
    return s(_("%(actor)s created the team %(team)s"), team=s.get("name"))


@says("team.update")
def _team_update(s: Sentence) -> Markup:
    return s(
        _("%(actor)s changed the team %(team)s: %(changes)s"), team=s.team(s.event.object_id), changes=s.changes(s.d)
    )


@says("team.deprovision", "team.delete")  # delete: an empty team deleted on its admin page
def _team_deprovision(s: Sentence) -> Markup:
    return s(_("%(actor)s removed the team %(team)s"), team=s.get("name"))


@says("token.create")
def _token_create(s: Sentence) -> Markup:
    if s.d.get("as"):
        return s(
            _("%(actor)s created the API token %(name)s acting as %(person)s"),
            name=s.get("name"),
            person=s.person(s.d.get("as")),
        )
    return s(
        _("%(actor)s created the API token %(name)s with the role %(role)s"), name=s.get("name"), role=s.get("role")
    )


@says("token.revoke")
def _token_revoke(s: Sentence) -> Markup:
    return s(_("%(actor)s revoked the API token %(name)s"), name=s.get("name"))


# --- deals ----------------------------------------------------------------------------------------------------


@says("deal.created")
def _deal_created(s: Sentence) -> Markup:
    amount = s.money(s.d.get("amount"), s.d.get("currency"))
    return s(_("%(actor)s recorded the deal %(deal)s (%(amount)s)"), deal=s.deal(), amount=amount)


@says("deal.updated")
def _deal_updated(s: Sentence) -> Markup:
    amount = s.money(s.d.get("amount"), s.d.get("currency"))
    if s.d.get("status") == "cancelled":
        return s(_("%(actor)s cancelled the deal %(deal)s (%(amount)s)"), deal=s.deal(), amount=amount)
    return s(_("%(actor)s updated the deal %(deal)s (now %(amount)s)"), deal=s.deal(), amount=amount)


@says("deal.approval_requested")
def _deal_approval_requested(s: Sentence) -> Markup:
    return s(_("%(actor)s asked for approval of a change to the deal %(deal)s"), deal=s.deal())


@says("deal.approved")
def _deal_approved(s: Sentence) -> Markup:
    return s(
        _("%(actor)s approved the change %(person)s asked for on the deal %(deal)s"),
        person=s.person(s.d.get("requested_by")),
        deal=s.deal(),
    )


@says("deal.rejected")
def _deal_rejected(s: Sentence) -> Markup:
    return s(
        _("%(actor)s rejected the change %(person)s asked for on the deal %(deal)s"),
        person=s.person(s.d.get("requested_by")),
        deal=s.deal(),
    )


# --- periods --------------------------------------------------------------------------------------------------


@says("period.approved")
def _approved(s: Sentence) -> Markup:
    return s(_("%(actor)s approved period %(period)s"), period=s.period)


@says("period.locked")
def _locked(s: Sentence) -> Markup:
    return s(_("%(actor)s locked period %(period)s"), period=s.period)


@says("period.paid")
def _paid(s: Sentence) -> Markup:
    return s(_("%(actor)s marked period %(period)s as paid"), period=s.period)


@says("period.lock_overridden")
def _lock_overridden(s: Sentence) -> Markup:
    return s(
        _("%(actor)s locked period %(period)s with items still open on its close checklist (%(items)s): %(reason)s"),
        period=s.period,
        items=s.get("open_items"),
        reason=s.get("reason"),
    )


@says("period.reopened")
def _reopened(s: Sentence) -> Markup:
    return s(_("Period %(period)s is open again: %(reason)s"), period=s.period, reason=s.get("reason"))


@says("period.prior_adjustment_skipped")
def _prior_adjustment_skipped(s: Sentence) -> Markup:
    count = len(s.d.get("people") or [])
    if s.d.get("deal"):
        return s(
            _(
                "The deal %(deal)s changed locked period %(period)s, but %(count)s people's statements there could not be recomputed: nothing booked for them"
            ),
            deal=s.deal(s.d.get("deal")),
            period=s.period,
            count=count,
        )
    return s(
        _(
            "A change to locked period %(period)s (%(change)s) could not be recomputed for %(count)s people: nothing booked for them"
        ),
        period=s.period,
        change=s.get("change"),
        count=count,
    )


@says("period.prior_adjustment")
def _prior_adjustment(s: Sentence) -> Markup:
    if s.d.get("deal"):
        return s(
            _("The deal %(deal)s changed pay in locked period %(period)s: booked as an adjustment in %(into)s"),
            deal=s.deal(s.d.get("deal")),
            period=s.period,
            into=s.get("into"),
        )
    return s(
        _("A change to locked period %(period)s was booked as an adjustment in %(into)s (%(change)s)"),
        period=s.period,
        into=s.get("into"),
        change=s.get("change"),
    )


@says("period.checked")
def _checked(s: Sentence) -> Markup:
    return s(
        _("%(actor)s checked the statements of %(period)s against a fresh calculation: %(state)s"),
        period=s.period,
        state=s.get("state"),
    )


# --- money: rates, adjustments, holds, payments, quotas -------------------------------------------------------


@says("rate.set")
def _rate(s: Sentence) -> Markup:
    if s.d.get("before") is None:
        return s(
            _("%(actor)s set the exchange rate %(pair)s to %(after)s from %(day)s"),
            pair=s.event.object_id,
            after=s.get("after"),
            day=s.get("effective_from"),
        )
    return s(
        _("%(actor)s changed the exchange rate %(pair)s from %(before)s to %(after)s from %(day)s"),
        pair=s.event.object_id,
        before=s.get("before"),
        after=s.get("after"),
        day=s.get("effective_from"),
    )


@says("adjustment.created")
def _adjustment(s: Sentence) -> Markup:
    return s(
        _("%(actor)s added an adjustment of %(amount)s to the statement of %(person)s for %(period)s: %(reason)s"),
        amount=s.money(s.d.get("amount"), s.d.get("currency")),
        person=s.person(s.d.get("person")),
        period=s.period,
        reason=s.get("reason"),
    )


@says("adjustment.reversed")
def _reversed(s: Sentence) -> Markup:
    return s(_("%(actor)s reversed adjustment %(id)s: %(reason)s"), id=s.event.object_id, reason=s.get("reason"))


@says("hold.created")
def _hold(s: Sentence) -> Markup:
    if s.d.get("deal"):
        return s(
            _("%(actor)s held the pay from the deal %(deal)s in %(period)s: %(reason)s"),
            deal=s.deal(s.d.get("deal")),
            period=s.period,
            reason=s.get("reason"),
        )
    return s(
        _("%(actor)s held the pay of %(person)s in %(period)s: %(reason)s"),
        person=s.person(s.d.get("person")),
        period=s.period,
        reason=s.get("reason"),
    )


@says("hold.released")
def _release(s: Sentence) -> Markup:
    return s(
        _("%(actor)s released a hold on %(period)s, payable in %(payable)s: %(note)s"),
        period=s.period,
        payable=s.get("payable_in"),
        note=s.get("note"),
    )


@says("payment.recorded")
def _payment(s: Sentence) -> Markup:
    payments = s.d.get("payments") or []
    invoices = ", ".join(str(p.get("invoice")) for p in payments if isinstance(p, dict)) or s.event.object_id
    return s(_("%(actor)s recorded payments of the invoices %(invoices)s"), invoices=invoices)


def _quota_of(s: Sentence) -> Markup:
    if s.d.get("team"):
        return fill(_("the team %(team)s"), team=_name(str(s.d["team"])))
    return s.person(s.d.get("person"))


@says("quota.set")
def _quota_set(s: Sentence) -> Markup:
    unit, metric = s.d.get("unit"), s.d.get("metric")
    new = s.measure(s.d.get("new"), unit, metric)
    if s.d.get("old") is None:
        return s(
            _("%(actor)s set the %(metric)s quota of %(who)s for %(period)s to %(new)s"),
            metric=str(metric or "").replace("_", " "),
            who=_quota_of(s),
            period=s.period,
            new=new,
        )
    return s(
        _("%(actor)s changed the %(metric)s quota of %(who)s for %(period)s from %(old)s to %(new)s"),
        metric=str(metric or "").replace("_", " "),
        who=_quota_of(s),
        period=s.period,
        old=s.measure(s.d.get("old"), unit, metric),
        new=new,
    )


@says("quota.delete")
def _quota_delete(s: Sentence) -> Markup:
    return s(
        _("%(actor)s removed the %(metric)s quota of %(who)s for %(period)s (it was %(old)s)"),
        metric=str(s.d.get("metric") or "").replace("_", " "),
        who=_quota_of(s),
        period=s.period,
        old=s.measure(s.d.get("old"), s.d.get("unit"), s.d.get("metric")),
    )


@says("accounting.settings_changed")
def _accounting(s: Sentence) -> Markup:
    before, after = s.d.get("before") or {}, s.d.get("after") or {}
    changed = {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
    return s(
        _("%(actor)s changed the accounting settings: %(changes)s"), changes=s.changes(changed) if changed else "–"
    )


# --- plans, campaigns, custom fields -----------------------------------------------------------------------------


def _plan(s: Sentence) -> Markup:
    if s.event.object_type == "plan" and _int(s.event.object_id) is not None:
        return _link(f"/plans/{s.event.object_id}", s.get("plan"))
    return _name(s.get("plan"))


@says("plan.version")
def _plan_version(s: Sentence) -> Markup:
    if s.d.get("plan_created"):
        return s(
            _("%(actor)s created the plan %(plan)s, in force from %(day)s"), plan=_plan(s), day=s.get("effective_from")
        )
    return s(
        _("%(actor)s published version %(version)s of the plan %(plan)s, in force from %(day)s"),
        version=s.get("version"),
        plan=_plan(s),
        day=s.get("effective_from"),
    )


@says("plan.assign")
def _plan_assign(s: Sentence) -> Markup:
    if s.d.get("ends_on"):
        return s(
            _("%(actor)s put %(person)s on the plan %(plan)s from %(start)s to %(end)s"),
            person=s.person(s.d.get("person")),
            plan=_plan(s),
            start=s.get("starts_on"),
            end=s.get("ends_on"),
        )
    return s(
        _("%(actor)s put %(person)s on the plan %(plan)s from %(start)s"),
        person=s.person(s.d.get("person")),
        plan=_plan(s),
        start=s.get("starts_on"),
    )


@says("plan.unassign")
def _plan_unassign(s: Sentence) -> Markup:
    return s(
        _("%(actor)s ended %(person)s's time on the plan %(plan)s on %(end)s"),
        person=s.person(s.d.get("person")),
        plan=_plan(s),
        end=s.get("ends_on"),
    )


@says("plan.assignment.change")
def _plan_assignment_change(s: Sentence) -> Markup:
    changes = {k: s.d[k] for k in ("ends_on", "prorate") if isinstance(s.d.get(k), list) and s.d[k][0] != s.d[k][1]}
    return s(
        _("%(actor)s changed %(person)s's time on the plan %(plan)s: %(changes)s"),
        person=s.person(s.d.get("person")),
        plan=_plan(s),
        changes=s.changes(changes) if changes else "–",
    )


@says("campaign.create")
def _campaign_create(s: Sentence) -> Markup:
    return s(
        _("%(actor)s created the campaign %(code)s (%(name)s), owned by %(owner)s"),
        code=s.get("code"),
        name=s.get("name"),
        owner=s.person(s.d.get("owner_id")),
    )


@says("campaign.update")
def _campaign_update(s: Sentence) -> Markup:
    return s(
        _("%(actor)s changed the campaign %(code)s: %(changes)s"),
        code=s.get("code"),
        changes=s.changes(s.d.get("changes")),
    )


@says("custom_field.declare")
def _custom_field(s: Sentence) -> Markup:
    return s(_("%(actor)s declared the custom deal field %(name)s (%(type)s)"), name=s.get("name"), type=s.get("type"))


@says("lead_event.created")
def _lead_created(s: Sentence) -> Markup:
    return s(
        _("%(actor)s recorded the %(stage)s stage of the lead %(lead)s on %(day)s"),
        stage=s.get("stage"),
        lead=s.event.object_id,
        day=s.get("occurred_at"),
    )


@says("lead_event.updated")
def _lead_updated(s: Sentence) -> Markup:
    return s(
        _("%(actor)s updated the %(stage)s stage of the lead %(lead)s (%(day)s)"),
        stage=s.get("stage"),
        lead=s.event.object_id,
        day=s.get("occurred_at"),
    )


# --- questions, pulses ------------------------------------------------------------------------------------------


@says("dispute.open")
def _dispute_open(s: Sentence) -> Markup:
    return s(
        _("%(actor)s asked a question about a line of %(period)s (question %(id)s)"),
        period=s.period,
        id=s.event.object_id,
    )


@says("dispute.answer")
def _dispute_answer(s: Sentence) -> Markup:
    return s(_("%(actor)s answered question %(id)s"), id=s.event.object_id)


@says("dispute.reply")
def _dispute_reply(s: Sentence) -> Markup:
    return s(_("%(actor)s replied to question %(id)s"), id=s.event.object_id)


@says("dispute.resolve")
def _dispute_resolve(s: Sentence) -> Markup:
    if s.d.get("adjustment") is not None:
        return s(_("%(actor)s resolved question %(id)s with an adjustment"), id=s.event.object_id)
    return s(_("%(actor)s resolved question %(id)s"), id=s.event.object_id)


@says("pulse.open")
def _pulse_open(s: Sentence) -> Markup:
    return s(_("%(actor)s opened a team pulse"))


@says("pulse.close")
def _pulse_close(s: Sentence) -> Markup:
    return s(_("%(actor)s closed a team pulse"))


# --- integrations ---------------------------------------------------------------------------------------------


@says("webhook.create")
def _webhook_create(s: Sentence) -> Markup:
    return s(_("%(actor)s created the CRM webhook %(name)s (%(format)s)"), name=s.get("name"), format=s.get("format"))


@says("webhook.revoke")
def _webhook_revoke(s: Sentence) -> Markup:
    return s(_("%(actor)s revoked the CRM webhook %(name)s"), name=s.get("name"))


@says("webhook.refused")
def _webhook_refused(s: Sentence) -> Markup:
    return s(
        _("A delivery to the CRM webhook %(name)s was refused: %(reason)s"),
        name=s.event.object_id,
        reason=s.get("reason"),
    )


@says("webhook.junk_throttled")
def _webhook_junk(s: Sentence) -> Markup:
    return s(
        _("After %(count)s bad deliveries, %(ip)s is refused unchecked at the CRM webhook %(name)s"),
        count=s.get("refusals"),
        ip=s.event.ip or "–",
        name=s.event.object_id,
    )


@says("subscription.create")
def _subscription_create(s: Sentence) -> Markup:
    return s(_("%(actor)s subscribed %(url)s to %(events)s"), url=s.get("url"), events=s.get("events"))


@says("subscription.deactivate")
def _subscription_deactivate(s: Sentence) -> Markup:
    return s(_("%(actor)s turned off the outbound webhook %(url)s"), url=s.get("url"))


@says("subscription.replay")
def _subscription_replay(s: Sentence) -> Markup:
    return s(_("%(actor)s sent delivery %(id)s again"), id=s.event.object_id)


@says("chat_channel.create")
def _chat_create(s: Sentence) -> Markup:
    return s(_("%(actor)s connected the chat channel %(name)s (%(kind)s)"), name=s.get("name"), kind=s.get("kind"))


@says("chat_channel.test")
def _chat_test(s: Sentence) -> Markup:
    return s(_("%(actor)s sent a test message to %(name)s: %(outcome)s"), name=s.get("name"), outcome=s.get("outcome"))


def _provider(s: Sentence) -> Markup:
    if _int(s.event.object_id) is not None:
        return _link(f"/admin/sso/{s.event.object_id}", s.get("slug"))
    return _name(s.get("slug"))


@says("sso.provider_add")
def _sso_add(s: Sentence) -> Markup:
    return s(_("%(actor)s added the sign-in provider %(provider)s"), provider=_provider(s))


@says("sso.provider_update")
def _sso_update(s: Sentence) -> Markup:
    return s(
        _("%(actor)s changed the sign-in provider %(provider)s: %(fields)s"),
        provider=_provider(s),
        fields=s.get("changed"),
    )


@says("sso.provider_enable")
def _sso_enable(s: Sentence) -> Markup:
    return s(_("%(actor)s turned on the sign-in provider %(provider)s"), provider=_provider(s))


@says("sso.provider_disable")
def _sso_disable(s: Sentence) -> Markup:
    return s(_("%(actor)s turned off the sign-in provider %(provider)s"), provider=_provider(s))


@says("sso.password_sign_in")
def _sso_password(s: Sentence) -> Markup:
    if s.d.get("enabled"):
        return s(_("%(actor)s allowed signing in with a password"))
    return s(_("%(actor)s turned off signing in with a password (single sign-on only)"))


@says("sso.person_created")
def _sso_person(s: Sentence) -> Markup:
    return s(
        _("%(person)s was added as %(role)s at their first sign-in through %(provider)s"),
        person=s.subject,
        role=s.get("role"),
        provider=s.get("provider"),
    )


# --- the leaderboard -------------------------------------------------------------------------------------------


def _contest(s: Sentence, name: object) -> Markup:
    text = _plain(name) if name else f"#{s.event.object_id}"  # its name is the leaderboard's (not imported here)
    if _int(s.event.object_id) is not None:
        return _link(f"/leaderboard/contests/{s.event.object_id}", text)  # the leaderboard's contest page
    return _name(text)


@says("contest.create")
def _contest_create(s: Sentence) -> Markup:
    return s(_("%(actor)s created the contest %(contest)s"), contest=_contest(s, s.d.get("name")))


@says("contest.update")
def _contest_update(s: Sentence) -> Markup:
    return s(
        _("%(actor)s changed the contest %(contest)s: %(changes)s"),
        contest=_contest(s, None),
        changes=s.changes(s.d.get("changes")),
    )


@says("contest.cancel")
def _contest_cancel(s: Sentence) -> Markup:
    return s(_("%(actor)s cancelled the contest %(contest)s"), contest=_contest(s, s.d.get("name")))


@says("contest.results")
def _contest_results(s: Sentence) -> Markup:
    winners = s.d.get("winners") or []
    if not winners:
        return s(_("The contest %(contest)s ended without a winner"), contest=_contest(s, None))
    return s(
        _("The contest %(contest)s ended: %(winners)s won"),
        contest=_contest(s, None),
        winners=", ".join(str(w) for w in winners),
    )


@says("badge_rule.created")
def _badge_created(s: Sentence) -> Markup:
    return s(_("%(actor)s created the badge rule %(key)s (%(kind)s)"), key=s.get("key"), kind=s.get("kind"))


@says("badge_rule.updated")
def _badge_updated(s: Sentence) -> Markup:
    before, after = s.d.get("before") or {}, s.d.get("after") or {}
    key = after.get("key") or before.get("key") or s.event.object_id
    changed = {k: [before.get(k), after.get(k)] for k in after if before.get(k) != after.get(k)}
    return s(
        _("%(actor)s changed the badge rule %(key)s: %(changes)s"),
        key=key,
        changes=s.changes(changed) if changed else "–",
    )
