"""The interface in English, Malay and Thai (issue 17): every extracted string translated in every catalog,
placeholders kept, the catalogs compiling; the request's language from the person's setting, else the
browser's; the choice saved on the account page; figures and dates formatted by Babel for the locale."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Any, cast

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal
from babel.numbers import format_percent as babel_percent
from litestar.testing import TestClient
from sqlalchemy import Engine
from sqlmodel import select

from commissions.app.language import locale_for
from commissions.core import i18n
from commissions.core.db import transaction
from commissions.core.formatting import (
    format_count,
    format_date,
    format_measure,
    format_money,
    format_percent,
    metric_name,
    metric_words,
)
from commissions.models import AuditEvent, Person
from tests.conftest import csrf_from, read, sign_in

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in i18n.SUPPORTED_LOCALES if code != i18n.DEFAULT_LOCALE]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdif]|%[sdif]")


def _extracted() -> dict[str, tuple[str, ...]]:
    """Every msgid in the current sources (as `make messages` extracts them): msgid -> (singular, plural?)."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)  # type: ignore[no-untyped-call]
    keywords = {**DEFAULT_KEYWORDS, **i18n.EXTRA_KEYWORDS}
    found: dict[str, tuple[str, ...]] = {}
    for _, _, message, _, _ in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords):
        ids = (message,) if isinstance(message, str) else tuple(m for m in message if m)
        found[ids[0]] = ids
    return found


@pytest.fixture(scope="module")
def extracted() -> dict[str, tuple[str, ...]]:
    return _extracted()


def _catalog(locale: str):  # type: ignore[no-untyped-def]
    with i18n.catalog_path(locale).open("rb") as po:
        return read_po(po, locale=locale)


def _placeholders(text: str) -> Counter[str]:
    return Counter(match.group(0) for match in PLACEHOLDER.finditer(text.replace("%%", "")))


def test_the_sources_have_interface_text_to_translate(extracted: dict[str, tuple[str, ...]]) -> None:
    assert len(extracted) > 50
    assert "Change your password" in extracted  # a template
    assert "Leaderboard" in extracted  # a nav label marked with N_ in leaderboard/
    assert extracted["%(num)s deal"] == ("%(num)s deal", "%(num)s deals")  # a plural marked with Nn_


@pytest.mark.parametrize("locale", TRANSLATED)
def test_every_extracted_string_is_translated_without_fuzzy_entries(
    locale: str, extracted: dict[str, tuple[str, ...]]
) -> None:
    catalog = _catalog(locale)
    missing, fuzzy = [], []
    for msgid, ids in extracted.items():
        message = catalog.get(ids if len(ids) > 1 else msgid)
        strings = message.string if message is not None else ""
        strings = strings if isinstance(strings, tuple) else (strings,)
        if message is None or not all(s.strip() for s in strings):
            missing.append(msgid)
        elif message.fuzzy:
            fuzzy.append(msgid)
    assert missing == [], f"{locale}: {len(missing)} untranslated (run `make messages` and translate): {missing[:10]}"
    assert fuzzy == [], f"{locale}: fuzzy entries (check, then drop the flag): {fuzzy[:10]}"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_translations_keep_every_placeholder_of_their_msgid(locale: str) -> None:
    wrong = []
    for message in _catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(_placeholders(ids[-1])) | set(_placeholders(ids[0]))
        for text in strings:
            if text and set(_placeholders(text)) != wanted:
                wrong.append((ids[0], text))
    assert wrong == []


@pytest.mark.parametrize("locale", TRANSLATED)
def test_the_catalogs_compile_and_are_read_from_the_po_files(locale: str) -> None:
    compiled = BytesIO()
    write_mo(compiled, _catalog(locale))
    assert compiled.getvalue()
    assert not list((ROOT / "commissions" / "locales").rglob("*.mo"))  # compiled in memory, never committed
    with i18n.using_locale(locale):
        assert i18n.gettext("Change your password") != "Change your password"
        assert i18n.gettext("Change your password") == _catalog(locale).get("Change your password").string


def test_the_pot_file_is_up_to_date(extracted: dict[str, tuple[str, ...]]) -> None:
    with (ROOT / "commissions" / "locales" / "messages.pot").open("rb") as pot:
        template = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(pot) if m.id}
    assert template == set(extracted), "run `make messages`"


