"""Interface language: gettext catalogs (Babel) and the locale of the request being served.

Text on pages is written in English inside ``{{ _("...") }}`` / ``{% trans %}`` in templates and
``gettext("...")`` in Python; the catalogs in ``commissions/locales/<locale>/LC_MESSAGES/messages.po``
translate it. The locale of a request is chosen once (the person's setting, else the browser's
``Accept-Language``, else English) and kept in a context variable for the request, so templates and
Python code read the same one. Figures are formatted for that locale by ``core.formatting``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LOCALE = "en"
#: The interface languages we ship, with their names in their own language (the setting's choices).
SUPPORTED_LOCALES: dict[str, str] = {"en": "English", "ms": "Bahasa Melayu", "th": "ไทย"}

_current: ContextVar[str] = ContextVar("quotaboard_locale", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _current.get()


def set_locale(locale: str) -> None:
    """The locale for the rest of this request (an unsupported one falls back to English)."""
    _current.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)


@contextmanager
def using_locale(locale: str) -> Iterator[None]:
    """Render something (an email, a test) in ``locale``, then restore the previous one."""
    token = _current.set(locale if locale in SUPPORTED_LOCALES else DEFAULT_LOCALE)
    try:
        yield
    finally:
        _current.reset(token)


def catalog_path(locale: str) -> Path:
    return LOCALES_DIR / locale / "LC_MESSAGES" / "messages.po"


@cache
def translations(locale: str) -> NullTranslations:
    """The locale's catalog, compiled from its ``.po`` in memory once per process (no ``.mo`` is shipped).

    English is the source language: its text is the msgid itself. A missing catalog falls back to it too.
    """
    path = catalog_path(locale)
    if locale == DEFAULT_LOCALE or not path.is_file():
        return NullTranslations()
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain="messages")
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)  # a fuzzy entry is a guess: shown in English until checked
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def negotiate(accept_language: str | None) -> str | None:
    """The supported locale a browser's ``Accept-Language`` prefers (``ms-MY,ms;q=0.9`` -> ``ms``), or None."""
    if not accept_language:
        return None
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate(accept_language.split(",")[:20]):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and tag != "*" and quality > 0:
            wanted.append((-quality, index, tag.strip()))
    preferred = [tag.replace("_", "-") for _, _, tag in sorted(wanted)]
    found = Locale.negotiate(preferred, list(SUPPORTED_LOCALES), sep="-")
    if found is not None:
        return str(found)
    for tag in preferred:  # "ms-MY" when only "ms" is supported: Babel's negotiate matches the language too,
        language = tag.split("-")[0].lower()  # but be sure
        if language in SUPPORTED_LOCALES:
            return language
    return None


def choose_locale(setting: str | None, accept_language: str | None) -> str:
    """The request's locale: the person's setting, else the browser's choice, else English."""
    if setting:
        try:
            language = Locale.parse(setting.replace("-", "_")).language
        except (ValueError, UnknownLocaleError):
            language = ""
        if setting in SUPPORTED_LOCALES:
            return setting
        if language in SUPPORTED_LOCALES:
            return language
    return negotiate(accept_language) or DEFAULT_LOCALE


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(translations(_current.get()).pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return str(translations(_current.get()).npgettext(context, singular, plural, n))


def N_(message: str) -> str:
    """Marks text for the catalogs where it is defined (a table, a constant); it is translated where shown."""
    return message


def Nn_(singular: str, plural: str) -> tuple[str, str]:
    """Marks a singular/plural pair for the catalogs; ``ngettext(*pair, n)`` translates it where shown."""
    return singular, plural


#: Keywords the extraction looks for besides gettext's own (``make messages``, tests/core/test_translations.py).
EXTRA_KEYWORDS: dict[str, tuple[int, ...] | None] = {"N_": None, "Nn_": (1, 2)}

_ = gettext
