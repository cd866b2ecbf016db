"""The JSON writer's test for "nothing to escape in this chunk" (``result_json._plain``) agrees with
``json.dumps``: it says plain exactly when no string of the chunk has a character JSON escapes, for
any text (control characters, quotes, backslashes, non-ASCII, surrogates)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

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
