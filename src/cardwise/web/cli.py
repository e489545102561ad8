"""``cardwise web …``: the pages' message catalog."""

from __future__ import annotations

import typer

web_app = typer.Typer(help="Web pages: the Korean/English message catalog.", no_args_is_help=True)


@web_app.command("i18n")
def i18n(
    check: bool = typer.Option(False, "--check", help="Change nothing; exit 1 if a msgid is untranslated or stale."),
) -> None:
    """Extract the pages' strings into locale/{ko,en}/LC_MESSAGES/messages.po and compile the .mo files."""
    from cardwise.web import catalog

    report = catalog.check() if check else catalog.update()
    for line in report.lines():
        typer.echo(line, err=True)
    if not report.ok:
        raise typer.Exit(1)
    typer.echo("catalog complete: " + ", ".join(str(catalog.po_path(lang)) for lang in ("ko", "en")))
