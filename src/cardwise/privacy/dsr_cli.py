"""`cardwise privacy …`: data-subject requests, export, erasure, key rotation, retention."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.table import Table as RichTable
from sqlalchemy import Engine

from cardwise.config import get_settings

privacy_app = typer.Typer(
    help="Privacy: data-subject requests, export, erasure, key rotation, retention.", no_args_is_help=True
)
console = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def _engine() -> Engine:
    from cardwise.db.engine import engine_for

    return engine_for(get_settings())


@privacy_app.command("new-key")
def new_key() -> None:
    """Print a fresh random key for CARDWISE_PII_KEYS (put it first in the list, then rotate-keys)."""
    from cardwise.privacy.crypto import new_key as make

    out.print(make())


@privacy_app.command("requests")
def requests(all_: Annotated[bool, typer.Option("--all", help="Closed requests too.")] = False) -> None:
    """Data-subject requests, open ones by deadline (overdue first)."""
    from sqlalchemy.orm import Session

    from cardwise.db.types import utcnow
    from cardwise.privacy import dsr

    engine = _engine()
    try:
        with Session(engine) as session:
            listed = dsr.list_requests(session, now=utcnow(), open_only=not all_, limit=10_000)
            table = RichTable("id", "kind", "status", "customer", "received", "due", "days left")
            for x in listed:
                r = x.request
                left = f"[red]{x.days_left}[/red]" if x.overdue else str(x.days_left)
                table.add_row(
                    str(r.request_id),
                    f"{r.kind} ({dsr.KIND_KO[r.kind]})",
                    r.status,
                    str(r.customer_id) if r.customer_id is not None else "(erased)",
                    f"{r.received_at:%Y-%m-%d}",
                    f"{r.due_at:%Y-%m-%d}",
                    left if r.status in ("received", "in_progress") else "-",
                )
    finally:
        engine.dispose()
    out.print(table)
    console.print(f"{len(listed)} requests, {sum(x.overdue for x in listed)} overdue")


@privacy_app.command("export")
def export(
    customer_id: Annotated[int, typer.Argument(help="Customer number.", min=1)],
    to: Annotated[Path | None, typer.Option("--out", help="JSON file (default: standard output).")] = None,
) -> None:
    """Everything held about a customer as JSON (the access right): database, lake, contacts in clear."""
    from cardwise.db.types import utcnow
    from cardwise.privacy.dsr_export import dumps, export_customer
    from cardwise.security.events import emit

    settings = get_settings()
    engine = _engine()
    try:
        with engine.connect() as conn:
            document = export_customer(conn, settings.lake_dir, customer_id, now=utcnow())
    finally:
        engine.dispose()
    if not document["database"].get("customers"):
        _fail(f"customer {customer_id} not found")
    emit("dsr_access_exported", outcome="success", user="cli", detail={"tables": len(document["database"])})
    text = dumps(document)
    if to is None:
        out.print(text, markup=False, highlight=False)
    else:
        to.parent.mkdir(parents=True, exist_ok=True)
        to.write_text(text + "\n", encoding="utf-8")
        console.print(f"export written to {to}")


@privacy_app.command("erase")
def erase(
    customer_id: Annotated[int, typer.Argument(help="Customer number.", min=1)],
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the erasure cannot be undone.")] = False,
) -> None:
    """Erase a customer everywhere (database, lake, marts, reports, logs); legally kept records are anonymised."""
    from cardwise.db.engine import session_scope
    from cardwise.db.types import utcnow
    from cardwise.privacy import dsr, erasure
    from cardwise.security.events import emit

    if not yes:
        _fail("erasure cannot be undone; pass --yes to confirm")
    settings = get_settings()
    engine = _engine()
    try:
        with session_scope(engine) as session:
            db = erasure.erase_in_db(session.connection(), customer_id, now=utcnow())
            files = dsr.erase_files(settings, [customer_id])
    finally:
        engine.dispose()
    emit("dsr_deletion_completed", outcome="success", user="cli", detail={"kept": db["kept"]})
    deleted = sum(db["deleted"].values())
    console.print(
        f"erased: {deleted:,} database rows, {sum(files['lake'].values()):,} lake rows, "
        f"{files['marts_rows']:,} mart rows, {files['log_lines']:,} log lines; "
        f"kept anonymised: {db['kept'] or 'nothing'}"
    )


@privacy_app.command("rotate-keys")
def rotate_keys(
    batch: Annotated[int, typer.Option(help="Rows per transaction.", min=1, max=100_000)] = 1_000,
) -> None:
    """Re-encrypt every sealed value under the first of CARDWISE_PII_KEYS (and the lake's identity table)."""
    from cardwise.lake.store import MANIFEST
    from cardwise.privacy.crypto import current, rotate_db, rotate_lake

    settings = get_settings()
    engine = _engine()
    try:
        done = rotate_db(engine, batch=batch)
    finally:
        engine.dispose()
    lake_rows = rotate_lake(settings.lake_dir) if (settings.lake_dir / MANIFEST).exists() else 0
    console.print(
        f"key {current().current_id}: {sum(done.values()):,} database values re-sealed "
        f"({', '.join(f'{k} {v:,}' for k, v in done.items()) or 'none stale'}), {lake_rows:,} lake identity rows"
    )


@privacy_app.command("retention")
def retention(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be destroyed; change nothing.")] = False,
    now: Annotated[str | None, typer.Option(help="Pretend it is this moment (ISO, with a zone).")] = None,
    include_synthetic: Annotated[
        bool, typer.Option("--include-synthetic", help="Also the generated files of a synthetic lake.")
    ] = False,
) -> None:
    """Destroy what is past its retention period (privacy/retention.yaml), or show it with --dry-run."""
    from cardwise.db.engine import session_scope
    from cardwise.db.types import utcnow
    from cardwise.privacy.retention import RetentionPolicyError, load_policy, run_retention

    settings = get_settings()
    try:
        policy = load_policy(settings.retention_policy_path)
        moment = datetime.fromisoformat(now) if now else utcnow()
    except (RetentionPolicyError, ValueError) as exc:
        _fail(str(exc))
    if moment.tzinfo is None:
        _fail("--now needs a time zone, e.g. 2026-01-01T00:00:00+09:00")
    engine = _engine()
    try:
        with session_scope(engine) as session:
            done = run_retention(
                session.connection(),
                policy=policy,
                now=moment,
                lake=settings.lake_dir,
                log_dir=settings.log_dir,
                dry_run=dry_run,
                include_synthetic=include_synthetic,
            )
    finally:
        engine.dispose()
    table = RichTable("kind", "where", "place", "cutoff", "would destroy" if dry_run else "destroyed")
    for d in done:
        table.add_row(d.kind, d.location, d.place, f"{d.cutoff:%Y-%m-%d}", f"{d.rows:,}")
    out.print(table)
