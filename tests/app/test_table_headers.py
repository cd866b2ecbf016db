"""Every column header says what its column holds, to a screen reader at least (axe's empty-table-header): an
action column's header is "Actions", hidden on screen (`sr-only`). An empty cell in a table's foot is a `td`."""

from __future__ import annotations

import re
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
EMPTY_HEADER = re.compile(r"<th\b[^>]*>\s*</th>")


def test_no_template_has_an_empty_column_header() -> None:
    found = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in sorted(TEMPLATES.rglob("*.html"))
        for match in EMPTY_HEADER.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
    assert EMPTY_HEADER.search('<tr><th class="num"></th></tr>')  # the pattern finds what it should
