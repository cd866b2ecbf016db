"""Admin pages for badge rules: the list with grant counts, a form to add a rule, an edit form per rule.

A rule's kind is fixed (the vocabulary of ``leaderboard.badges``); its name, description,
params and whether it is active are editable. A params change bumps ``version``; grants
keep the version they were earned under. Every change is audited.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import admins
from commissions.core.rendering import page
from commissions.models.base import utcnow
from leaderboard.badges import (
    PARAMS,
    STATE_KINDS,
    forget_evaluations,
    seed_default_rules,
    validate_params,
)
from leaderboard.models import BADGE_KINDS, BadgeGrant, BadgeRule

TEMPLATE = "pages/leaderboard/badges.html"
NAME_MAX, DESCRIPTION_MAX = 120, 500
KEY_PATTERN = re.compile(r"[a-z0-9_]{1,64}")


def _rules(db: Session) -> list[tuple[BadgeRule, int, int]]:
    """Each rule with its active and revoked grant counts (all periods)."""
    revoked = func.count(BadgeGrant.revoked_at)
    active = func.count(BadgeGrant.id) - revoked
    rows = db.exec(
        select(BadgeRule, active, revoked)
        .outerjoin(BadgeGrant, BadgeGrant.rule_id == BadgeRule.id)
        .group_by(BadgeRule.id)
        .order_by(BadgeRule.id)
    ).all()
    return [(rule, int(n or 0), int(r or 0)) for rule, n, r in rows]


def _form_of(rule: BadgeRule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "active": rule.active,
        **{p.name: str(rule.params.get(p.name, p.default)) for p in PARAMS[rule.kind]},
    }


def _edit(rule: BadgeRule, form: dict[str, Any], errors: dict[str, str], *, saved: bool = False) -> Template:
    return page(
        TEMPLATE,
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
        TEMPLATE,
        {
            "rules": _rules(db),
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
    def badges_page(self, request: Request, db: DbSession) -> Template:
        if not db.exec(select(BadgeRule.id).limit(1)).first():  # the defaults, the first time anyone looks
            with transaction(request.app.state["engine"]) as session:
                seed_default_rules(session)
            db.rollback()  # a fresh read: see the rules just stored
        return _listing(db, {"key": "", "name": "", "kind": BADGE_KINDS[0], "description": ""}, {})

    @post("/", sync_to_thread=True, status_code=200)
    def create(
        self,
        request: Request,
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
        elif db.exec(select(BadgeRule.id).where(BadgeRule.key == form["key"])).first():
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
        params, _ = validate_params(form["kind"], {})  # the kind's defaults
        try:
            with transaction(request.app.state["engine"]) as session:
                seed_default_rules(session)  # so adding a rule first does not suppress the defaults
                rule = BadgeRule(
                    key=form["key"],
                    name=form["name"],
                    kind=form["kind"],
                    description=form["description"],
                    params=params,
                )
                session.add(rule)
                session.flush()
                record_event(
                    session,
                    principal,
                    "badge_rule.created",
                    "badge_rule",
                    rule.id,
                    {"key": rule.key, "kind": rule.kind, "params": params},
                )
                rule_id = rule.id
        except IntegrityError:  # the same key added at the same moment
            return _listing(db, form, {"key": "already taken"})
        forget_evaluations()
        return Redirect(f"/admin/badges/{rule_id}?saved=1")

    @get("/{rule_id:int}", sync_to_thread=True)
    def edit_page(self, db: DbSession, rule_id: FromPath[int], saved: FromQuery[bool] = False) -> Template:
        rule = db.get(BadgeRule, rule_id)
        if rule is None:
            raise NotFoundException("No such badge rule.")
        return _edit(rule, _form_of(rule), {}, saved=saved)

    @post("/{rule_id:int}", sync_to_thread=True, status_code=200)
    def save(
        self,
        request: Request,
        db: DbSession,
        principal: CurrentPrincipal,
        rule_id: FromPath[int],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect:
        form = {k: (v[-1] if isinstance(v, list) else v) for k, v in data.items() if k != "_csrf_token"}
        form["active"] = form.get("active") in ("on", "true", "1")
        current = db.get(BadgeRule, rule_id)
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
        with transaction(request.app.state["engine"]) as session:
            rule = session.get(BadgeRule, rule_id)
            if rule is None:
                raise NotFoundException("No such badge rule.")
            before = {
                "name": rule.name,
                "description": rule.description,
                "params": rule.params,
                "active": rule.active,
                "version": rule.version,
            }
            if params != rule.params:
                rule.params = params
                rule.version += 1
            rule.name, rule.description, rule.active = name, description, bool(form["active"])
            after = {
                "name": rule.name,
                "description": rule.description,
                "params": rule.params,
                "active": rule.active,
                "version": rule.version,
            }
            if after != before:
                rule.updated_at = utcnow()
                record_event(
                    session, principal, "badge_rule.updated", "badge_rule", rule.id, {"before": before, "after": after}
                )
        forget_evaluations()  # the next leaderboard read applies the rule as it is now
        return Redirect(f"/admin/badges/{rule_id}?saved=1")
