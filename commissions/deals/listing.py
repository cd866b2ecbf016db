"""The deal list of the ``/deals`` page: search, filters, sort and keyset paging, always through the caller's
visibility (own / team / all, as ``visible_deals``).

Every filter and the sort is a query parameter, so a filtered view has an address. ``read_filter`` turns the
parameters into a ``DealFilter`` or raises ``InputProblem`` naming the parameter; ``deal_page`` reads one page
and the number of deals the filters match. Paging is keyset (``core/paging.py``): a cursor holds the sort key
and the id of the row it follows (``n``) or precedes (``p``), so a page costs its own rows however deep it is.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from commissions.core.errors import InputProblem
from commissions.core.paging import BadCursor, cursor_parts, make_cursor
from commissions.core.periods import PeriodKey, PeriodKeyError, parse_period_key, quarter_of
from commissions.core.principal import Principal
from commissions.models import Deal, DealSplit, Person, Team
from commissions.models.base import DEAL_STATUSES, DEAL_TYPES
from commissions.people.service import visible_person_ids

SORTS = {"closed_at": "close date", "amount": "amount", "name": "name"}
ORDERS = {"desc": "descending", "asc": "ascending"}
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_SEARCH = 100
ALL_PERIODS = "all"
CURSOR_TAG = "deal-list"
PARAMETERS = ("q", "period", "owner", "team", "status", "type", "sort", "order", "limit", "cursor")


@dataclass(frozen=True, slots=True)
class DealFilter:
    q: str = ""
    period: PeriodKey | None = None  # None: every period
    owner: str = ""  # an email
    team: int | None = None
    status: str = ""
    type: str = ""
    sort: str = "closed_at"
    order: str = "desc"
    limit: int = PAGE_SIZE

    def query(self) -> dict[str, str]:
        """The filter as query parameters (defaults left out but the period, which defaults to this quarter)."""
        params = {
            "q": self.q,
            "period": self.period.key if self.period is not None else ALL_PERIODS,
            "owner": self.owner,
            "team": str(self.team) if self.team is not None else "",
            "status": self.status,
            "type": self.type,
            "sort": self.sort if self.sort != "closed_at" else "",
            "order": self.order if self.order != "desc" else "",
            "limit": str(self.limit) if self.limit != PAGE_SIZE else "",
        }
        return {k: v for k, v in params.items() if v}

    @property
    def narrowed(self) -> bool:
        """Whether anything but the period narrows the list."""
        return bool(self.q or self.owner or self.team is not None or self.status or self.type)


@dataclass(frozen=True, slots=True)
class ListedDeal:
    id: int
    external_id: str
    name: str
    account: str
    owner_email: str
    owner_name: str
    amount_minor: int
    currency: str
    closed_at: date
    type: str
    product: str
    status: str


@dataclass(frozen=True, slots=True)
class DealPage:
    rows: list[ListedDeal]
    total: int  # deals matching the filter, every page together
    next_cursor: str | None
    prev_cursor: str | None


def read_filter(params: dict[str, str | None], *, today: date | None = None) -> DealFilter:
    """The list's query parameters as a filter; ``InputProblem`` naming the first bad parameter.

    ``period`` empty or absent: this quarter; ``all``: every period."""
    text = {k: (params.get(k) or "").strip() for k in PARAMETERS}
    q = text["q"]
    if len(q) > MAX_SEARCH:
        raise InputProblem("q", f"search at most {MAX_SEARCH} characters")
    if not text["period"]:
        period: PeriodKey | None = quarter_of(today or date.today())
    elif text["period"].lower() == ALL_PERIODS:
        period = None
    else:
        try:
            period = parse_period_key(text["period"])
        except PeriodKeyError as exc:
            raise InputProblem("period", f"{exc} (or 'all' for every period)") from exc
    owner = text["owner"].lower()
    if len(owner) > 254:
        raise InputProblem("owner", "an email of at most 254 characters")
    team = None
    if text["team"]:
        if not text["team"].isdigit() or len(text["team"]) > 18:
            raise InputProblem("team", "a team's number from the list of teams")
        team = int(text["team"])
    if text["status"] and text["status"] not in DEAL_STATUSES:
        raise InputProblem("status", f"one of {', '.join(DEAL_STATUSES)} (or empty for any)")
    if text["type"] and text["type"] not in DEAL_TYPES:
        raise InputProblem("type", f"one of {', '.join(DEAL_TYPES)} (or empty for any)")
    sort = text["sort"] or "closed_at"
    if sort not in SORTS:
        raise InputProblem("sort", f"one of {', '.join(SORTS)}")
    order = text["order"] or "desc"
    if order not in ORDERS:
        raise InputProblem("order", "asc or desc")
    limit = PAGE_SIZE
    if text["limit"]:
        if not text["limit"].isdigit() or not 1 <= int(text["limit"]) <= MAX_PAGE_SIZE:
            raise InputProblem("limit", f"a whole number from 1 to {MAX_PAGE_SIZE}")
        limit = int(text["limit"])
    return DealFilter(
        q=q,
        period=period,
        owner=owner,
        team=team,
        status=text["status"],
        type=text["type"],
        sort=sort,
        order=order,
        limit=limit,
    )


# --- cursors ---------------------------------------------------------------------------------------------------

Way = Literal["n", "p"]  # the page after (n) or before (p) the cursor's row


def _sort_value(row: ListedDeal, sort: str) -> str:
    return {"closed_at": row.closed_at.isoformat(), "amount": str(row.amount_minor), "name": row.name}[sort]


def make_list_cursor(f: DealFilter, way: Way, row: ListedDeal) -> str:
    return make_cursor(CURSOR_TAG, f.sort, f.order, way, str(row.id), _sort_value(row, f.sort))


def read_list_cursor(f: DealFilter, text: str) -> tuple[Way, Any, int]:
    """(way, sort value, id) of a cursor this list handed out for the same sort; ``BadCursor`` otherwise."""
    tag, sort, order, way, row_id, value = cursor_parts(text, 6)
    if tag != CURSOR_TAG or (sort, order) != (f.sort, f.order) or way not in ("n", "p"):
        raise BadCursor
    if not row_id.isdigit() or len(row_id) > 18:
        raise BadCursor
    try:
        key: Any = date.fromisoformat(value) if sort == "closed_at" else int(value) if sort == "amount" else value
    except ValueError as exc:
        raise BadCursor from exc
    return ("n" if way == "n" else "p"), key, int(row_id)


# --- the query -------------------------------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _teams_below(session: Session, team_id: int) -> set[int]:
    """The team and every team under it (``team.parent_id``)."""
    children: dict[int | None, list[int]] = {}
    for tid, parent in session.exec(select(Team.id, Team.parent_id)).all():
        if tid is not None:
            children.setdefault(parent, []).append(tid)
    found, todo = set(), [team_id]
    while todo:
        tid = todo.pop()
        if tid not in found:
            found.add(tid)
            todo.extend(children.get(tid, []))
    return found


def conditions(session: Session, principal: Principal, f: DealFilter) -> list[ColumnElement[bool]]:
    """The WHERE of the list: the caller's visibility, then the filters."""
    where: list[ColumnElement[bool]] = []
    people = visible_person_ids(session, principal)
    if people is not None:
        split_deals = select(DealSplit.deal_id).where(col(DealSplit.person_id).in_(people))
        where.append(or_(col(Deal.owner_id).in_(people), col(Deal.id).in_(split_deals)))
    if f.period is not None:
        where += [col(Deal.closed_at) >= f.period.starts_on, col(Deal.closed_at) <= f.period.ends_on]
    if f.q:
        pattern = _like(f.q)
        # case-blind: PostgreSQL's ILIKE; SQLite's LIKE already is (for ASCII), and lower() on every row of
        # three columns cost it half the time of a search
        postgres = session.get_bind().dialect.name == "postgresql"
        where.append(
            or_(
                *(
                    column.ilike(pattern, escape="\\") if postgres else column.like(pattern, escape="\\")
                    for column in (col(Deal.external_id), col(Deal.name), col(Deal.account))
                )
            )
        )
    if f.owner:
        owner_id = select(Person.id).where(Person.email == f.owner).scalar_subquery()
        where.append(col(Deal.owner_id) == owner_id)
    if f.team is not None:
        members = select(Person.id).where(col(Person.team_id).in_(_teams_below(session, f.team)))
        where.append(col(Deal.owner_id).in_(members))
    if f.status:
        where.append(col(Deal.status) == f.status)
    if f.type:
        where.append(col(Deal.type) == f.type)
    return where


