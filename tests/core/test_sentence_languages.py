"""Payout line sentences in the page's language (docs/translating.md, "Payout line sentences"): every form the
engine and the app write is read back and shown in Malay and Thai with the stored figures unchanged; English,
the API and anything not in a known form stay as stored."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from commissions.core.db import transaction
from commissions.core.i18n import using_locale
from commissions.core.sentences import is_known_sentence, sentence_in_language, shown_sentence
from commissions.models import Person
from tests.conftest import sign_in
from tests.deals.test_deals_api import token_for
from tests.engine.test_calc_output_identity import SPEC_EXAMPLE, run_calc, write_variety
from tests.statements.test_statements import setup

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")

#: Sentences the app writes outside the engine (prior-period adjustments, clawbacks, reversals, conversions).
APP_SENTENCES = [
    "Prior-period adjustment for 2026-Q1, deal D-7 Acme renewal: 1,250.00 USD",
    "Prior-period adjustment for 2026-Q1, quota change (bookings: 100,000.00 USD → 90,000.00 USD): -300.00 USD",
    "Prior-period adjustment for 2026-Q1, plan assignment change (AE 2026): 1,200.00 USD",
    "Prior-period adjustment for 2026-Q1, campaign WEB-7 created: 40.00 USD",
    "Prior-period adjustment for 2026-Q1, campaign WEB-7 re-owned: -40.00 USD",
    "Prior-period adjustment for 2026-Q1, exchange rates EUR to USD from 2026-01-01: 1.0850: 12.00 USD",
    "Clawback for 2026-Q1: deal D-9 Globex cancelled on 2026-04-02: -4,750.00 USD",
    "Clawback for 2026-Q1: deal D-9 Globex cancelled on 2026-04-02: -4,750.00 USD (draw balance out of 2026-Q1: "
    "7,000.00 USD → 6,920.00 USD)",
    "Prior-period adjustment for 2026-Q1, deal D-7 Acme: 80.00 USD (draw balance out of 2026-Q1: 7,000.00 USD → "
    "6,920.00 USD)",
    "Reverses: D-2 Deal: 45000.00 at 10% (tier 1, up to 100% of quota) = 4500.00 (entered twice)",
    "D-5 Kyoto: 10850.00 at 10% (tier 1, up to 100% of quota) = 1085.00 (converted: 10,000.00 EUR at 1.0850 = "
    "10,850.00 USD)",
]


def calculator_sentences(folder: Path) -> list[str]:
    code, out, _ = run_calc(folder, as_json=True)
    assert code in (0, 1)
    return [
        line["text"]
        for payee in json.loads(out)["payees"]
        for component in payee.get("components", [])
        for line in component["lines"]
    ]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Every sentence the calculator writes on the spec's example (when it is beside the checkout) and the two variety cases (retroactive, per-deal
    and count tiers, SPIFFs with a rate, a curve, capped overrides, team credit, draws, splits), one per form."""
    texts = calculator_sentences(SPEC_EXAMPLE) if SPEC_EXAMPLE.exists() else []  # beside the checkout, if it is
    for which in ("A", "B"):
        folder = tmp_path_factory.mktemp(f"variety-{which}")
        write_variety(folder, which)
        texts += calculator_sentences(folder)
    forms: dict[str, str] = {}
    for text in texts + APP_SENTENCES:
        forms.setdefault(NUMBER.sub("N", text), text)
    return list(forms.values())


def test_every_sentence_written_is_in_a_known_form(written: list[str]) -> None:
    assert len(written) > 40
    assert [text for text in written if not is_known_sentence(text)] == []


@pytest.mark.parametrize("locale", ["ms", "th"])
def test_a_translated_sentence_keeps_every_figure_and_drops_the_english(written: list[str], locale: str) -> None:
    english_words = re.compile(
        r"\b(credited|share|tier|quota|months|Attainment|no bonus|capped|earned|[Dd]raw|Clawback|converted)\b"
    )
    with using_locale(locale):
        for text in written:
            shown = sentence_in_language(text)
            assert Counter(NUMBER.findall(shown)) == Counter(NUMBER.findall(text)), (text, shown)
            label, _, _ = text.partition(": ")
            body = shown.removeprefix(label) if shown.startswith(label + ": ") else shown
            assert not english_words.search(body), (text, shown)


