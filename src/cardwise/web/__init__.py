"""Server-rendered pages (Jinja2) on the one FastAPI app: customer pages, back office, analyst portal.

URL scheme (no language in the path):

- ``/home``: the signed-in person's start page by role (``/`` redirects here); ``/login``, ``/logout``
  (POST, CSRF); ``/lang/{ko|en}?next=/path``: the language switch;
- ``/my/...``: customer pages (web-A: ``customer.py``);
- ``/backoffice/...``, ``/agent/...``: back office and the agent's single view (web-B);
- ``/analyst/...``: the analyst portal (web-B);
- ``/static/...``: CSS, the pages' small script, ``/static/plotly.min.js`` (from the plotly package, no CDN).

Language: Korean by default. The ``lang`` cookie (``ko`` or ``en``) chooses; ``?lang=en`` on any page
switches for that request and stores the cookie; ``/lang/en?next=…`` does the same and redirects back.
Every visible string goes through one Babel catalog (``locale/{ko,en}/LC_MESSAGES/messages.po``): msgids
are English, ``ko`` holds the Korean text. After adding strings: ``cardwise web i18n`` (extracts from
``web/**.py`` and ``web/templates/**.html``, updates both .po files, compiles the .mo files);
``cardwise web i18n --check`` fails when a msgid is untranslated or a .mo is stale (a test runs it).

Adding a page (web-B):

1. a module ``web/<area>.py`` with ``router = APIRouter(dependencies=[Depends(page_lang)])`` (``page_lang``
   from ``web/deps.py`` sets the request's language before your view runs); routes are plain FastAPI routes under your
   prefix, returning :func:`cardwise.web.templating.render` (``render(request, "area/page.html",
   principal=p, title=N_("…"), **context)``); include it in ``ROUTERS`` in ``web/app.py``;
2. who may see it: a dependency from ``web/deps.py`` — ``PageUser`` (any signed-in person; no session →
   303 to ``/login?next=…``), ``CustomerUser`` (a customer), ``page_permission("backoffice.read")``
   (a permission from ``security/permissions.yaml``; 403 page otherwise);
3. templates under ``web/templates/<area>/`` extend ``base.html`` (blocks ``title`` and ``content``;
   exactly one ``<h1>``); forms carry ``{{ csrf }}`` (the hidden CSRF field; checked on every POST);
4. navigation: add a :class:`cardwise.web.nav.NavItem` to ``NAV`` in ``web/nav.py`` (label marked
   with ``N_``, the roles that see it);
5. strings: ``{% trans %}…{% endtrans %}`` / ``{{ _("…") }}`` in templates, ``N_("…")`` or ``gettext``
   from ``web/i18n.py`` in code; then ``cardwise web i18n`` and fill the Korean (and English) msgstr;
6. filters: ``won`` (₩1,234,000), ``day`` (2023.10.31), ``moment`` (2023.10.31 14:05, Asia/Seoul),
   ``card`` (•••• 1234), ``pct``; ``loc(obj, "name")`` picks ``name_ko``/``name_en`` for the language;
7. charts: build a ``plotly.graph_objects.Figure`` server-side, pass ``chart_json(fig)`` to the template
   and put ``<div class="chart" data-figure="{{ fig }}" role="img" aria-label="…"></div>``; the page
   script renders it with the local plotly.min.js (include ``{% block scripts %}{{ plotly_script() }}``);
8. a bench entry in ``bench/pages.py`` (every page ≤ 300 ms server time on seed002).

Pages call the domain services in-process (never the HTTP API), commit once per request and show bad
input on the form again (422 with the message), never a 500. Card numbers are never shown: token + last
four digits.
"""
