"""Every page a role reaches fits the screen: no page-level sideways scrolling at 1,366 px (a laptop) and at
390 px (a phone); wide tables scroll inside their own container (issue 17)."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser
HREF = re.compile(r'href="([^"#]+)"')
MAX_PAGES = 40  # per role and width: every page kind a role reaches (the tour's order: nav first)
SKIP = ("/logout", ".csv", ".xlsx", ".zip", "/download", "/export")


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize(
    "who", ["ana.alvarez", "east.manager", "vp.sales", "nora.field", "marketing.lead", "finance", "admin"]
)
def test_no_page_scrolls_sideways(browser, live_server: str, who: str, width: int) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    try:
        sign_in(page, live_server, f"{who}@{DOMAIN}")
        seen: set[str] = set()
        queue, wide = ["/"], []
        while queue and len(seen) < MAX_PAGES:
            path = queue.pop(0)
            if path in seen:
                continue
            seen.add(path)
            response = page.goto(live_server + path)
            if response is None or response.status != 200 or "html" not in response.headers.get("content-type", ""):
                continue
            scroll = page.evaluate("document.documentElement.scrollWidth")
            if scroll > width + 1:
                wide.append(f"{path}: {scroll} px")
            for href in HREF.findall(page.content()):
                url = urlparse(urljoin(live_server + path, href.replace("&amp;", "&")))
                if url.netloc != urlparse(live_server).netloc or url.path.startswith("/static"):
                    continue
                if any(part in url.path for part in SKIP) or url.path.count("/") > 3:
                    continue
                if url.path not in seen and url.path not in queue:
                    queue.append(url.path)
        assert wide == [], f"{who} at {width} px: {wide}"
        assert len(seen) > 3
    finally:
        context.close()
