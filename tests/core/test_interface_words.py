"""Interface text made in Python or JavaScript follows the page's language (docs/translating.md): a Malay and a
Thai crawl of the demo found these English leftovers; each is checked here in Malay or Thai, and in English
as it was."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from commissions.core.i18n import using_locale
from commissions.marketing.dashboard import NOT_COUNTED, flag_words
from commissions.outbound.chat import CHAT_EVENTS
from commissions.periods.checklist import ChecklistItem
from leaderboard.contests.rules import MODE_LABELS, SCOPE_LABELS, countdown_words, time_left
from leaderboard.models import Contest

ROOT = Path(__file__).resolve().parents[2]


def test_a_stage_not_counted_says_why_in_the_page_language() -> None:
    from commissions.core.i18n import gettext, ngettext

    singular, plural = NOT_COUNTED["sql"]
    with using_locale("en"):
        assert ngettext(singular, plural, 3) % {"num": 3, "why": flag_words("no mql before it")} == (
            "3 SQLs not counted: no mql before it"
        )
        assert flag_words("opportunity is out of order") == "opportunity is out of order"
    with using_locale("ms"):
        assert ngettext(singular, plural, 1) % {"num": 1, "why": flag_words("no mql before it")} == (
            "1 SQL tidak dikira: tiada mql sebelumnya"
        )
        assert flag_words("opportunity is out of order") == "peluang tidak mengikut urutan"
        assert flag_words("sql is dated after it (2026-02-11)") == "sql bertarikh selepasnya (2026-02-11)"
        assert flag_words("something new") == "something new"  # a reason in no known form, as stored
        assert gettext(CHAT_EVENTS["badge.granted"]) == "Lencana diberikan"


def test_contest_countdowns_and_labels_in_thai() -> None:
    contest = cast(
        Any,
        SimpleNamespace(starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 20), status="scheduled", closed_at=None),
    )
    now = datetime(2026, 12, 8, 21, 0, tzinfo=UTC)  # 1 day 3 h before the start
    with using_locale("en"):
        assert time_left(cast(Contest, contest), now) == "1 day 3 h"
    with using_locale("th"):
        from commissions.core.i18n import gettext

        assert time_left(cast(Contest, contest), now) == "1 วัน 3 ชม."
        assert time_left(cast(Contest, contest), now + timedelta(days=1, hours=2, minutes=30)) == "30 นาที 0 วินาที"
        assert countdown_words()["min"] == "%(num)d นาที"
        assert gettext(MODE_LABELS["individual"]) == "รายบุคคล" and gettext(SCOPE_LABELS["teams"]) == "ทีมที่เลือก"
    script = (ROOT / "leaderboard" / "static" / "countdown.js").read_text()
    assert "countdownWords" in script and '"day"' not in script.replace("day: ", "")  # units come from the page


@pytest.mark.parametrize(("locale", "shown"), [("en", "People with errors"), ("ms", "Orang dengan ralat")])
def test_checklist_labels_are_marked_for_translation(locale: str, shown: str) -> None:
    from commissions.core.i18n import gettext

    item = ChecklistItem("errors", "People with errors", 0, "/x")
    with using_locale(locale):
        assert gettext(item.label) == shown
    templates = [ROOT / "templates/pages/periods/approval.html", ROOT / "templates/partials/accounting/period.html"]
    assert all("_(item.label)" in path.read_text() for path in templates)