@pytest.mark.parametrize(
    ("stored", "ms", "th"),
    [
        (
            "D-1 Acme: 60000.00 at 10% (tier 1, up to 100% of quota) = 6000.00",
            "D-1 Acme: 60000.00 pada kadar 10% (peringkat 1, sehingga 100% kuota) = 6000.00",
            "D-1 Acme: 60000.00 ที่อัตรา 10% (ขั้น 1, ไม่เกิน 100% ของโควตา) = 6000.00",
        ),
        (
            "D-2 Deal: 40000.00 at 10% (tier 1) + 5000.00 at 15% (tier 2, 100%-150%) = 4750.00",
            "D-2 Deal: 40000.00 pada kadar 10% (peringkat 1) + 5000.00 pada kadar 15% (peringkat 2, 100%-150%) = 4750.00",
            "D-2 Deal: 40000.00 ที่อัตรา 10% (ขั้น 1) + 5000.00 ที่อัตรา 15% (ขั้น 2, 100%-150%) = 4750.00",
        ),
        (
            "D-3 A: b: 12000.00 of 30000.00 credited to ana@x.com 40% at 1% = 120.00",  # a name holding ": "
            "D-3 A: b: 12000.00 daripada 30000.00 dikreditkan kepada ana@x.com 40% pada kadar 1% = 120.00",
            "D-3 A: b: 12000.00 จาก 30000.00 เครดิตให้ ana@x.com 40% ที่อัตรา 1% = 120.00",
        ),
        (
            "D-4 Big: 36 months, Enterprise, renewal: SPIFF 300.00 (60% of 500.00) = 300.00",
            "D-4 Big: 36 bulan, Enterprise, pembaharuan: SPIFF 300.00 (60% daripada 500.00) = 300.00",
            "D-4 Big: 36 เดือน, Enterprise, ต่ออายุ: SPIFF 300.00 (60% จาก 500.00) = 300.00",
        ),
        (
            "Attainment 95.00% < 100%: no bonus (2500.00 at 100%)",
            "Pencapaian 95.00% < 100%: tiada bonus (2500.00 pada 100%)",
            "ผลสำเร็จ 95.00% < 100%: ไม่ได้รับโบนัส (2500.00 เมื่อถึง 100%)",
        ),
        (
            "Commission capped at 60000.00 (earned 79330.00): -19330.00",
            "Commission dihadkan pada 60000.00 (diperoleh 79330.00): -19330.00",
            "Commission ถูกจำกัดเพดานที่ 60000.00 (ได้รับ 79330.00): -19330.00",
        ),
        (
            "Clawback for 2026-Q1: deal D-9 Globex cancelled on 2026-04-02: -4,750.00 USD",
            "Tuntutan balik untuk 2026-Q1: urus niaga D-9 Globex dibatalkan pada 2026-04-02: -4,750.00 USD",
            "เรียกคืนสำหรับ 2026-Q1: ดีล D-9 Globex ถูกยกเลิกเมื่อ 2026-04-02: -4,750.00 USD",
        ),
    ],
)
def test_sentences_in_malay_and_thai(stored: str, ms: str, th: str) -> None:
    with using_locale("ms"):
        assert sentence_in_language(stored) == ms
    with using_locale("th"):
        assert sentence_in_language(stored) == th
    with using_locale("en"):
        assert sentence_in_language(stored) == stored


def test_text_in_no_known_form_is_shown_as_stored() -> None:
    reason = "Correction agreed with Mia: 250 for the Q1 offsite"  # a finance adjustment's reason
    with using_locale("ms"):
        assert not is_known_sentence(reason)
        assert sentence_in_language(reason) == reason
        assert shown_sentence(None) == ""
        # A reversal of a line in no known form still translates its own words, and keeps the line as it was.
        assert sentence_in_language(f"Reverses: {reason} (typo)") == f"Membalikkan: {reason} (typo)"


def test_a_malay_statement_page_shows_lines_in_malay_and_the_api_stays_english(
    client: TestClient[Any], engine: Engine, make_person: Any
) -> None:
    setup(client, engine, make_person)
    with transaction(engine) as session:
        ana = session.exec(select(Person).where(Person.email == "ana@example.com")).one()
        ana.locale = "ms"
    sign_in(client, "ana@example.com")
    page = html.unescape(client.get("/statements/ana@example.com?period=2026-Q1").text)
    assert (
        "D-2 D-2 deal: 40,000.00 pada kadar 10% (peringkat 1) + 5,000.00 pada kadar 15% (peringkat 2, 100%-150%)"
        in page
    )
    assert "Pencapaian 105.00% >= 100%: bonus 2,500.00" in page
    assert "(tier 1" not in page
    body = client.get(
        "/api/v1/statements/ana@example.com?period=2026-Q1", headers=token_for(engine, "rep", "ana@example.com")
    ).json()
    texts = [line["text"] for c in body["components"] for line in c["lines"]]
    assert "D-2 D-2 deal: 40000.00 at 10% (tier 1) + 5000.00 at 15% (tier 2, 100%-150%) = 4750.00" in texts
