"""The audit log in words: every action the code writes has a sentence, names instead of ids, the raw
detail folded away, and a page's names looked up in a bounded number of queries."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import date
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Engine, event
from sqlmodel import select

from commissions.audit.sentences import SENTENCES, Names, describe
from commissions.core.audit import record_event
from commissions.core.db import transaction
from commissions.core.principal import Principal
from commissions.models import Deal, Person
from tests.conftest import read, sign_in

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "commissions").rglob("*.py")), *sorted((ROOT / "leaderboard").rglob("*.py"))]

#: Actions built from a variable part (an f-string): every value the part takes where it is written.
DYNAMIC = {
    "f'deal.{outcome}'": {
        "deal.created",
        "deal.updated",
    },  # deals/ingest.py: "unchanged" returns before, "held" is approval_requested
    "f'period.{to}'": {"period.approved", "period.locked", "period.paid"},  # periods/workflow.py TRANSITIONS
    "f'lead_event.{outcome}'": {"lead_event.created", "lead_event.updated"},  # marketing/ingest.py
}
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef
ACTION = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")


@cache
def _parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


class _Scan(ast.NodeVisitor):
    """The action argument of every audit write, resolved to the strings it can be."""

    def __init__(self, tree: ast.Module, where: str, found: set[str], unresolved: list[str]) -> None:
        self.tree, self.where, self.found, self.unresolved = tree, where, found, unresolved
        self.constants = {
            t.id: n.value.value
            for n in tree.body
            if isinstance(n, ast.Assign) and isinstance(n.value, ast.Constant) and isinstance(n.value.value, str)
            for t in n.targets
            if isinstance(t, ast.Name)
        }
        self.function: list[FunctionNode] = []
        self.bulk = "table_of(AuditEvent)" in ast.unparse(tree)  # a module inserting audit rows in bulk

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.function.append(node)
        self.generic_visit(node)
        self.function.pop()

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.function.append(node)
        self.generic_visit(node)
        self.function.pop()

    def resolve(self, node: ast.expr) -> set[str] | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            a, b = self.resolve(node.body), self.resolve(node.orelse)
            return None if a is None or b is None else a | b
        if isinstance(node, ast.JoinedStr):
            return DYNAMIC.get(ast.unparse(node))
        if isinstance(node, ast.Name):
            if node.id in self.constants:
                return {self.constants[node.id]}
            if self.function:
                return self.resolve_local(self.function[-1], node.id)
        return None

    def resolve_local(
        self, function: FunctionNode, name: str, where: Path | None = None, depth: int = 0
    ) -> set[str] | None:
        """A local assigned in the function, or a parameter: its default and every value callers pass (a caller
        passing one of its own parameters on is followed to its callers)."""
        where = where or ROOT / self.where
        assigned = [
            n.value
            for n in ast.walk(function)
            if isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in n.targets)
        ]
        if assigned:
            out: set[str] = set()
            for value in assigned:
                got = self.resolve(value)
                if got is None:
                    return None
                out |= got
            return out
        params = [a.arg for a in (*function.args.posonlyargs, *function.args.args)]
        kwonly = [a.arg for a in function.args.kwonlyargs]
        if depth > 4 or (name not in params and name not in kwonly):
            return None
        values: set[str] = set()
        defaults = dict(zip(params[len(params) - len(function.args.defaults) :], function.args.defaults, strict=True))
        defaults |= {a.arg: d for a, d in zip(function.args.kwonlyargs, function.args.kw_defaults, strict=True) if d}
        if name in defaults and isinstance(defaults[name], ast.Constant):
            values.add(defaults[name].value)  # type: ignore[union-attr]
        index = params.index(name) if name in params else None
        method = bool(params) and params[0] == "self"
        # a private function (``_audit``) is called from its own module only
        callers = [where] if function.name.startswith("_") else SOURCES
        for path in callers:
            for caller in ast.walk(_parsed(path)):
                if not isinstance(caller, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for call in ast.walk(caller):
                    if not isinstance(call, ast.Call):
                        continue
                    passed = self._passed(call, function.name, name, index, method)
                    for value in passed or ():
                        got = value.value if isinstance(value, ast.Constant) else None
                        if isinstance(got, str):
                            values.add(got)
                            continue
                        if not isinstance(value, ast.Name):
                            return None
                        further = self.resolve_local(caller, value.id, path, depth + 1)
                        if further is None:
                            return None
                        values |= further
        return values

    @staticmethod
    def _passed(call: ast.Call, function: str, name: str, index: int | None, method: bool) -> list[ast.expr] | None:
        """What a call passes for parameter ``name`` of ``function`` (None: the call is not to it)."""
        callee = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
        args = call.args
        first = args[0] if args else None
        handed = (isinstance(first, ast.Name) and first.id == function) or (
            isinstance(first, ast.Attribute) and first.attr == function
        )
        if handed:  # run_sync(end_sessions, engine, ...), partial(f, ...): the arguments that follow are its
            args = args[1:]
        elif callee != function:
            return None
        passed = [k.value for k in call.keywords if k.arg == name]
        if index is not None:
            bound = method and (handed or isinstance(call.func, ast.Attribute))
            position = index - (1 if bound else 0)
            if 0 <= position < len(args):
                passed.append(args[position])
        return passed

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        owner = func.value.id if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) else None
        argument: ast.expr | None = None
        if name == "record_event" and owner != "outbox" and len(node.args) >= 3:
            argument = node.args[2]
        elif name == "_audit" and self.where.endswith(("people/sync.py", "quotas/service.py")):
            argument = node.args[0] if owner == "self" else node.args[2]
        if argument is not None:
            got = self.resolve(argument)
            if got is None:
                self.unresolved.append(f"{self.where}:{node.lineno}: {ast.unparse(argument)}")
            else:
                self.found.update(got)
        self.generic_visit(node)

    def visit_Dict(self, node: ast.Dict) -> None:
        """Rows inserted into audit_event in bulk: ``{"action": "deal.created", ...}``."""
        if self.bulk:
            for key, value in zip(node.keys, node.values, strict=True):
                constant = isinstance(value, ast.Constant) and isinstance(value.value, str)
                if isinstance(key, ast.Constant) and key.value == "action" and constant:
                    self.found.add(value.value)  # type: ignore[union-attr]
        self.generic_visit(node)


def written_actions() -> tuple[set[str], list[str]]:
    found: set[str] = set()
    unresolved: list[str] = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        if "record_event" not in text and "AuditEvent" not in text:
            continue
        tree = _parsed(path)
        _Scan(tree, str(path.relative_to(ROOT)), found, unresolved).visit(tree)
    return found, unresolved


def test_every_action_the_code_writes_has_a_sentence() -> None:
    found, unresolved = written_actions()
    assert not unresolved, f"audit actions this test cannot resolve (add their values to DYNAMIC): {unresolved}"
    assert len(found) > 60 and {"period.locked", "quota.set", "deal.created", "person.move"} <= found
    assert all(ACTION.match(a) for a in found), sorted(a for a in found if not ACTION.match(a))
    missing = sorted(found - set(SENTENCES))
    assert not missing, f"audit actions without a sentence in commissions/audit/sentences.py: {missing}"


def _event(action: str, detail: dict[str, Any] | None = None, **kw: Any) -> SimpleNamespace:
    return SimpleNamespace(
        **{
            "actor_id": 7,
            "actor_label": "nina@example.com",
            "action": action,
            "object_type": "period",
            "object_id": "2026-Q3",
            "detail": detail or {},
            "ip": "10.0.0.1",
        }
        | kw
    )


NAMES = Names(
    people={7: "Nina Finance", 8: "Mark Manager", 32: "Ana Rep"},
    emails={"ana@example.com": "Ana Rep"},
    deals={"CRM-1": (5, "Initech renewal")},
    teams={3: "Sales East"},
)


def test_every_sentence_reads_even_without_its_detail() -> None:
    for action in SENTENCES:
        for detail in ({}, {"person": "ana@example.com", "period": "2026-Q3", "amount": "12.50", "currency": "USD"}):
            text = str(describe(_event(action, detail), NAMES))
            assert text and "%(" not in text and "None" not in text, (action, text)
            assert "Nina Finance" in text or not text.startswith("nina@"), (action, text)


def test_sentences_name_people_and_objects_and_format_figures() -> None:
    locked = describe(_event("period.locked"), NAMES)
    assert str(locked).endswith("locked period 2026-Q3") and "Nina Finance" in locked
    quota = describe(
        _event(
            "quota.set",
            {
                "person": "ana@example.com",
                "metric": "bookings",
                "period": "2026-Q4",
                "old": "1200000.00",
                "new": "1400000.00",
                "unit": "USD",
            },
            actor_id=8,
            object_type="quota",
            object_id="12",
        ),
        NAMES,
    )
    plain = re.sub(r"<[^>]+>", "", str(quota))
    assert (
        plain
        == "Mark Manager changed the bookings quota of Ana Rep for 2026-Q4 from 1,200,000.00 USD to 1,400,000.00 USD"
    )
    deals = describe(
        _event(
            "quota.set",
            {
                "person": "ana@example.com",
                "metric": "deals",
                "period": "2026-Q4",
                "old": None,
                "new": "7.00",
                "unit": "count",
            },
        ),
        NAMES,
    )
    assert "to 7 deals" in str(deals) and "7.00" not in str(deals)
    moved = describe(
        _event(
            "person.move",
            {"before": {"manager_id": None, "team_id": None}, "after": {"manager_id": 8, "team_id": 3}},
            object_type="person",
            object_id="32",
        ),
        NAMES,
    )
    moved_text = re.sub(r"<[^>]+>", "", str(moved))
    assert (
        moved_text
        == "Nina Finance moved Ana Rep from no team, reporting to nobody to Sales East, reporting to Mark Manager"
    )
    deal = describe(
        _event("deal.created", {"amount": "80000", "currency": "USD"}, object_type="deal", object_id="CRM-1"), NAMES
    )
    assert '<a href="/deals/5">Initech renewal</a>' in deal and "80,000.00 USD" in deal
    own = describe(_event("person.locale_changed", {"to": "th"}, object_type="person", object_id="7"), NAMES)
    assert re.sub(r"<[^>]+>", "", str(own)) == "Nina Finance set their language to ไทย"
    chosen = describe(_event("person.locale_changed", {"to": "ms"}, object_type="person", object_id="32"), NAMES)
    assert re.sub(r"<[^>]+>", "", str(chosen)) == "Nina Finance set the language of Ana Rep to Bahasa Melayu"
    contest = describe(
        _event("contest.results", {"name": "Kick-off sprint"}, object_type="contest", object_id="2"), NAMES
    )
    assert '<a href="/leaderboard/contests/2">' in contest  # the leaderboard's page (/contests/2 was a dead link)
    system = describe(
        _event("period.reopened", {"reason": "figures changed"}, actor_id=None, actor_label="system"), NAMES
    )
    assert str(system).startswith("Period 2026-Q3 is open again")
    unknown = describe(_event("brand_new.thing", object_type="widget", object_id="9"), NAMES)
    assert "brand new: thing" in unknown and "widget 9" in unknown
    evil = describe(_event("team.create", {"name": "<script>x</script>"}), NAMES)
    assert "<script>" not in evil and "&lt;script&gt;" in evil


def test_admin_page_tells_events_in_words_with_names_and_folds_the_detail(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    make_person("boss@example.com", "manager")
    ana = make_person("ana@example.com", manager="boss@example.com")
    with transaction(engine) as s:
        boss = s.exec(select(Person).where(Person.email == "boss@example.com")).one()
        deal = Deal(
            external_id="CRM-9",
            name="Initech renewal",
            account="Initech",
            owner_id=ana.id,
            amount_minor=8_000_000,
            currency="USD",
            closed_at=date(2026, 11, 2),
        )
        s.add(deal)
        s.flush()
        by = Principal(role="manager", person_id=boss.id, email=boss.email, name=boss.name)
        record_event(
            s,
            by,
            "quota.set",
            "quota",
            1,
            {
                "person": "ana@example.com",
                "metric": "bookings",
                "period": "2026-Q4",
                "old": "1200000.00",
                "new": "1400000.00",
                "unit": "USD",
            },
        )
        record_event(s, by, "person.deactivate", "person", ana.id, {})
        record_event(s, by, "deal.updated", "deal", "CRM-9", {"amount": "80000", "currency": "USD", "status": "won"})
        deal_id = deal.id
    sign_in(client, "root@example.com")
    page = client.get("/admin/audit")
    assert page.status_code == 200
    text = page.text
    sentences = re.findall(r'<p class="audit-sentence">(.*?)</p>', text, flags=re.S)
    assert len(sentences) == text.count("<tr>") - 1  # one per event
    words = "\n".join(re.sub(r"<[^>]+>", "", s) for s in sentences)
    assert "Boss changed the bookings quota of Ana for 2026-Q4 from 1,200,000.00 USD to 1,400,000.00 USD" in words
    assert "Boss deactivated Ana" in words and f"person {ana.id}" not in words
    assert "Root signed in" in words
    assert f'<a href="/deals/{deal_id}">Initech renewal</a>' in text
    assert '<details class="audit-detail">' in text and "&#34;metric&#34;: &#34;bookings&#34;" in text
    folded = text.split('<details class="audit-detail">')[1]
    assert "<summary>" in folded and '"metric"' not in text.split('<details class="audit-detail">')[0]
    exported = list(csv.DictReader(io.StringIO(client.get("/admin/audit.csv").text)))  # the same words, plain
    said = {row["action"]: row["what_happened"] for row in exported}
    assert said["quota.set"] == (
        "Boss changed the bookings quota of Ana for 2026-Q4 from 1,200,000.00 USD to 1,400,000.00 USD"
    )
    assert said["person.deactivate"] == "Boss deactivated Ana" and said["deal.updated"].count("Initech renewal") == 1


def test_a_page_of_events_looks_names_up_in_a_bounded_number_of_queries(client, make_person, engine: Engine) -> None:
    make_person("root@example.com", "admin")
    people = [make_person(f"rep{i}@example.com") for i in range(12)]
    sign_in(client, "root@example.com")

    def queries_for_page(count: int) -> int:
        with transaction(engine) as s:
            for i in range(count):
                p = people[i % len(people)]
                by = Principal(role="admin", person_id=p.id, email=p.email, name=p.name)
                record_event(s, by, "person.activate", "person", people[-1 - i % len(people)].id, {})
                record_event(s, by, "deal.created", "deal", f"X-{i}", {"amount": "1", "currency": "USD"})
        seen: list[str] = []

        def count_select(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
            if statement.lstrip().upper().startswith("SELECT"):
                seen.append(statement)

        event.listen(engine, "before_cursor_execute", count_select)
        try:
            assert client.get("/admin/audit").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count_select)
        return len(seen)

    few = queries_for_page(2)
    many = queries_for_page(25)  # a full page of 50 rows
    assert many == few, (few, many)
    names = read(engine, lambda s: s.exec(select(Person.name).where(Person.id == people[0].id)).one())
    assert names in client.get("/admin/audit").text
