"""The leaderboard's pages: the board (its page, the table every open board refetches, the live stream), TV mode,
the admin pages for badge rules and the contest pages. Their JSON API: ``leaderboard.api``.

Each handler parses, calls the leaderboard's queries (``leaderboard.queries``, ``leaderboard.contests``) or one write
(``leaderboard.service``), and renders.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

import anyio
from litestar import Controller, Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Response, ServerSentEvent, Template
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from commissions.calculation.rows import stored_id
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.errors import InputProblem
from commissions.core.guards import admins, any_role, managers
from commissions.core.principal import Principal
from commissions.core.rendering import page, page_or_partial
from commissions.models.base import utcnow
from leaderboard import stream
from leaderboard.badges import PARAMS, STATE_KINDS, validate_params
from leaderboard.boards import (
    DEFAULT_ROTATE,
    DEFAULT_TOP,
    BoardChoice,
    cached_table,
    page_context,
    period_of,
    table_response,
    tv_panel_context,
)
from leaderboard.contests.editing import ContestInput
from leaderboard.contests.results import visible_contest_recorded, visible_contests_recorded
from leaderboard.contests.rules import (
    METRIC_LABELS,
    MODE_LABELS,
    SCOPE_LABELS,
    STATE_LABELS,
    can_create,
    can_edit,
    contest_team_ids,
    countdown_words,
    editable_contest,
    ends_at,
    is_locked,
    starts_at,
    state,
    time_left,
)
from leaderboard.contests.standings import standings, value_text
from leaderboard.models import BADGE_KINDS, BadgeRule, Contest
from leaderboard.queries import (
    badge_key_taken,
    badge_rule,
    badge_rules_with_counts,
    contest_winners,
    default_contest_teams,
    has_badge_rules,
    team_choices,
    team_names,
)
from leaderboard.ranking import DEFAULT_METRIC
from leaderboard.service import (
    add_contest,
    call_off_contest,
    change_contest,
    create_badge_rule,
    save_badge_rule,
    seed_badge_rules,
)

# --- the board ----------------------------------------------------------------------------------------------------


class LeaderboardController(Controller):
    guards = [any_role]
    tags = ["leaderboard"]

    @get("/leaderboard", include_in_schema=False)
    async def leaderboard_page(
        self,
        request: Request[Any, Any, Any],
        principal: CurrentPrincipal,
        period: FromQuery[str | None] = None,
        view: FromQuery[str | None] = None,
        metric: FromQuery[str] = DEFAULT_METRIC,
        team: FromQuery[str | None] = None,
        around_me: FromQuery[bool] = False,
        everyone: FromQuery[bool] = False,
    ) -> Response[bytes] | Template:
        if view is None and team:
            view = "team"  # else None: one's own board, a marketer's is the marketing view (boards.own_view)
        choice = BoardChoice(period_of(period), view, metric, team, around_me, everyone)
        if getattr(request, "htmx", False):  # the table alone: what every open board refetches after each deal
            return table_response(request, await cached_table(request, principal, choice))
        context = await anyio.to_thread.run_sync(page_context, request, principal, choice)
        return page("pages/leaderboard/index.html", context)

    @get("/leaderboard/stream", include_in_schema=False)
    async def leaderboard_stream(
        self, request: Request[Any, Any, Any], channels: NamedDependency[ChannelsPlugin]
    ) -> ServerSentEvent:
        return ServerSentEvent(
            stream.events(request, channels), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )


# --- TV mode (leaderboard.boards.tv_panel_context) ----------------------------------------------------------------


class LeaderboardTvController(Controller):
    guards = [any_role]
    tags = ["leaderboard"]

    @get("/leaderboard/tv", include_in_schema=False, sync_to_thread=True)
    def tv_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        rotate: FromQuery[int] = DEFAULT_ROTATE,
        top: FromQuery[int] = DEFAULT_TOP,
        period: FromQuery[str | None] = None,
    ) -> Template:
        context = tv_panel_context(
            request.app.state["engine"], db, principal, index=0, rotate=rotate, top=top, period=period
        )
        return page("pages/leaderboard/tv.html", context)

    @get("/leaderboard/tv/panel", include_in_schema=False, sync_to_thread=True)
    def tv_panel(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        index: FromQuery[int] = 0,
        rotate: FromQuery[int] = DEFAULT_ROTATE,
        top: FromQuery[int] = DEFAULT_TOP,
        period: FromQuery[str | None] = None,
    ) -> Template:
        context = tv_panel_context(
            request.app.state["engine"], db, principal, index=index, rotate=rotate, top=top, period=period
        )
        return page("pages/leaderboard/tv.html", {**context, "panel_only": True})


# --- badge rules (admins) -----------------------------------------------------------------------------------------
# The list with grant counts, a form to add a rule, an edit form per rule. A rule's kind is fixed (the vocabulary of
# ``leaderboard.badges``); its name, description, params and whether it is active are editable. A params change bumps
# ``version``; grants keep the version they were earned under. Every change is audited.

BADGES_TEMPLATE = "pages/leaderboard/badges.html"
NAME_MAX, DESCRIPTION_MAX = 120, 500
KEY_PATTERN = re.compile(r"[a-z0-9_]{1,64}")


def _form_of(rule: BadgeRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "active": rule.active,
        **{p.name: str(rule.params.get(p.name, p.default)) for p in PARAMS[rule.kind]},
    }


def _edit(rule: BadgeRule, form: dict[str, Any], errors: dict[str, str], *, saved: bool = False) -> Template:
    return page(
        BADGES_TEMPLATE,
        {
            "rules": None,
            "rule": rule,
            "params": PARAMS[rule.kind],
            "form": form,
            "errors": errors,
            "saved": saved,
            "state_kinds": STATE_KINDS,
        },
        status_code=400 if errors else 200,
    )


def _listing(db: Session, form: dict[str, Any], errors: dict[str, str]) -> Template:
    return page(
        BADGES_TEMPLATE,
        {
            "rules": badge_rules_with_counts(db),
            "rule": None,
            "state_kinds": STATE_KINDS,
            "kinds": BADGE_KINDS,
            "form": form,
            "errors": errors,
        },
        status_code=400 if errors else 200,
    )


class BadgesController(Controller):
    path = "/admin/badges"
    guards = [admins]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def badges_page(self, request: Request[Any, Any, Any], db: DbSession) -> Template:
        if not has_badge_rules(db):  # the defaults, the first time anyone looks
            seed_badge_rules(request.app.state["engine"])
            db.rollback()  # a fresh read: see the rules just stored
        return _listing(db, {"key": "", "name": "", "kind": BADGE_KINDS[0], "description": ""}, {})

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        """A new rule of one kind, with that kind's default params; its params are then edited like any rule's."""
        form = {
            k: str(data.get(k, "") if not isinstance(data.get(k), list) else data[k][-1]).strip()
            for k in ("key", "name", "kind", "description")
        }
        errors: dict[str, str] = {}
        if not KEY_PATTERN.fullmatch(form["key"]):
            errors["key"] = "lower-case letters, digits and _ (at most 64)"
        elif badge_key_taken(db, form["key"]):
            errors["key"] = "already taken"
        if not form["name"]:
            errors["name"] = "a name is needed"
        elif len(form["name"]) > NAME_MAX:
            errors["name"] = f"at most {NAME_MAX} characters"
        if len(form["description"]) > DESCRIPTION_MAX:
            errors["description"] = f"at most {DESCRIPTION_MAX} characters"
        if form["kind"] not in BADGE_KINDS:
            errors["kind"] = f"one of {', '.join(BADGE_KINDS)}"
        if errors:
            return _listing(db, form, errors)
        try:
            rule_id = create_badge_rule(
                request.app.state["engine"],
                principal,
                key=form["key"],
                name=form["name"],
                kind=form["kind"],
                description=form["description"],
            )
        except IntegrityError:  # the same key added at the same moment
            return _listing(db, form, {"key": "already taken"})
        return Redirect(f"/admin/badges/{rule_id}?saved=1")

    @get("/{rule_id:int}", sync_to_thread=True)
    def edit_page(self, db: DbSession, rule_id: FromPath[int], saved: FromQuery[bool] = False) -> Template:
        rule = badge_rule(db, rule_id)
        if rule is None:
            raise NotFoundException("No such badge rule.")
        return _edit(rule, _form_of(rule), {}, saved=saved)

    @post("/{rule_id:int}", sync_to_thread=True, status_code=200)
    def save(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        rule_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        form = {k: (v[-1] if isinstance(v, list) else v) for k, v in data.items() if k != "_csrf_token"}
        form["active"] = form.get("active") in ("on", "true", "1")
        current = badge_rule(db, rule_id)
        if current is None:
            raise NotFoundException("No such badge rule.")
        errors: dict[str, str] = {}
        name = str(form.get("name", "")).strip()
        description = str(form.get("description", "")).strip()
        if not name:
            errors["name"] = "a name is needed"
        elif len(name) > NAME_MAX:
            errors["name"] = f"at most {NAME_MAX} characters"
        if len(description) > DESCRIPTION_MAX:
            errors["description"] = f"at most {DESCRIPTION_MAX} characters"
        params, param_errors = validate_params(current.kind, form)
        errors.update(param_errors)
        if errors:  # nothing stored; the form comes back as typed, each error beside its field
            return _edit(current, form, errors)
        engine = request.app.state["engine"]
        active = bool(form["active"])
        if not save_badge_rule(
            engine, principal, rule_id, name=name, description=description, params=params, active=active
        ):
            raise NotFoundException("No such badge rule.")
        return Redirect(f"/admin/badges/{rule_id}?saved=1")


# --- contests -----------------------------------------------------------------------------------------------------
# The list, a contest's board, the create and edit forms, cancel. Everyone signed in reads the contests they take part
# in and the company-wide ones; admins and managers create and edit (a manager only for their own teams).

CONTESTS = "/leaderboard/contests"
LABELS = {"metrics": METRIC_LABELS, "modes": MODE_LABELS, "scopes": SCOPE_LABELS, "states": STATE_LABELS}


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return bool(getattr(request, "htmx", False))


def _form_context(
    db: Session,
    principal: Principal,
    form: ContestInput,
    error: dict[str, str] | None,
    *,
    contest: Contest | None,
    now: datetime,
) -> dict[str, Any]:
    return {
        "contest": contest,
        "form": form,
        "error": error,
        "teams": team_choices(db, principal),
        "locked": contest is not None and is_locked(contest, now),
        "state": state(contest, now) if contest else None,
        **LABELS,
    }


def _form_answer(request: Request[Any, Any, Any], context: dict[str, Any], status_code: int) -> Template:
    if _is_htmx(request):  # htmx 2 swaps only 2xx: the form comes back with its error
        return page("partials/leaderboard/contests/form.html", context)
    return page("pages/leaderboard/contests/form.html", context, status_code=status_code)


def _error(exc: InputProblem) -> dict[str, str]:
    return {"field": exc.field, "message": exc.message}


def _done(request: Request[Any, Any, Any], url: str) -> Redirect | ClientRedirect:
    return ClientRedirect(url) if _is_htmx(request) else Redirect(url, status_code=303)


class ContestsController(Controller):
    path = CONTESTS
    guards = [any_role]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def list_page(self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal) -> Template:
        now = utcnow()
        contests = visible_contests_recorded(request.app.state["engine"], db, principal, now=now)
        winners = contest_winners(db, [stored_id(c) for c in contests if state(c, now) == "final"])
        groups: dict[str, list[Contest]] = {"running": [], "scheduled": [], "final": [], "cancelled": []}
        for contest in contests:  # an ended contest whose results another process is storing shows as ended
            current = state(contest, now)
            groups["final" if current == "ended" else current].append(contest)
        groups["scheduled"].sort(key=lambda c: (c.starts_on, c.id))
        return page(
            "pages/leaderboard/contests/list.html",
            {
                "groups": groups,
                "winners": winners,
                "now": now,
                "time_left": time_left,
                "countdown_words": countdown_words,
                "can_create": can_create(principal),
                "starts_at": starts_at,
                "ends_at": ends_at,
                "value_text": value_text,
                **LABELS,
            },
        )

    @get("/{contest_id:int}", sync_to_thread=True)
    def board_page(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]
    ) -> Template:
        now = utcnow()
        contest = visible_contest_recorded(request.app.state["engine"], db, principal, contest_id, now=now)
        if contest is None:
            raise NotFoundException("No such contest.")
        result = standings(db, contest, now=now, viewer=principal)
        context = {
            "s": result,
            "contest": contest,
            "now": now,
            "time_left": time_left(contest, now),
            "countdown_words": countdown_words,
            "starts_at": starts_at(contest),
            "ends_at": ends_at(contest),
            "can_edit": can_edit(db, principal, contest),
            "team_names": team_names(db, result.team_ids),
            **LABELS,
        }
        return page_or_partial(
            request, "pages/leaderboard/contests/board.html", "partials/leaderboard/contests/board.html", context
        )

    @get("/new", sync_to_thread=True, guards=[managers])
    def new_page(self, db: DbSession, principal: CurrentPrincipal) -> Template:
        now = utcnow()
        form = ContestInput(  # the first submit with the defaults works (after a name): see default_contest_teams
            start=now.date().isoformat(),
            end=now.date().isoformat(),
            scope="teams" if principal.role == "manager" else "everyone",
            teams=[str(t) for t in default_contest_teams(db, principal)],
        )
        return page(
            "pages/leaderboard/contests/form.html", _form_context(db, principal, form, None, contest=None, now=now)
        )

    @post("/", sync_to_thread=True, status_code=200, guards=[managers])
    def create(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect | ClientRedirect:
        now = utcnow()
        form = ContestInput.from_form(data)
        try:
            contest_id = add_contest(request.app.state["engine"], principal, form, now=now)
        except InputProblem as exc:
            return _form_answer(
                request, _form_context(db, principal, form, _error(exc), contest=None, now=now), exc.status_code
            )
        return _done(request, f"{CONTESTS}/{contest_id}")

    @get("/{contest_id:int}/edit", sync_to_thread=True, guards=[managers])
    def edit_page(self, db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]) -> Template:
        now = utcnow()
        contest = editable_contest(db, principal, contest_id)
        if contest is None:
            raise NotFoundException("No such contest.")
        form = ContestInput.from_contest(contest, contest_team_ids(db, stored_id(contest)))
        return page(
            "pages/leaderboard/contests/form.html", _form_context(db, principal, form, None, contest=contest, now=now)
        )

    @post("/{contest_id:int}", sync_to_thread=True, status_code=200, guards=[managers])
    def update(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        contest_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect | ClientRedirect:
        now = utcnow()
        contest = editable_contest(db, principal, contest_id)
        if contest is None:
            raise NotFoundException("No such contest.")
        # a locked form sends only name and description: the other fields keep their stored values
        # (an open form sends every field; no ticked team there means none)
        stored = ContestInput.from_contest(contest, contest_team_ids(db, stored_id(contest)))
        form = ContestInput.from_form(data, defaults=stored if is_locked(contest, now) else None)
        try:
            found = change_contest(request.app.state["engine"], principal, contest_id, form, now=now)
        except InputProblem as exc:
            return _form_answer(
                request, _form_context(db, principal, form, _error(exc), contest=contest, now=now), exc.status_code
            )
        if not found:
            raise NotFoundException("No such contest.")
        return _done(request, f"{CONTESTS}/{contest_id}")

    @post("/{contest_id:int}/cancel", sync_to_thread=True, status_code=200, guards=[managers])
    def cancel(
        self, request: Request[Any, Any, Any], db: DbSession, principal: CurrentPrincipal, contest_id: FromPath[int]
    ) -> Template | Redirect | ClientRedirect:
        now = utcnow()
        contest = editable_contest(db, principal, contest_id)
        if contest is None:
            raise NotFoundException("No such contest.")
        try:
            found = call_off_contest(request.app.state["engine"], principal, contest_id, now=now)
        except InputProblem as exc:
            form = ContestInput.from_contest(contest, contest_team_ids(db, stored_id(contest)))
            return _form_answer(
                request, _form_context(db, principal, form, _error(exc), contest=contest, now=now), exc.status_code
            )
        if not found:
            raise NotFoundException("No such contest.")
        return _done(request, CONTESTS)
