"""The pages' message catalog: extraction, update, compilation and the check the tests run.

``cardwise web i18n`` extracts every marked string (``_``, ``gettext``, ``ngettext``, ``N_`` in
``web/**.py``; ``{% trans %}`` and ``_()`` in ``web/templates/**.html``), merges them into
``locale/{ko,en}/LC_MESSAGES/messages.po`` (new msgids arrive with an empty msgstr, removed ones are
dropped) and compiles the ``.mo`` files. ``--check`` changes nothing and lists what is wrong.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from cardwise import __version__
from cardwise.web.i18n import DOMAIN, LANGS, LOCALE_DIR

WEB_DIR = Path(__file__).parent
METHOD_MAP = [("**.py", "python"), ("templates/**.html", "jinja2.ext:babel_extract")]
OPTIONS_MAP = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None}


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def mo_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"


def extract() -> Catalog:
    """Every msgid the pages use, with where it is used."""
    template = Catalog(project="cardwise", domain=DOMAIN)
    for filename, lineno, message, comments, context in extract_from_dir(
        str(WEB_DIR), METHOD_MAP, OPTIONS_MAP, keywords=KEYWORDS, strip_comment_tags=True
    ):
        if filename.startswith(("locale", "static")):
            continue
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def _read(lang: str) -> Catalog:
    path = po_path(lang)
    if not path.exists():
        return Catalog(
            locale=lang,
            domain=DOMAIN,
            project="cardwise",
            version=__version__,
            copyright_holder="cardwise contributors",
            msgid_bugs_address="https://github.com/cardwise/cardwise/issues",
            fuzzy=False,
        )
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


def compiled(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog)
    return out.getvalue()


def _po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=120, ignore_obsolete=True, include_previous=False, include_lineno=False)
    return out.getvalue()


@dataclass
class Report:
    untranslated: dict[str, list[str]] = field(default_factory=dict)  # lang -> msgids
    missing: dict[str, list[str]] = field(default_factory=dict)  # used in code, absent from the .po
    stale_mo: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (any(self.untranslated.values()) or any(self.missing.values()) or self.stale_mo)

    def lines(self) -> list[str]:
        out = [f"{lang}: no entry for {m!r}" for lang, ms in self.missing.items() for m in ms]
        out += [f"{lang}: untranslated {m!r}" for lang, ms in self.untranslated.items() for m in ms]
        out += [
            f"{lang}: {mo_path(lang).name} is not the compiled .po (run cardwise web i18n)" for lang in self.stale_mo
        ]
        return out


def _key(message_id: object) -> str:
    return message_id[0] if isinstance(message_id, tuple) else str(message_id)


def check() -> Report:
    """What is missing, untranslated or not compiled; changes nothing."""
    used = {_key(m.id) for m in extract() if m.id}
    report = Report()
    for lang in LANGS:
        catalog = _read(lang)
        present = {_key(m.id): m for m in catalog if m.id}
        report.missing[lang] = sorted(used - set(present))
        report.untranslated[lang] = sorted(
            k
            for k, m in present.items()
            if k in used and (not m.string or m.fuzzy or (isinstance(m.string, tuple) and not all(m.string)))
        )
        mo = mo_path(lang)
        if not mo.exists() or mo.read_bytes() != compiled(catalog):
            report.stale_mo.append(lang)
    return report


def update() -> Report:
    """Merge the extracted msgids into both .po files, write them and compile the .mo files."""
    template = extract()
    for lang in LANGS:
        catalog = _read(lang)
        created, revised = catalog.creation_date, catalog.revision_date
        catalog.update(template, no_fuzzy_matching=True, update_header_comment=False)
        catalog.creation_date, catalog.revision_date = created, revised  # no churn in the header
        po_path(lang).parent.mkdir(parents=True, exist_ok=True)
        po_path(lang).write_bytes(_po_bytes(catalog))
        with po_path(lang).open("rb") as f:
            written = read_po(f, locale=lang, domain=DOMAIN)
        mo_path(lang).write_bytes(compiled(written))
    return check()
