"""Languages of the pages: Korean first, English on request, one Babel catalog.

The language of a request is ``?lang=`` (when valid), else the ``lang`` cookie, else Korean. Templates
and code translate through :func:`gettext`, which reads the language set for the current render.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Final, Literal

from babel.support import NullTranslations, Translations
from starlette.requests import Request

Lang = Literal["ko", "en"]
LANGS: Final[tuple[Lang, ...]] = ("ko", "en")
DEFAULT_LANG: Final[Lang] = "ko"
LANG_COOKIE: Final = "lang"
DOMAIN: Final = "messages"
LOCALE_DIR: Final = Path(__file__).with_name("locale")

_current: ContextVar[Lang] = ContextVar("cardwise_page_lang", default=DEFAULT_LANG)


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


@cache
def translations(lang: Lang) -> NullTranslations:
    return Translations.load(str(LOCALE_DIR), [lang], domain=DOMAIN)


def as_lang(value: str | None) -> Lang | None:
    if value == "ko":
        return "ko"
    if value == "en":
        return "en"
    return None


def request_lang(request: Request) -> Lang:
    return as_lang(request.query_params.get("lang")) or as_lang(request.cookies.get(LANG_COOKIE)) or DEFAULT_LANG


def set_lang(lang: Lang) -> None:
    _current.set(lang)


def current_lang() -> Lang:
    return _current.get()


def gettext(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)
