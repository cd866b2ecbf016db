"""The exchange rates page (finance, admins): the rates, search by currency, add or correct one, CSV import,
a pair's history. Works without JavaScript; htmx gets the table or the form alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.plugins.htmx import ClientRedirect
from litestar.response import Redirect, Template
from pydantic import BaseModel
from sqlmodel import Session

from commissions.core.dependencies import CurrentPrincipal, DbSession
from commissions.core.guards import finance_or_admin
from commissions.core.i18n import gettext as _
from commissions.core.i18n import ngettext
from commissions.core.rendering import page, page_or_partial
from commissions.core.upserts import UpsertRefused
from commissions.rates.csv import MAX_BYTES, TEMPLATE, LineProblem, RatesFileProblem, read_rates_csv
from commissions.rates.queries import pair_history, rates_for_page
from commissions.rates.service import CURRENCY, RateInput, RatesSet, set_rates_in

PATH = "/finance/rates"
OUTCOMES = ("created", "updated", "unchanged")


class RateForm(BaseModel):
    source: str = ""
    target: str = ""
    rate: str = ""
    effective_from: str = ""


@dataclass
class UploadForm:
    file: UploadFile | None = None


def _code(value: str | None) -> str:
    code = (value or "").strip().upper()
    return code if CURRENCY.fullmatch(code) else ""


def _notice(
    saved: str | None, source: str, target: str, on: str | None, imported: int | None, queued: int | None
) -> str:
    """The confirmation after a save or an import (from the redirect's query: only known words and codes)."""
    tail = (
        " "
        + ngettext(
            "%(num)s statement queued for recalculation.", "%(num)s statements queued for recalculation.", queued
        )
        % {"num": queued}
        if queued
        else ""
    )
    if imported is not None:
        text = ngettext(
            "Imported rates.csv: %(num)s rate created or corrected.",
            "Imported rates.csv: %(num)s rates created or corrected.",
            imported,
        )
        return text % {"num": imported} + tail
    if saved in OUTCOMES and source and target:
        what = {
            "created": _("saved"),
            "updated": _("corrected (the old value is in its history)"),
            "unchanged": _("unchanged"),
        }[saved]
        values = {"source": source, "target": target, "what": what, "day": on}
        if on and len(on) == 10:
            return _("Rate %(source)s to %(target)s from %(day)s %(what)s.") % values + tail
        return _("Rate %(source)s to %(target)s %(what)s.") % values + tail
    return ""


def _context(session: Session, currency: str | None, **extra: Any) -> dict[str, Any]:
    code = (currency or "").strip().upper()[:3]
    return {
        "rows": rates_for_page(session, code or None),
        "currency": code,
        "form": RateForm(),
        "error": None,
        "problems": [],
        "notice": "",
        "template": TEMPLATE,
        "max_bytes": MAX_BYTES,
        **extra,
    }


def _is_htmx(request: Request[Any, Any, Any]) -> bool:
    return bool(getattr(request, "htmx", False))


def _done(request: Request[Any, Any, Any], query: dict[str, Any]) -> Redirect | ClientRedirect:
    url = f"{PATH}?{urlencode({k: v for k, v in query.items() if v is not None})}"
    if _is_htmx(request):
        return ClientRedirect(url)
    return Redirect(url, status_code=303)


class RatesController(Controller):
    path = PATH
    guards = [finance_or_admin]
    include_in_schema = False

    @get("/", sync_to_thread=True)
    def list_page(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        currency: FromQuery[str | None] = None,
        saved: FromQuery[str | None] = None,
        source: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
        on: FromQuery[str | None] = None,
        imported: FromQuery[int | None] = None,
        queued: FromQuery[int | None] = None,
    ) -> Template:
        notice = _notice(saved, _code(source), _code(target), on, imported, queued)
        context = _context(db, currency, notice=notice)
        return page_or_partial(request, "pages/rates/list.html", "partials/rates/table.html", context)

    @post("/", sync_to_thread=True, status_code=200)
    def save(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[RateForm, Body(media_type=RequestEncodingType.URL_ENCODED)],
    ) -> Template | Redirect | ClientRedirect:
        item = RateInput(data.source, data.target, data.rate, data.effective_from)
        try:
            done = set_rates_in(request.app.state["engine"], [item], actor=principal)
        except UpsertRefused as exc:
            problem = exc.problems[0]
            field = {"from": "source", "to": "target"}.get(problem.field, problem.field)
            context = _context(db, None, form=data, error={"field": field, "message": problem.message})
            if _is_htmx(request):  # htmx 2 swaps only 2xx: the form comes back with its error
                return page("partials/rates/form.html", context)
            return page("pages/rates/list.html", context, status_code=400)
        (key, outcome) = done.outcomes[0]
        pair, day = key.split(" ")
        source, target = pair.split("/")
        return _done(
            request,
            {"saved": outcome, "source": source, "target": target, "on": day, "queued": done.queued or None},
        )

    @post("/import", sync_to_thread=True, status_code=200, request_max_body_size=MAX_BYTES + 64 * 1024)
    def import_csv(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        principal: CurrentPrincipal,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Template | Redirect | ClientRedirect:
        content = data.file.file.read(MAX_BYTES + 1) if data.file is not None else b""
        try:
            if not content:
                raise RatesFileProblem([LineProblem(None, "file", "choose a rates.csv file to upload")])
            items, lines = read_rates_csv(content)
            if not items:
                raise RatesFileProblem([LineProblem(None, "file", "has no rates after the header")])
            done: RatesSet = set_rates_in(request.app.state["engine"], items, actor=principal)
        except RatesFileProblem as exc:
            return self._problems(request, db, exc.problems)
        except UpsertRefused as exc:
            problems = [LineProblem(lines[p.index], p.field, p.message) for p in exc.problems]
            return self._problems(request, db, problems)
        return _done(request, {"imported": done.changed, "queued": done.queued or None})

    @get("/history", sync_to_thread=True)
    def history(
        self,
        request: Request[Any, Any, Any],
        db: DbSession,
        source: FromQuery[str | None] = None,
        target: FromQuery[str | None] = None,
    ) -> Template:
        code_from, code_to = _code(source), _code(target)
        context = {
            "source": code_from,
            "target": code_to,
            "rows": [r for r in rates_for_page(db, code_from or None) if r.target == code_to and r.source == code_from],
            "history": pair_history(db, code_from, code_to) if code_from and code_to else [],
        }
        return page_or_partial(request, "pages/rates/history.html", "partials/rates/history.html", context)

    @staticmethod
    def _problems(request: Request[Any, Any, Any], db: Session, problems: list[LineProblem]) -> Template:
        context = _context(db, None, problems=problems)
        if _is_htmx(request):
            return page("partials/rates/upload.html", context)
        return page("pages/rates/list.html", context)
