"""The JSON writer's test for "nothing to escape in this chunk" (``result_json._plain``) agrees with
``json.dumps``: it says plain exactly when no string of the chunk has a character JSON escapes, for
any text (control characters, quotes, backslashes, non-ASCII, surrogates)."""

from __future__ import annotations

import json
from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from bench.engine_bench import PLAN, generate
from commissions.engine import calculate, parse_plan, result_to_json, result_to_json_dict
from commissions.engine.lines import CHUNK
from commissions.engine.result_json import _plain


def _escapes(text: str) -> bool:
    return json.dumps(text, ensure_ascii=False) != f'"{text}"'


@given(st.lists(st.text(alphabet=st.characters(codec=None), max_size=30), max_size=8))
def test_plain_exactly_when_json_escapes_nothing(texts: list[str]) -> None:
    assert _plain(texts) == (not any(_escapes(text) for text in texts))


def test_every_escaped_character_is_seen() -> None:
    for code in [*range(0x20), ord('"'), ord("\\")]:
        assert not _plain(["D-1 Acme", f"rep{chr(code)}@example.com"])
    for text in ["", "D-1 Acme", "Zoë – 10%", "\u2028\u2029\x7f", "\ud800 lone surrogate", "emoji 🎉 / slash"]:
        assert _plain([text]) == (not _escapes(text))


def test_streamed_document_equals_json_dumps_across_chunks() -> None:
    """The streamed ``--json`` document (lines as columns, a chunk at a time, each chunk tested for
    escaping as a whole) equals ``json.dumps`` of the document built from ``Line`` objects: chunks with
    nothing to escape and chunks with a name, an id or an email that must be escaped, split deals
    and deals shared by two reports, more lines than one chunk."""
    people, quotas, deals = generate(9_000, 60, seed=5)
    renamed = {7: 'Q"uote', 4_500: "back\\slash", 4_501: "tab\there"}
    deals = [replace(deal, name=renamed[i]) if i in renamed else deal for i, deal in enumerate(deals)]
    deals[8_000] = replace(deals[8_000], external_id='D-"8000"')
    odd = people[-1].email  # a rep's email with a character to escape, on all of their deals
    people[-1] = replace(people[-1], email='rep"odd"@x.com')
    deals = [
        replace(deal, owner=people[-1].email) if deal.owner == odd else deal
        for deal in deals
        if not any(email == odd for email, _ in deal.splits)
    ]
    quotas = [replace(quota, person=people[-1].email) if quota.person == odd else quota for quota in quotas]
    result = calculate(parse_plan(PLAN), "2026-Q1", people, quotas, deals)
    assert any(len(c.lines) > CHUNK for p in result.payees for c in p.components if c.kind == "override")
    streamed = result_to_json(calculate(parse_plan(PLAN), "2026-Q1", people, quotas, deals))
    assert streamed == json.dumps(result_to_json_dict(result), indent=2, ensure_ascii=False) + "\n"
    assert '\\"8000\\"' in streamed and 'Q\\"uote' in streamed and 'rep\\"odd\\"@x.com' in streamed
