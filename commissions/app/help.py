"""The help page on figures: what each one counts and how it is rounded (docs/metrics.md, "Showing figures").

Every page that shows attainment, a credited amount, a quota or pay links here. It lives at the top
because it explains figures of several areas (statements, people, the leaderboard, marketing).
"""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from commissions.core.formatting import HELP_URL, METRIC_NAMES, METRIC_WORDS
from commissions.core.guards import any_role
from commissions.core.rendering import page


class HelpController(Controller):
    guards = [any_role]
    include_in_schema = False

    @get(HELP_URL, sync_to_thread=False)
    def figures(self) -> Template:
        return page("pages/help/figures.html", {"metric_names": METRIC_NAMES, "metric_texts": METRIC_WORDS})
