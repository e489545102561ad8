"""One Jinja2 environment for every page, with the catalog, the Korean formats and the layout's context."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from cardwise.security.principal import Principal, csrf_input
from cardwise.web import formatting
from cardwise.web.i18n import LANG_COOKIE, LANGS, as_lang, current_lang, gettext, ngettext, request_lang, set_lang
from cardwise.web.nav import items_for

TEMPLATES = Path(__file__).with_name("templates")
COOKIE_MAX_AGE = 365 * 24 * 3600
TEXT_SIZE_COOKIE = "textsize"


def _loc(obj: Any, field: str = "name") -> str:
    """``obj.name_ko`` or ``obj.name_en`` (attribute or key) for the current language, Korean as fallback."""
    lang = current_lang()

    def get(key: str) -> Any:
        return obj.get(key) if isinstance(obj, dict) else getattr(obj, key, None)

    value = get(f"{field}_{lang}") or get(f"{field}_ko") or get(field)
    return "" if value is None else str(value)


CHART_FONTS = 'system-ui, "Noto Sans KR", "Malgun Gothic", NanumGothic, sans-serif'


def chart_json(figure: Any) -> str:
    """A plotly figure as JSON for ``data-figure``; the layout is made readable and accessible here."""
    figure.update_layout(
        template="none",  # plotly's default template adds ~8 kB of colour scales to every figure
        font={"size": 16, "family": CHART_FONTS, "color": "#111"},
        paper_bgcolor="#fff",
        plot_bgcolor="#fff",
        margin={"l": 20, "r": 20, "t": 50, "b": 50},
        xaxis={"automargin": True},
        yaxis={"automargin": True},  # long labels (₩1,500,000, category names) are never cut
    )
    text: str = figure.to_json()
    return text


def _here(request: Request) -> str:
    """This page's path and query without ``lang`` (the target of the language switch)."""
    from urllib.parse import urlencode

    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "lang"])
    return request.url.path + (f"?{query}" if query else "")


def _plotly_script() -> Markup:
    return Markup('<script src="/static/plotly.min.js" defer></script><script src="/static/charts.js" defer></script>')


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        won=formatting.won,
        day=formatting.day,
        month=formatting.month,
        moment=formatting.moment,
        card=formatting.card,
        pct=formatting.pct,
    )
    env.globals.update(loc=_loc, plotly_script=_plotly_script, LANGS=LANGS, json=json.dumps)
    return env


ENV = _environment()


def render(
    request: Request,
    template: str,
    *,
    principal: Principal | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` in the request's language, with the layout's context (navigation for the
    principal's roles, the language switch, the CSRF field). ``?lang=`` also stores the cookie."""
    lang = request_lang(request)
    set_lang(lang)
    path = request.url.path
    csrf = csrf_input(request, principal) if principal is not None and principal.session_id else Markup("")
    body = ENV.get_template(template).render(
        request=request,
        lang=lang,
        other_lang="en" if lang == "ko" else "ko",
        path=path,
        here=_here(request),
        principal=principal,
        nav=items_for(principal),
        csrf=csrf,
        days_label=lambda days: formatting.days_label(days, lang),
        large_text=request.cookies.get(TEXT_SIZE_COOKIE) == "large",
        **context,
    )
    response = HTMLResponse(body, status_code=status_code, headers=headers)
    response.headers.setdefault("Cache-Control", "no-store")
    if as_lang(request.query_params.get("lang")) and request.cookies.get(LANG_COOKIE) != lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=COOKIE_MAX_AGE, path="/", samesite="lax")
    return response
