"""rates.csv (``from,to,rate,effective_from``; cli.md): bytes in, rate inputs out, every problem by line.

Reading checks the file's shape (size, encoding, header, columns); what the values mean is checked by
``service.checked``, so the API, the form and the upload share one set of rules.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from commissions.rates.service import RateInput

MAX_BYTES = 1024 * 1024  # 1 MB
MAX_ROWS = 20_000
COLUMNS = ("from", "to", "rate", "effective_from")
TEMPLATE = "from,to,rate,effective_from\nEUR,USD,1.0850,2026-01-01\nGBP,USD,1.2700,2026-01-01\n"


@dataclass(frozen=True, slots=True)
class LineProblem:
    line: int | None  # None: the whole file
    field: str
    message: str


class RatesFileProblem(ValueError):
    def __init__(self, problems: list[LineProblem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in rates.csv")
        self.problems = problems


def read_rates_csv(content: bytes) -> tuple[list[RateInput], list[int]]:
    """The rows of rates.csv and the line of each; ``RatesFileProblem`` naming what is wrong with its shape."""
    if len(content) > MAX_BYTES:
        raise RatesFileProblem([LineProblem(None, "file", f"is larger than 1 MB ({len(content):,} bytes)")])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RatesFileProblem([LineProblem(None, "file", f"is not UTF-8 text (byte {exc.start})")]) from exc
    if not text.strip():
        raise RatesFileProblem([LineProblem(None, "file", f"is empty: the first line must be {','.join(COLUMNS)}")])
    reader = csv.reader(io.StringIO(text, newline=""))
    problems: list[LineProblem] = []
    rows: list[RateInput] = []
    lines: list[int] = []
    try:
        header = [h.strip().lower() for h in next(reader)]
        missing = [c for c in COLUMNS if c not in header]
        if missing:
            raise RatesFileProblem(
                [LineProblem(1, "header", f"missing column {', '.join(missing)}: expected {','.join(COLUMNS)}")]
            )
        position = {c: header.index(c) for c in COLUMNS}
        for record in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if len(rows) + len(problems) >= MAX_ROWS:
                raise RatesFileProblem([LineProblem(line, "file", f"has more than {MAX_ROWS:,} rows: split it")])
            short = [c for c, i in position.items() if i >= len(record)]
            if short:
                problems.append(LineProblem(line, short[0], "is missing (too few columns)"))
                continue
            source, target, rate, day = (record[position[c]].strip() for c in COLUMNS)
            rows.append(RateInput(source, target, rate, day))
            lines.append(line)
    except csv.Error as exc:
        problems.append(LineProblem(reader.line_num, "file", f"cannot be read as CSV ({exc})"))
    if problems:
        raise RatesFileProblem(problems)
    return rows, lines
