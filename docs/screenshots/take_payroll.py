"""Screenshots of disputes, the finance dashboard, a printed statement and the payroll export opened as a sheet.

    .venv/bin/python docs/screenshots/take_payroll.py

Starts the demo server like take.py, raises a dispute as a rep, answers it as finance,
downloads the XLSX export, reads it back with openpyxl and renders it as a plain
spreadsheet-like HTML table in the same headless Chromium.
"""

from __future__ import annotations

import html
import io
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import openpyxl  # noqa: E402
from openpyxl.utils import get_column_letter  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from take import ARGS, serve, shot, sign_in  # noqa: E402

SHEET_CSS = """
body { margin: 0; font: 13px Calibri, Carlito, "Segoe UI", sans-serif; background: #fff; }
.bar { background: #217346; color: #fff; padding: 6px 12px; font-weight: 600; }
.formula { border-bottom: 1px solid #d4d4d4; padding: 4px 12px; color: #444; }
table { border-collapse: collapse; margin: 0; }
th, td { border: 1px solid #d4d4d4; padding: 2px 6px; white-space: nowrap; height: 20px; }
th { background: #f3f3f3; color: #555; font-weight: 400; text-align: center; min-width: 28px; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.head td { font-weight: 700; }
.tabs { border-top: 1px solid #d4d4d4; padding: 4px 12px; background: #f3f3f3; }
.tabs span { background: #fff; border: 1px solid #d4d4d4; border-top: 0; padding: 2px 12px; color: #217346; font-weight: 600; }
"""


def sheet_html(content: bytes, filename: str) -> str:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.active
    head = "".join(f"<th>{get_column_letter(c)}</th>" for c in range(1, sheet.max_column + 1))
    rows = []
    for r, row in enumerate(sheet.iter_rows(), start=1):
        cells = []
        for cell in row:
            if cell.data_type == "n" and cell.value is not None:
                digits = len(cell.number_format.split(".")[1]) if "." in cell.number_format else 0
                cells.append(f'<td class="n">{cell.value:.{digits}f}</td>')
            else:
                cells.append(f"<td>{html.escape(str(cell.value or ''))}</td>")
        rows.append(f'<tr class="{"head" if r == 1 else ""}"><th>{r}</th>{"".join(cells)}</tr>')
    return (
        f"<!doctype html><meta charset=utf-8><style>{SHEET_CSS}</style>"
        f'<div class="bar">{html.escape(filename)} (read back with openpyxl)</div>'
        f'<div class="formula">A1 &nbsp; employee_id</div>'
        f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>"
        f'<div class="tabs"><span>{html.escape(sheet.title)}</span></div>'
    )


def main() -> None:
    proc, base = serve()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})

            sign_in(page, base, "ana.alvarez")
            page.goto(base + "/statements")
            page.wait_for_selector("table.lines")
            statement_url = page.url
            page.click("a.dispute-flag >> nth=1")
            page.fill(
                "textarea[name=question]",
                "The customer also signed a services add-on with this deal: shouldn't it count towards my bookings?",
            )
            page.click("text=Send the question")
            page.wait_for_selector("#dispute-state")
            dispute_url = page.url

            sign_in(page, base, "finance")
            page.goto(dispute_url)
            page.fill(
                "textarea[name=body]",
                "Services are not commissionable under AE 2026 (section 3), but I am checking the order form with sales ops.",
            )
            page.click("text=Send the answer")
            page.wait_for_selector("#dispute-state:text('answered')")
            shot(page, "14-dispute-thread-finance")
            page.goto(base + "/finance")
            shot(page, "15-finance-dashboard")
            xlsx_href = page.get_attribute("a[href$='.xlsx']", "href")
            download = page.request.get(base + xlsx_href)
            assert download.ok, download.status

            sign_in(page, base, "ana.alvarez")
            page.goto(statement_url)
            page.wait_for_selector(".dispute-marker")
            shot(page, "13-statement-with-dispute")
            page.emulate_media(media="print")
            shot(page, "17-statement-printed")
            page.pdf(path=str(HERE / "statement-printed.pdf"), format="A4")
            page.emulate_media(media="screen")

            # finance resolves the dispute with an adjustment: the statement then shows both
            sign_in(page, base, "finance")
            page.goto(dispute_url)
            page.fill("input[name=note]", "Agreed with sales ops: the add-on counts. Adjusted on this statement.")
            page.fill("input[name=amount]", "250.00")
            page.click("button:has-text('Resolve')")
            page.wait_for_selector("#dispute-state:text('resolved')")
            sign_in(page, base, "ana.alvarez")
            page.goto(statement_url)
            page.wait_for_selector(".dispute-marker")
            shot(page, "18-statement-with-adjustment-and-dispute")

            page.goto("about:blank")  # off the app's origin: its content security policy forbids inline styles
            page.set_content(sheet_html(download.body(), xlsx_href.rsplit("/", 1)[-1]))
            page.set_viewport_size({"width": 1280, "height": 420})
            page.screenshot(path=str(HERE / "16-payroll-export-as-sheet.png"), full_page=True)
            print("saved 16-payroll-export-as-sheet")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


if __name__ == "__main__":
    main()