# ---- the request's language ---------------------------------------------------------------------


def test_the_locale_is_the_persons_setting_else_the_browsers_else_english() -> None:
    assert i18n.negotiate("ms-MY,ms;q=0.9") == "ms"
    assert i18n.negotiate("de-DE, th;q=0.5, en;q=0.4") == "th"
    assert i18n.negotiate("fr-FR") is None
    assert i18n.choose_locale("th", "ms") == "th"
    assert i18n.choose_locale("ms-MY", None) == "ms"
    assert i18n.choose_locale("fr", "th-TH") == "th"  # a language we do not ship: the browser's choice
    assert i18n.choose_locale(None, None) == "en"


def test_the_api_answers_in_english_whatever_the_browser_asks() -> None:
    def scope(path: str) -> Any:
        return cast(Any, {"path": path, "headers": [(b"accept-language", b"th")]})

    assert locale_for(scope("/api/v1/me")) == "en"
    assert locale_for(scope("/scim/v2/Users")) == "en"
    assert locale_for(scope("/deals")) == "th"


def _set_locale(engine: Engine, email: str, locale: str | None) -> None:
    with transaction(engine) as session:
        person = session.exec(select(Person).where(Person.email == email)).one()
        person.locale = locale
        session.add(person)


def test_a_page_is_in_thai_for_a_person_whose_language_is_thai(client: TestClient[Any], make_person, engine) -> None:  # type: ignore[no-untyped-def]
    make_person("somchai@example.com")
    _set_locale(engine, "somchai@example.com", "th")
    sign_in(client, "somchai@example.com")
    page = client.get("/account/password", headers={"Accept-Language": "ms"})  # the setting wins
    assert page.status_code == 200
    assert '<html lang="th">' in page.text
    assert "<h1>เปลี่ยนรหัสผ่านของคุณ</h1>" in page.text
    assert ">ออกจากระบบ</button>" in page.text  # the header
    assert ">หน้าแรก</a>" in page.text  # a nav label
    assert "Change your password" not in page.text
    help_page = client.get("/help/figures")
    assert "<h1>ความหมายของตัวเลข</h1>" in help_page.text
    assert "What the figures mean" not in help_page.text
    deals = client.get("/deals")
    assert deals.status_code == 200
    assert "บันทึกดีล" in deals.text  # "Record a deal"
    assert '<option value="won">ปิดได้</option>' in deals.text  # a stored word: its value stays, its label is Thai


def test_a_page_is_in_malay_when_the_browser_asks_for_it(client: TestClient[Any], make_person) -> None:  # type: ignore[no-untyped-def]
    make_person("aminah@example.com")
    sign_in(client, "aminah@example.com")
    page = client.get("/account/password", headers={"Accept-Language": "ms-MY,ms;q=0.9"})
    assert '<html lang="ms">' in page.text
    assert "<h1>Tukar kata laluan anda</h1>" in page.text
    assert ">Log keluar</button>" in page.text
    english = client.get("/account/password")  # the next request without the header: English again
    assert '<html lang="en">' in english.text
    assert "<h1>Change your password</h1>" in english.text


def test_the_account_page_saves_the_language_with_a_confirmation(client: TestClient[Any], make_person, engine) -> None:  # type: ignore[no-untyped-def]
    make_person("ana@example.com")
    sign_in(client, "ana@example.com")
    before = client.get("/account/password")
    assert '<option value="" selected>' in before.text  # the browser's choice until one is made
    assert '<option value="th" lang="th">ไทย</option>' in before.text

    saved = client.post(
        "/account/language/", data={"locale": "th", "_csrf_token": csrf_from(client)}, follow_redirects=False
    )
    assert saved.status_code in (302, 303)
    assert saved.headers["location"] == "/account/password?language=saved"
    page = client.get(saved.headers["location"])
    assert '<html lang="th">' in page.text
    assert "บันทึกภาษาของคุณแล้ว" in page.text  # the confirmation, in the new language
    assert '<option value="th" lang="th" selected>' in page.text
    person = read(engine, lambda s: s.exec(select(Person).where(Person.email == "ana@example.com")).one())
    assert person.locale == "th"
    event = read(engine, lambda s: s.exec(select(AuditEvent).where(AuditEvent.action == "person.locale_changed")).one())
    assert event.detail == {"from": None, "to": "th"}

    refused = client.post("/account/language/", data={"locale": "xx", "_csrf_token": csrf_from(client)})
    assert refused.status_code == 400
    assert "เลือกภาษาจากรายการ" in refused.text
    assert read(engine, lambda s: s.exec(select(Person).where(Person.email == "ana@example.com")).one()).locale == "th"

    client.post("/account/language/", data={"locale": "", "_csrf_token": csrf_from(client)})
    back = client.get("/account/password")
    assert '<html lang="en">' in back.text
    assert read(engine, lambda s: s.exec(select(Person).where(Person.email == "ana@example.com")).one()).locale is None


