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
from pathlib import Path

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


@cache
def translations(locale: str) -> NullTranslations:
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(LOCALES_DIR), [locale], domain="messages")


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(translations(_current.get()).pgettext(context, message))


def npgettext(context: str, singular: str, plural: str, n: int) -> str:
    return str(translations(_current.get()).npgettext(context, singular, plural, n))


_ = gettext
