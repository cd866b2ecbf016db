"""A new user's tour: sign in as each demo role and follow every link the app shows them. None may be dead."""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlparse

import pytest

from commissions.demo import DOMAIN
from tests.browser.test_roles_in_browser import sign_in

pytestmark = pytest.mark.browser
HREF = re.compile(r'href="([^"#]+)"')
MAX_PAGES = 120


@pytest.mark.parametrize(
    "who", ["ana.alvarez", "east.manager", "vp.sales", "nora.field", "marketing.lead", "finance", "admin"]
)
def test_every_link_a_role_sees_works(page, live_server: str, who: str) -> None:
    sign_in(page, live_server, f"{who}@{DOMAIN}")
    seen: set[str] = set()
    queue = ["/"]
    broken: list[str] = []
    while queue and len(seen) < MAX_PAGES:
        path = queue.pop(0)
        if path in seen:
            continue
        seen.add(path)
        response = page.request.get(live_server + path)
        if response.status >= 400:
            broken.append(f"{path} -> {response.status}")
            continue
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for href in HREF.findall(response.text()):
            href = href.replace("&amp;", "&")
            url = urlparse(urljoin(live_server + path, href))
            if url.netloc != urlparse(live_server).netloc or url.path.startswith("/static") or href.startswith("data:"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if target not in seen and url.path != "/logout":
                queue.append(target)
    assert broken == [], broken
    assert len(seen) > 3
