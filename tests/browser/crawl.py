"""What the browser tours share: the demo roles, walking every kind of page a role reaches, and the checks read
on each page (axe-core, sideways scrolling, numbers in one style). `test_every_page.py` walks each role once per
width and reads every check on the way; the other browser tests use the checks on pages in particular states.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlparse

import pytest
from babel.numbers import list_currencies

ROLES = ["ana.alvarez", "east.manager", "vp.sales", "nora.field", "marketing.lead", "finance", "admin"]
HREF = re.compile(r'href="([^"#]+)"')
#: Never followed by a tour: downloads, the API, static files, the live stream (a page that never ends).
SKIP = ("/logout", ".csv", ".xlsx", ".zip", ".css", ".js", "/download", "/export", "/api/", "/static/", "/stream")
#: Links a tour never requests, even to see whether they answer: signing out ends the tour.
NOT_LINK_CHECKED = ("/logout",)


def page_kind(path: str, *, people_too: bool = False) -> str:
    """/deals/17 and /deals/5 are one kind of page, and so are two people's statements (unless `people_too`)."""
    if not people_too:
        path = re.sub(r"/[^/]*(%40|@)[^/]*", "/E", path)
    return re.sub(r"/\d+(?=/|$)", "/N", re.sub(r"/\d{4}-(Q[1-4]|\d\d)(?=/|$)", "/N", path))


class Tour:
    """Breadth first from Home, one page of each kind (links in page order), in the signed-in user's browser.

    Records each visited path's status and every same-site link seen on the pages (with its query string and the
    page it was seen on), so a tour also finds dead links without loading each one in the browser.
    """

    def __init__(self, page: Any, base: str, max_pages: int, *, people_too: bool = False) -> None:
        self.page, self.base, self.max_pages, self.people_too = page, base, max_pages, people_too
        self.statuses: dict[str, int] = {}
        self.links: dict[str, str] = {}  # target (path and query) -> the page it was first seen on

    def __iter__(self) -> Iterator[str]:
        """Yield each HTML page's path (with its query) once it is loaded in the page."""
        kinds: set[str] = set()
        queue = ["/"]
        host = urlparse(self.base).netloc
        while queue and len(self.statuses) < self.max_pages:
            path = queue.pop(0)
            response = self.page.goto(self.base + path)
            self.statuses[path] = response.status if response is not None else 0
            if response is None or response.status != 200 or "html" not in response.headers.get("content-type", ""):
                continue
            yield path
            for href in HREF.findall(self.page.content()):
                if href.startswith(("data:", "mailto:", "javascript:")):
                    continue
                url = urlparse(urljoin(self.base + path, href.replace("&amp;", "&")))
                if url.netloc != host or url.path.startswith("/static/") or url.path in NOT_LINK_CHECKED:
                    continue
                target = url.path + (f"?{url.query}" if url.query else "")
                self.links.setdefault(target, path)  # downloads too
                if any(part in url.path for part in SKIP):
                    continue
                kind = page_kind(url.path, people_too=self.people_too)
                if kind not in kinds:
                    kinds.add(kind)
                    queue.append(target)

    def dead_links(self, max_checked: int) -> list[str]:
        """Visited pages that answered an error, and links seen on the way (up to `max_checked` not visited,
        in the order they were found) that answer one when requested with the user's session."""
        broken = [
            f"{path} (linked from {self.links.get(path, 'nowhere')}) -> {status}"
            for path, status in self.statuses.items()
            if status >= 400
        ]
        unvisited = [target for target in self.links if target not in self.statuses][:max_checked]
        for target in unvisited:
            status = self.page.request.get(self.base + target).status
            if status >= 400:
                broken.append(f"{target} (linked from {self.links[target]}) -> {status}")
        return broken


def tour(page: Any, base: str, max_pages: int, *, people_too: bool = False) -> Iterator[str]:
    """The paths of a `Tour` (for a test that needs only the pages)."""
    return iter(Tour(page, base, max_pages, people_too=people_too))


# ---- axe-core (tests read node_modules/axe-core/axe.min.js; never served to users)

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21aa"]
AXE_BLOCKING = ("serious", "critical")


def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.skip(f"{AXE_JS} is missing: run `npm ci` (make setup) to install axe-core")
    return AXE_JS.read_text(encoding="utf-8")


def axe_violations(page: Any, where: str) -> list[str]:
    """The page's serious and critical violations, one line each: rule (impact), page, selector, what is wrong."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source())
    found = page.evaluate(
        """async (tags) => {
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return r.violations.map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => ({
                target: n.target.join(" "), summary: (n.failureSummary || "").replace(/\\s+/g, " ").slice(0, 220),
            }))}));
        }""",
        AXE_TAGS,
    )
    lines = []
    for v in found:
        if v["impact"] not in AXE_BLOCKING:
            continue
        for node in v["nodes"][:5]:
            lines.append(f"{v['id']} ({v['impact']}) on {where}: {node['target']} :: {node['summary']}")
    return lines


# ---- layout


def sideways_scroll(page: Any, width: int, where: str) -> list[str]:
    """The page scrolls sideways as a whole (a wide table must scroll inside its own container)."""
    scroll = page.evaluate("document.documentElement.scrollWidth")
    return [f"{where}: {scroll} px wide"] if scroll > width + 1 else []


# ---- numbers in one style (docs/metrics.md, "Showing figures")

#: 1,000 or more with decimals and no grouping: "41500.00", "-12000.00", "1041500.00 credited".
UNGROUPED = re.compile(r"(?<![\w.,/:])-?\d{4,}\.\d{2,3}(?!\d)")
#: 1,000 or more beside a currency code, not grouped: "80000 USD", "USD 80000".
CODES = "|".join(sorted(list_currencies()))
UNGROUPED_MONEY = re.compile(rf"(?<![\w.,/:])\d{{4,}}(?:\.\d+)? ?(?:{CODES})\b|\b(?:{CODES}) ?\d{{4,}}(?![\d,])")
#: A count with decimals it never has: "7.00 deals", "12.00 MQLs".
COUNT_WITH_ZEROS = re.compile(r"\b\d[\d,]*\.0+ ?(?:deals?|MQLs?|SQLs?)\b")
#: Free-entry amount fields show what the deals CSV grammar parses, which has no grouping.
PLAIN_ENTRY = ("amount", "cost")

SHOWN_TEXT = """(plain) => {
    const parts = [document.body.innerText];
    for (const el of document.querySelectorAll("pre, code")) parts[0] = parts[0].split(el.innerText).join(" ");
    for (const el of document.querySelectorAll("input, textarea")) {
        if (el.type === "hidden" || el.closest("pre, code") || plain.includes(el.name)) continue;
        if (el.tagName === "TEXTAREA" && el.name === "document") continue;  // a plan's YAML source
        if (el.value) parts.push(`${el.name}=${el.value}`);
        if (el.placeholder) parts.push(`${el.name} (placeholder)=${el.placeholder}`);
    }
    return parts.join("\\n");
}"""


def number_problems(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        for pattern in (UNGROUPED, UNGROUPED_MONEY, COUNT_WITH_ZEROS):
            for match in pattern.finditer(line):
                found.append(f"{match.group(0)!r} in {line.strip()[:140]!r}")
    return found


def page_number_problems(page: Any, where: str) -> list[str]:
    """What a person sees on the page (visible text, field values and placeholders) breaking the number style."""
    return [f"{where}: {p}" for p in number_problems(page.evaluate(SHOWN_TEXT, list(PLAIN_ENTRY)))]
