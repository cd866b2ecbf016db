"""quotas.csv (``person,metric,period,target``; cli.md): bytes in, raw rows out, every problem by line.

Reading checks the file's shape only (size, encoding, header, columns); what the rows
mean (who, which metric, which period, what target) is checked by
``service.resolve_rows``, so the API and the CSV upload share one set of rules.
"""

from __future__ import annotations

import csv
import io

from commissions.quotas.batches import RawRow
from commissions.quotas.targets import RowProblem, RowsProblem

MAX_BYTES = 1024 * 1024  # 1 MB: about 25,000 rows, far beyond any real team
MAX_ROWS = 20_000
COLUMNS = ("person", "metric", "period", "target")
TEMPLATE = "person,metric,period,target\nana@example.com,bookings,2026-Q1,250000.00\nana@example.com,deals,2026-Q1,8\n"


def read_quota_csv(content: bytes) -> list[RawRow]:
    """Parse quotas.csv; raise RowsProblem naming the line and field of everything wrong with its shape."""
    if len(content) > MAX_BYTES:
        raise RowsProblem([RowProblem("", "file", f"is larger than 1 MB ({len(content):,} bytes)")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RowsProblem([RowProblem("", "file", f"is not UTF-8 text (byte {exc.start})")]) from exc
    if not text.strip():
        raise RowsProblem(
            [RowProblem("", "file", "is empty: the first line must be the header person,metric,period,target")]
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[RowProblem] = []
    rows: list[RawRow] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise RowsProblem(
                [RowProblem("line 1", "header", f"missing column {', '.join(missing)}: expected {','.join(COLUMNS)}")]
            )
        position = {c: header.index(c) for c in COLUMNS}
        for record in reader:
            line = reader.line_num  # the physical line where the record ends (quoted newlines span lines)
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise RowsProblem([RowProblem(f"line {line}", "file", f"has more than {MAX_ROWS:,} rows: split it")])
            short = [c for c, i in position.items() if i >= len(record)]
            if short:
                problems.append(RowProblem(f"line {line}", short[0], "is missing (too few columns)"))
                continue
            person, metric, period, target = (record[position[c]].strip() for c in COLUMNS)
            rows.append(RawRow(f"line {line}", person, metric, period, target))
    except csv.Error as exc:
        problems.append(RowProblem(f"line {reader.line_num}", "file", f"cannot be read as CSV ({exc})"))
    if problems:
        raise RowsProblem(problems)
    if not rows:
        raise RowsProblem([RowProblem("", "file", "has a header but no rows")])
    return rows