SORT_LABEL = {"closed_at": "closed_at", "amount": "amount_minor", "name": "name"}


def _sort_column(sort: str) -> Any:
    return {"closed_at": col(Deal.closed_at), "amount": col(Deal.amount_minor), "name": col(Deal.name)}[sort]


def deal_page(session: Session, principal: Principal, f: DealFilter, cursor: str | None = None) -> DealPage:
    """One page of the deals the caller may see that match ``f``, and how many match in all.

    ``cursor``: a ``make_list_cursor`` of this sort (``BadCursor`` otherwise)."""
    where = conditions(session, principal, f)
    total = session.exec(select(func.count()).select_from(Deal).where(*where)).one()
    key, ident = _sort_column(f.sort), col(Deal.id)
    way: Way = "n"
    forward = f.order == "asc"  # rows come in ascending key order
    if cursor:
        way, value, row_id = read_list_cursor(f, cursor)
        after = forward if way == "n" else not forward  # the wanted rows have greater keys
        if after:
            where += [key >= value, or_(key > value, ident > row_id)]  # a range bound the index can use
        else:
            where += [key <= value, or_(key < value, ident < row_id)]
    ascending = forward if way == "n" else not forward
    order = (key.asc(), ident.asc()) if ascending else (key.desc(), ident.desc())
    # the page's deals first (the planner walks the deal table's indexes), then their owners' names
    page = (
        sa_select(
            col(Deal.id).label("id"),
            col(Deal.external_id).label("external_id"),
            col(Deal.name).label("name"),
            col(Deal.account).label("account"),
            col(Deal.owner_id).label("owner_id"),
            col(Deal.amount_minor).label("amount_minor"),
            col(Deal.currency).label("currency"),
            col(Deal.closed_at).label("closed_at"),
            col(Deal.type).label("type"),
            col(Deal.product).label("product"),
            col(Deal.status).label("status"),
        )
        .where(*where)
        .order_by(*order)
        .limit(f.limit + 1)
        .subquery()
    )
    outer_key, outer_id = page.c[SORT_LABEL[f.sort]], page.c.id
    query = (
        sa_select(
            page.c.id,
            page.c.external_id,
            page.c.name,
            page.c.account,
            col(Person.email),
            col(Person.name),
            page.c.amount_minor,
            page.c.currency,
            page.c.closed_at,
            page.c.type,
            page.c.product,
            page.c.status,
        )
        .join(Person, col(Person.id) == page.c.owner_id)
        .order_by(*((outer_key.asc(), outer_id.asc()) if ascending else (outer_key.desc(), outer_id.desc())))
    )
    rows = [ListedDeal(*row) for row in session.execute(query).all()]
    more = len(rows) > f.limit
    rows = rows[: f.limit]
    if way == "p":
        rows.reverse()
    next_cursor = prev_cursor = None
    if rows:
        if (way == "n" and more) or way == "p":
            next_cursor = make_list_cursor(f, "n", rows[-1])
        if (way == "p" and more) or (way == "n" and cursor):
            prev_cursor = make_list_cursor(f, "p", rows[0])
    return DealPage(rows=rows, total=total, next_cursor=next_cursor, prev_cursor=prev_cursor)


def list_choices(session: Session, principal: Principal) -> dict[str, Any]:
    """What the filter form offers: owners and teams among the people the caller may see."""
    people = visible_person_ids(session, principal)
    query = select(Person.email, Person.name, Person.team_id).where(col(Person.role).in_(("rep", "manager")))
    if people is not None:
        query = query.where(col(Person.id).in_(people))
    owners = session.exec(query.order_by(Person.name, Person.email)).all()
    team_ids = {team_id for _, _, team_id in owners if team_id is not None}
    teams = (
        session.exec(select(Team.id, Team.name).where(col(Team.id).in_(team_ids)).order_by(Team.name)).all()
        if team_ids
        else []
    )
    return {
        "owners": [(email, name) for email, name, _ in owners],
        "teams": list(teams),
        "statuses": DEAL_STATUSES,
        "types": DEAL_TYPES,
        "sorts": SORTS,
        "orders": ORDERS,
    }


def without_cursor(f: DealFilter, **changes: Any) -> dict[str, str]:
    """The query of the first page of ``f`` changed by ``changes``."""
    return replace(f, **changes).query()