# ---- figures and dates --------------------------------------------------------------------------


def test_english_figures_look_as_they_always_did() -> None:
    with i18n.using_locale("en"):
        assert format_money(25_850_000, "USD") == "258,500.00 USD"
        assert format_money(-1_234_567, "EUR") == "-12,345.67 EUR"
        assert format_money(80_000, "JPY") == "80,000 JPY"
        assert format_percent(1_395_500) == "139.6%"
        assert format_percent(1_395_490) == "139.5%"
        assert format_percent(None) == "–"
        assert format_count(700, ("deal", "deals")) == "7 deals"
        assert format_count(100, ("deal", "deals")) == "1 deal"
        assert format_count(250) == "2.5"
        assert format_measure(1_234_500, "deals") == "12,345 deals"
        assert format_date(dt.date(2026, 12, 2)) == "Dec\u00a02,\u00a02026"


@pytest.mark.parametrize(
    ("locale", "day", "deals", "bookings"),
    [
        ("ms", "2\u00a0Dis\u00a02026", "7 urus niaga", "Tempahan"),
        ("th", "2\u00a0ธ.ค.\u00a02026", "7 ดีล", "ยอดจอง"),
    ],
)
def test_figures_dates_and_metric_names_follow_the_locale(locale: str, day: str, deals: str, bookings: str) -> None:
    with i18n.using_locale(locale):
        # Malay and Thai write Latin digits with the same separators as English (Babel's CLDR data)
        assert format_money(25_850_000, "USD") == "258,500.00 USD"
        assert format_percent(1_395_500) == "139.6%"
        assert format_date(dt.date(2026, 12, 2)) == day
        assert format_date("2026-12-02") == day
        assert " " not in format_date(dt.date(2026, 12, 2))  # never wraps
        assert format_count(700, ("deal", "deals")) == deals
        assert metric_name("bookings") == bookings
        assert metric_words("bookings") != i18n.N_(
            "bookings: the amounts of won deals your plan credits to you in the period, after its credit rules"
        )
    assert format_date(dt.date(2026, 12, 2), locale=locale) == day


@pytest.mark.parametrize("locale", ["en", "ms", "th", "de", "fr", "ar"])
def test_figures_are_what_babel_writes_for_the_same_patterns(locale: str) -> None:
    """The fast path (Python's grouping, the locale's symbols from Babel) equals Babel's own formatting,
    also for locales whose symbols differ from English (de: 1.234,5; fr: narrow spaces; ar: its signs)."""
    for minor in (0, 5, -5, 123_456, -25_850_000, 100_000_000_000):
        assert format_money(minor, "USD", locale=locale) == format_currency(
            Decimal(minor) / 100, "USD", format="#,##0.00 ¤¤", locale=locale, currency_digits=False
        )
        assert format_money(minor, "JPY", locale=locale) == format_currency(
            Decimal(minor), "JPY", format="#,##0 ¤¤", locale=locale, currency_digits=False
        )
    for ppm in (0, 835_000, 1_395_500, -12_000, 123_456_789):
        assert format_percent(ppm, locale=locale) == babel_percent(
            Decimal(ppm) / 1_000_000, format="#,##0.0%", locale=locale
        )
    for hundredths in (0, 100, 250, 205, -50, 1_234_567):
        assert format_count(hundredths, locale=locale) == format_decimal(
            Decimal(hundredths) / 100, format="#,##0.##", locale=locale
        )
