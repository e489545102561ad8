"""The `cardwise` command line. Each domain adds its command group here.

Errors a user can cause (bad sizes, an unknown preset, an unwritable directory) end in one clear
line and exit code 2, never a traceback.
"""

from __future__ import annotations

from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, Any, NoReturn

import duckdb
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table as RichTable

from cardwise.config import Settings, get_settings
from cardwise.logging import configure_logging_from
from cardwise.privacy.dsr_cli import privacy_app
from cardwise.security.auth_cli import ensure_demo_users, users_app
from cardwise.web.cli import web_app

app = typer.Typer(
    help="cardwise: customer-data and AI platform for card issuers.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
lake_app = typer.Typer(help="Inspect and validate the data lake.", no_args_is_help=True)
app.add_typer(lake_app, name="lake")
db_app = typer.Typer(help="The relational store: migrations and loading.", no_args_is_help=True)
app.add_typer(db_app, name="db")
safety_app = typer.Typer(help="Card safety: controls, pauses, lost/stolen reports.", no_args_is_help=True)
app.add_typer(safety_app, name="safety")
models_app = typer.Typer(help="Model lifecycle: registry, retraining, promotion, rollback.", no_args_is_help=True)
app.add_typer(models_app, name="models")
jobs_app = typer.Typer(
    help="The platform's scheduled jobs, run now or listed with their last runs.", no_args_is_help=True
)
app.add_typer(jobs_app, name="jobs")
ingest_app = typer.Typer(help="Near-real-time ingestion: the platform's own data into the lake.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
marketing_app = typer.Typer(
    help="Marketing: segments and grades, life stage, triggers, single view.", no_args_is_help=True
)
app.add_typer(marketing_app, name="marketing")
recommend_app = typer.Typer(
    help="Recommendations: best cards, similar members' cards, categories, merchants, merchant targets.",
    no_args_is_help=True,
)
app.add_typer(recommend_app, name="recommend")
family_app = typer.Typer(
    help="Family bundle: policy check, daily grace checks, household report.", no_args_is_help=True
)
app.add_typer(family_app, name="family")
voc_app = typer.Typer(
    help="VOC risk: churn, complaint, delinquency and card-loan models from transactions and text; campaigns.",
    no_args_is_help=True,
)
app.add_typer(voc_app, name="voc")
logs_app = typer.Typer(
    help="Logs: query the JSON log files with DuckDB, ship them to OpenSearch/Elasticsearch.", no_args_is_help=True
)
app.add_typer(logs_app, name="logs")
app.add_typer(privacy_app, name="privacy")
app.add_typer(web_app, name="web")
app.add_typer(users_app, name="users")
console = Console(stderr=True, soft_wrap=True)


def fail(message: str) -> NoReturn:
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


@app.callback()
def _setup() -> None:
    get_settings.cache_clear()  # one CLI run reads the environment once, as it is now
    try:
        settings = get_settings()
    except Exception as exc:  # invalid environment: say which variable, not a traceback
        console.print(f"[red]error:[/red] invalid configuration: {exc}")
        raise typer.Exit(2) from None
    configure_logging_from(settings)
    from cardwise.logs.app import install_cli_event_store

    install_cli_event_store(settings)  # security events of CLI jobs are stored too


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(), console=console
    )


def run_generate(
    settings: Settings, preset_name: str, seed: int, out: Path | None, overwrite: bool, customers: int | None = None
) -> Path:
    from cardwise.lake.build import build_lake
    from cardwise.lake.store import LakeError
    from cardwise.synth.presets import get_preset

    try:
        preset = get_preset(preset_name)
        if customers is not None:
            preset = preset.scaled(customers)
    except ValueError as exc:
        fail(str(exc))
    if seed < 0:
        fail("--seed must be zero or positive")
    target = out or settings.lake_dir
    steps = [
        "customers and households",
        "cards",
        "merchants",
        "transactions",
        "identities, transcripts, memos",
        "app events",
        "assembling tables",
        "writing parquet",
    ]
    error: str | None = None
    with _progress() as progress:
        task = progress.add_task(f"generating {preset.name}", total=len(steps))

        def step(name: str) -> None:
            progress.update(task, description=f"{preset.name}: {name}", completed=steps.index(name))

        try:
            result = build_lake(
                preset, seed=seed, out=target, overwrite=overwrite, pan_key=settings.pan_hmac_key, step=step
            )
            progress.update(task, completed=len(steps))
        except LakeError as exc:
            error = str(exc)
        except PermissionError as exc:
            error = f"cannot write to {target}: {exc.strerror}"
        if error:
            progress.remove_task(task)
    if error:
        fail(error)
    counts = result.manifest["tables"]
    assert isinstance(counts, dict)
    console.print(
        f"lake written to [bold]{result.path}[/bold] in {result.seconds:.1f} s: "
        f"{counts['customers']:,} customers, {counts['cards']:,} cards, "
        f"{counts['transactions']:,} transactions, {counts['merchants']:,} merchants"
    )
    return result.path


@app.command("generate")
def generate_cmd(
    preset: Annotated[str, typer.Option(help="small, seed002 or seed000.")] = "small",
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same bytes.")] = 42,
    out: Annotated[Path | None, typer.Option(help="Lake directory (default: $CARDWISE_DATA_DIR/lake).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an existing lake.")] = False,
    customers: Annotated[int | None, typer.Option(help="Scale the preset to this many customers.")] = None,
) -> None:
    """Generate the synthetic card-data lake (Parquet + DuckDB views)."""
    run_generate(get_settings(), preset, seed, out, overwrite, customers)


@lake_app.command("check")
def lake_check(lake: Annotated[Path | None, typer.Argument(help="Lake directory.")] = None) -> None:
    """Validate schema, keys, references and value ranges; exit 1 on any problem."""
    from cardwise.lake.check import check_lake

    target = lake or get_settings().lake_dir
    with console.status(f"checking {target}"):
        problems = check_lake(target)
    if not problems:
        console.print(f"[green]ok[/green]: {target} passed every check")
        return
    table = RichTable("table", "check", "problem", title=f"{len(problems)} problems in {target}")
    for p in problems:
        table.add_row(p.table, p.check, p.detail)
    console.print(table)
    raise typer.Exit(1)


@lake_app.command("schema")
def lake_schema(out: Annotated[Path | None, typer.Option(help="Write to this file instead of stdout.")] = None) -> None:
    """Print the lake schema as Markdown (docs/lake-schema.md)."""
    from cardwise.lake.schema import render_markdown

    text = render_markdown()
    if out:
        out.write_text(text + "\n")
    else:
        typer.echo(text)


def run_db_upgrade(settings: Settings) -> None:
    from cardwise.db.migrate import upgrade

    try:
        upgrade(settings.sqlalchemy_url)
    except Exception as exc:  # connection refused, bad URL: one line, not a traceback
        fail(f"cannot migrate {_safe_url(settings.sqlalchemy_url)}: {exc.__class__.__name__}: {exc}".splitlines()[0])


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def run_db_load(settings: Settings, lake: Path | None) -> dict[str, int]:
    from cardwise.db.engine import engine_for
    from cardwise.db.load import load_lake
    from cardwise.lake.store import LakeError

    target = lake or settings.lake_dir
    engine = engine_for(settings)
    try:
        with _progress() as progress, engine.begin() as conn:
            task = progress.add_task("loading", total=None)

            def step(name: str, rows: int) -> None:
                progress.update(task, description=f"loading {name}", advance=rows)

            counts = load_lake(conn, target, step)
    except LakeError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    console.print("database loaded: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return counts


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the Alembic migrations up to the newest revision."""
    settings = get_settings()
    run_db_upgrade(settings)
    console.print(f"database at {_safe_url(settings.sqlalchemy_url)} is up to date")


@db_app.command("load")
def db_load(lake: Annotated[Path | None, typer.Option(help="Lake directory.")] = None) -> None:
    """Load reference data, customers, cards and merchants from the lake (existing rows are kept)."""
    settings = get_settings()
    run_db_upgrade(settings)
    run_db_load(settings, lake)


def _lake(settings: Settings) -> duckdb.DuckDBPyConnection:
    """DuckDB views over the configured lake, or one clear line and exit 2 when there is none."""
    from cardwise.lake.store import LakeError, connect

    try:
        return connect(settings.lake_dir)
    except LakeError as exc:
        fail(str(exc))


def _window(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {value}")


@safety_app.command("train")
def safety_train(
    start: Annotated[str, typer.Option(help="First day of the history window.")] = "2022-10-01",
    end: Annotated[str, typer.Option(help="Day after the history window.")] = "2023-04-01",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    alert_rate: Annotated[
        float, typer.Option(help="Share of ordinary transactions that would raise an alert.")
    ] = 0.005,
) -> None:
    """Train the post-approval anomaly model and write a versioned artifact under the models directory."""
    from cardwise.safety.anomaly import save, train

    settings = get_settings()
    con = _lake(settings)
    with console.status("training the anomaly model"):
        try:
            if not 0 < alert_rate < 0.5:
                raise ValueError("--alert-rate must lie between 0 and 0.5")
            model = train(con, start=_window(start), end=_window(end), seed=seed, alert_rate=alert_rate)
        except ValueError as exc:
            fail(str(exc))
    dest = save(model, settings.models_dir)
    console.print(f"anomaly model {model.version} written to {dest} (threshold {model.detector.threshold_:.2f})")


@safety_app.command("evaluate")
def safety_evaluate(
    start: Annotated[str, typer.Option(help="First day of the history window.")] = "2022-10-01",
    end: Annotated[str, typer.Option(help="First held-out day.")] = "2023-04-01",
    test_end: Annotated[str, typer.Option(help="Day after the held-out months.")] = "2023-11-01",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Path | None, typer.Option(help="JSON report (default: <data dir>/reports/anomaly.json).")] = None,
) -> None:
    """Evaluate the anomaly model on held-out months next to two baselines; print and write a JSON report."""
    import json

    from cardwise.safety.anomaly import Split, evaluate

    settings = get_settings()
    con = _lake(settings)
    with console.status("evaluating on held-out months"):
        try:
            report = evaluate(con, Split(_window(start), _window(end), _window(test_end)), seed=seed)
        except ValueError as exc:
            fail(str(exc))
    held_out = report["held_out"]
    assert isinstance(held_out, list)
    table = RichTable(
        "model",
        "ROC AUC",
        "average precision",
        "card precision@100/day",
        "alert rate",
        title=f"held out {held_out[0]} .. {held_out[1]}",
    )
    for name in ("gmm_profile_distance", "baseline_amount_zscore", "baseline_isolation_forest"):
        m = report[name]
        assert isinstance(m, dict)
        table.add_row(
            name,
            f"{m['roc_auc']:.3f}",
            f"{m['average_precision']:.3f}",
            f"{m['card_precision_at_100_per_day']:.3f}",
            f"{m['alert_rate']:.4f}",
        )
    console.print(table)
    target = out or settings.data_dir / "reports" / "anomaly.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n")
    console.print(f"report written to {target}")


@safety_app.command("score")
def safety_score(
    input: Annotated[Path, typer.Option("--input", help="CSV or Parquet transactions to score.")],
    out: Annotated[Path | None, typer.Option(help="Where to write the scored rows (CSV).")] = None,
) -> None:
    """Score a transaction file with the latest anomaly model (needs customer or card id, time, amount, merchant)."""
    import pyarrow.csv as pacsv

    from cardwise.lake.store import LakeError, connect
    from cardwise.safety.anomaly import load_latest, score_file

    settings = get_settings()
    try:
        model = load_latest(settings.models_dir)
        con = connect(settings.lake_dir)
        scored = score_file(con, model, input)
    except (FileNotFoundError, LakeError, ValueError) as exc:
        fail(str(exc))
    target = out or input.with_name(input.stem + ".scored.csv")
    pacsv.write_csv(scored, target)
    flagged = sum(1 for v in scored["anomaly"].to_pylist() if v == "Y")
    console.print(
        f"{scored.num_rows:,} rows scored with model {model.version}: {flagged:,} anomalies; written to {target}"
    )


@safety_app.command("clusters")
def safety_clusters(
    start: Annotated[str, typer.Option(help="First day of the three-month window.")] = "2023-07-01",
    end: Annotated[str, typer.Option(help="Day after the window.")] = "2023-10-01",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    email: Annotated[bool, typer.Option(help="Queue the recommendation e-mails to opted-in members.")] = False,
) -> None:
    """Cluster customers by three months of spending; keep the run with its curves and block recommendations."""
    from cardwise.lake.engines import batch_engine
    from cardwise.safety.clusters import run_clusters, save_run

    settings = get_settings()
    con = _lake(settings)
    with console.status("clustering"):
        try:
            run = run_clusters(
                con, start=_window(start), end=_window(end), seed=seed, engine=batch_engine(settings, con)
            )
        except ValueError as exc:
            fail(str(exc))
    run_id, target = save_run(run, settings.data_dir / "reports")
    if email:
        from cardwise.scheduler import mail_cluster_run

        queued = mail_cluster_run(settings, run, run_id)
        console.print(f"{queued:,} recommendation e-mails queued (the worker delivers them)")
    table = RichTable(
        "cluster",
        "members",
        "top categories",
        "recommended blocks",
        title=f"{run.customers:,} customers, {run.n_components} components, k = {run.k}",
    )
    for p in run.profiles:
        table.add_row(
            str(p.cluster),
            f"{p.size:,}",
            ", ".join(c for c, _ in p.top_categories[:3]),
            ", ".join(p.recommended_blocks),
        )
    console.print(table)
    console.print(f"run {run_id} written to {target}")


@safety_app.command("distribution")
def safety_distribution() -> None:
    """Score the lake's newest month with the serving anomaly model; keep the histogram for the back office."""
    from cardwise.safety.reports import refresh_from_settings

    settings = get_settings()
    with console.status("scoring the newest month"):
        try:
            target = refresh_from_settings(settings)
        except (ValueError, FileNotFoundError) as exc:
            fail(str(exc))
    console.print(f"anomaly score distribution written to {target}")


@safety_app.command("switch-pauses")
def switch_pauses_cmd() -> None:
    """Start and end card pauses that are due (the scheduler runs this every minute; cron can too)."""
    from cardwise.scheduler import switch_pauses_job

    changed = switch_pauses_job(get_settings())
    console.print(f"{changed} pauses switched")


def _month_arg(value: str) -> date:
    from cardwise.marketing.batch import BatchError, parse_month

    try:
        return parse_month(value)
    except BatchError as exc:
        fail(str(exc))


@marketing_app.command("run")
def marketing_run(month: Annotated[str, typer.Option(help="Month to compute, YYYY-MM.")]) -> None:
    """The monthly batch: features, segments and grades, triggers, life stage, next-month prediction and
    single views; a rerun replaces the month's results atomically."""
    from cardwise.lake.store import LakeError
    from cardwise.marketing.batch import BatchError
    from cardwise.marketing.jobs import run_month

    settings = get_settings()
    when = _month_arg(month)
    with console.status("marketing batch") as status:
        try:
            run_id, result = run_month(settings, when, step=lambda s: status.update(f"marketing batch: {s}"))
        except (BatchError, LakeError) as exc:
            fail(str(exc))
    table = RichTable("step", "seconds", title=f"marketing run {run_id} for {when:%Y-%m}")
    for name, seconds in result.timings.items():
        table.add_row(name, f"{seconds:.2f}")
    console.print(table)
    console.print(", ".join(f"{k} {v:,}" for k, v in result.counts().items()))


@marketing_app.command("evaluate")
def marketing_evaluate(
    test_months: Annotated[str, typer.Option(help="Held-out months, comma separated.")] = "2023-08,2023-09",
) -> None:
    """Held-out scores: next-month usage drop (model vs naive baseline) and life-event triggers vs the
    lake's ground truth."""
    from cardwise.marketing.evaluation import evaluate_drop_model, evaluate_life_events
    from cardwise.marketing.jobs import marts_for

    settings = get_settings()
    con = _lake(settings)
    months = [_month_arg(m.strip()) for m in test_months.split(",") if m.strip()]
    with console.status("evaluating") as status:
        try:
            drop = evaluate_drop_model(con, marts_for(settings), months, step=status.update)
        except ValueError as exc:
            fail(str(exc))
        life = evaluate_life_events(con, marts_for(settings), step=status.update)
    table = RichTable("next-month usage drop", "ROC AUC", "average precision", title="held out " + test_months)
    table.add_row("gradient boosting", f"{drop.model_auc:.3f}", f"{drop.model_ap:.3f}")
    table.add_row("naive (this month's fall)", f"{drop.baseline_auc:.3f}", f"{drop.baseline_ap:.3f}")
    table.add_row("share of drops", "", f"{drop.test_positive_rate:.3f}")
    console.print(table)
    events = RichTable("life event", "events", "triggers", "recall (same or next month)", "precision")
    for kind, row in life.items():
        events.add_row(kind, f"{row['events']:,}", f"{row['triggers']:,}", str(row["recall"]), str(row["precision"]))
    console.print(events)


@recommend_app.command("run")
def recommend_run(month: Annotated[str, typer.Option(help="Month to compute (data up to its end), YYYY-MM.")]) -> None:
    """The monthly run: benefit simulation of every product, similar members, category, merchant and
    card-adoption models, merchant life cycles; stores one document per customer, merchant and product
    (a rerun replaces the month atomically)."""
    from cardwise.lake.store import LakeError
    from cardwise.recommend.batch import RecommendError
    from cardwise.recommend.jobs import run_month

    settings = get_settings()
    when = _month_arg(month)
    with console.status("recommendations") as status:
        try:
            run_id, result = run_month(settings, when, step=lambda s: status.update(f"recommendations: {s}"))
        except (RecommendError, LakeError, ValueError) as exc:
            fail(str(exc))
    table = RichTable("step", "seconds", title=f"recommendation run {run_id} for {when:%Y-%m}")
    for name, seconds in result.timings.items():
        table.add_row(name, f"{seconds:.2f}")
    console.print(table)
    console.print(", ".join(f"{k} {v:,}" for k, v in result.counts().items()))


@recommend_app.command("evaluate")
def recommend_evaluate(
    test_month: Annotated[
        str | None, typer.Option(help="Held-out month, YYYY-MM (the lake's last by default).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the full result as JSON on stdout.")] = False,
) -> None:
    """Temporal hold-out: fit on what was known at the end of the month before, score the test month.
    Hit rate@10 and NDCG@10 for categories, merchants and card adoption next to popularity baselines."""
    import json

    from cardwise.lake.store import LakeError
    from cardwise.recommend.evaluation import beats_baseline, evaluate, table
    from cardwise.recommend.jobs import marts_for

    settings = get_settings()
    con = _lake(settings)
    when = _month_arg(test_month) if test_month else None
    with console.status("evaluating recommendations") as status:
        try:
            result = evaluate(con, marts_for(settings), when, step=lambda s: status.update(f"evaluating: {s}"))
        except (ValueError, LakeError) as exc:
            fail(str(exc))
        finally:
            con.close()
    if as_json:
        typer.echo(json.dumps(result, indent=2))
        return
    out = RichTable(
        "task",
        "ranker",
        "customers",
        "hit rate@10",
        "NDCG@10",
        title=f"held out {result['test_month']} (trained through {result['trained_through']})",
    )
    for task, ranker, users, hit, ndcg in table(result):
        out.add_row(task, ranker, f"{users:,}", f"{hit:.3f}", f"{ndcg:.3f}")
    console.print(out)
    verdict = beats_baseline(result)
    console.print(
        "model above the popularity baseline (NDCG@10): "
        + ", ".join(f"{task} {'yes' if ok else 'NO'}" for task, ok in verdict.items())
    )


@marketing_app.command("audience")
def marketing_audience(
    segment: Annotated[str, typer.Option(help="Segment code, e.g. CAR_CARE.")],
    target_group: Annotated[str, typer.Option(help="credit, check, simple_pay or sole_proprietor.")],
    grades: Annotated[str, typer.Option(help="Grades, comma separated, e.g. 1,2.")] = "1,2",
    month: Annotated[str | None, typer.Option(help="YYYY-MM; the latest run if absent.")] = None,
) -> None:
    """How many customers a campaign reaches by grade ("grades 1-2 of car care among check cardholders")."""
    from cardwise.core.errors import DomainError
    from cardwise.db.engine import engine_for, session_scope
    from cardwise.marketing.service import audience

    settings = get_settings()
    try:
        wanted = [int(g) for g in grades.split(",") if g.strip()]
    except ValueError:
        fail("grades must be numbers like 1,2")
    engine = engine_for(settings)
    try:
        with session_scope(engine) as session:
            result = audience(
                session,
                target_group=target_group,
                segment_code=segment,
                grades=wanted,
                month=_month_arg(month) if month else None,
                limit=1,
            )
    except DomainError as exc:
        fail(exc.message)
    finally:
        engine.dispose()
    console.print(
        f"{result['total']:,} customers: {segment} grades {','.join(map(str, result['grades']))} "
        f"among {target_group} in {result['month']}"
    )


def _model_names(settings: Settings, name: str | None) -> list[str]:
    from cardwise.mlops.managed import managed_models

    names = list(managed_models(settings))
    if name is not None and name not in names:
        fail(f"unknown model {name!r}; managed models: {', '.join(names)}")
    return [name] if name else names


@models_app.command("list")
def models_list() -> None:
    """Registered models: versions, champion, their held-out scores and data windows."""
    from cardwise.mlops.managed import managed_models
    from cardwise.mlops.registry import Registry

    settings = get_settings()
    if not Registry.exists(settings):
        console.print("no model registered yet (cardwise models retrain --if-needed trains the first champions)")
        return
    registry = Registry(settings)
    for name, managed in managed_models(settings).items():
        versions = registry.versions(name) if name in registry.models() else []
        table = RichTable(
            "version",
            "aliases",
            managed.metric,
            "data window",
            "rows",
            "decision",
            title=f"{name}: {managed.description}",
        )
        for v in versions:
            score = v.metrics.get(managed.metric)
            table.add_row(
                v.version,
                ", ".join(v.aliases),
                "" if score is None else f"{score:.4f}",
                v.tags.get("data_window", ""),
                v.tags.get("data_rows", ""),
                v.tags.get("decision", ""),
            )
        console.print(table)


@models_app.command("retrain")
def models_retrain(
    model: Annotated[str | None, typer.Option(help="One model (default: all).")] = None,
    if_needed: Annotated[
        bool, typer.Option("--if-needed/--force", help="Only when the data grew past the threshold (default).")
    ] = True,
    threshold: Annotated[int | None, typer.Option(help="New rows that trigger a challenger.", min=1)] = None,
) -> None:
    """Train a challenger when the data has grown, and promote it only if it beats the champion."""
    from cardwise.mlops.jobs import tracked
    from cardwise.mlops.lifecycle import retrain_if_needed

    settings = get_settings()
    for name in _model_names(settings, model):
        with console.status(f"{name}: checking"):
            d = tracked(
                settings,
                f"retrain:{name}",
                partial(retrain_if_needed, settings, name, force=not if_needed, threshold=threshold),
                trigger="cli",
            )
        scores = ""
        if d.challenger_score is not None:
            champion = "none" if d.champion_score is None else f"{d.champion_score:.4f}"
            scores = f" ({d.metric}: challenger {d.challenger_score:.4f}, champion {champion})"
        console.print(f"{name}: {d.decision}{scores} — {d.reason}")


@models_app.command("promote")
def models_promote(
    model: Annotated[str, typer.Argument(help="Model name.")],
    version: Annotated[str, typer.Argument(help="Registered version to serve.")],
) -> None:
    """Make a registered version the champion by hand (recorded)."""
    from cardwise.core.errors import DomainError
    from cardwise.mlops.lifecycle import promote

    settings = get_settings()
    _model_names(settings, model)
    try:
        d = promote(settings, model, version)
    except DomainError as exc:
        fail(exc.message)
    console.print(f"{model}: version {d.challenger_version} is the champion (was {d.champion_version})")


@models_app.command("rollback")
def models_rollback(model: Annotated[str, typer.Argument(help="Model name.")]) -> None:
    """Put the previous champion back."""
    from cardwise.core.errors import DomainError
    from cardwise.mlops.lifecycle import rollback

    settings = get_settings()
    _model_names(settings, model)
    try:
        d = rollback(settings, model)
    except DomainError as exc:
        fail(exc.message)
    console.print(f"{model}: {d.reason}")


@ingest_app.command("run")
def ingest_run(
    loop: Annotated[bool, typer.Option(help="Keep exporting every --interval seconds until stopped.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between exports with --loop.", min=0.5)] = 5.0,
    batch_size: Annotated[int, typer.Option(help="Rows per batch file.", min=1, max=1_000_000)] = 5_000,
    lag: Annotated[float, typer.Option(help="Seconds a row must be old before it is exported.", min=0)] = 2.0,
) -> None:
    """Export new authorizations, posted events and transcripts to the lake (exactly once)."""
    import time
    from datetime import timedelta

    from cardwise.db.engine import engine_for
    from cardwise.ingest.exporter import export_once

    settings = get_settings()
    engine = engine_for(settings)
    try:
        while True:
            result = export_once(engine, settings.lake_dir, batch_size=batch_size, lag=timedelta(seconds=lag))
            if result.rows or not loop:
                console.print(
                    f"{result.rows:,} rows in {result.batches} batches, {result.lake_rows:,} lake rows written"
                )
            if not loop:
                return
            time.sleep(interval)
    finally:
        engine.dispose()


@ingest_app.command("compact")
def ingest_compact(
    min_files: Annotated[int, typer.Option(help="Merge a partition once it has this many files.", min=2)] = 8,
) -> None:
    """Merge the exporter's small files, partition by partition (readers never see a partial state)."""
    from cardwise.ingest.exporter import compact

    console.print(f"{compact(get_settings().lake_dir, min_files=min_files)} partitions compacted")


@jobs_app.command("list")
def jobs_list() -> None:
    """Every scheduled job, its schedule and its last run."""
    from sqlalchemy import func, select

    from cardwise.db.engine import engine_for
    from cardwise.mlops.models import JobRun
    from cardwise.scheduler import JOBS

    settings = get_settings()
    engine = engine_for(settings)
    table = RichTable("job", "schedule", "why", "last status", "last duration s", "runs")
    try:
        with engine.connect() as conn:
            for j in JOBS:
                last = conn.execute(
                    select(JobRun.status, JobRun.duration_s)
                    .where(JobRun.job == j.id)
                    .order_by(JobRun.run_id.desc())
                    .limit(1)
                ).first()
                count = conn.execute(select(func.count()).where(JobRun.job == j.id)).scalar_one()
                table.add_row(
                    j.id,
                    f"{j.trigger} {j.schedule}",
                    j.why,
                    last[0] if last else "-",
                    f"{last[1]:.2f}" if last and last[1] is not None else "-",
                    str(count),
                )
    finally:
        engine.dispose()
    console.print(table)


@jobs_app.command("run")
def jobs_run(job_id: Annotated[str, typer.Argument(help="Job id (see `cardwise jobs list`).")]) -> None:
    """Run one scheduled job now (recorded like a scheduled run)."""
    from cardwise.scheduler import JOBS, run_job

    if job_id not in {j.id for j in JOBS}:
        fail(f"unknown job {job_id!r}; jobs: {', '.join(j.id for j in JOBS)}")
    try:
        result = run_job(get_settings(), job_id, trigger="cli")
    except Exception as exc:
        fail(f"{job_id} failed: {type(exc).__name__}: {exc}")
    console.print(f"{job_id}: done {result if result is not None else ''}")


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option(help="Deliver what is due now and exit.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds to wait when nothing is due.")] = 1.0,
) -> None:
    """Deliver queued notifications (outbox) with retries and backoff."""
    from datetime import timedelta

    from cardwise.db.engine import engine_for
    from cardwise.notify.channels import channels_for
    from cardwise.notify.worker import run_forever, run_once

    settings = get_settings()
    engine = engine_for(settings)
    channels = channels_for(settings)
    lease = timedelta(seconds=settings.notify_lease_seconds)
    try:
        if once:
            stats = run_once(engine, channels, max_attempts=settings.notify_max_attempts, lease=lease)
            console.print(f"claimed {stats.claimed}, sent {stats.sent}, retried {stats.retried}, dead {stats.dead}")
        else:
            console.print("worker running; Ctrl+C to stop")
            run_forever(engine, channels, interval=interval, max_attempts=settings.notify_max_attempts, lease=lease)
    except KeyboardInterrupt:
        pass
    finally:
        engine.dispose()


@app.command("serve")
def serve(
    host: Annotated[str | None, typer.Option(help="Bind address.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Serve the API and the pages."""
    import uvicorn

    settings = get_settings()
    h, p = host or settings.host, port or settings.port
    if not 1 <= p <= 65535:
        fail("--port must be between 1 and 65535")
    console.print(f"cardwise serving on [bold]http://{h}:{p}[/bold] (API docs at /docs)")
    # access_log off: the app writes its own ECS access lines (cardwise.logs.access).
    uvicorn.run(
        "cardwise.api:create_app", factory=True, host=h, port=p, workers=workers, log_config=None, access_log=False
    )


def _train_missing_models(settings: Settings) -> None:
    """The demo trains the first champion of every managed model that has none (registered in MLflow)."""
    from cardwise.mlops.jobs import tracked
    from cardwise.mlops.lifecycle import retrain_if_needed
    from cardwise.mlops.managed import managed_models
    from cardwise.mlops.registry import Registry

    registry = Registry(settings)
    for name in managed_models(settings):
        if registry.champion(name) is not None:
            continue
        with console.status(f"training the first {name} model"):
            d = tracked(
                settings, f"retrain:{name}", partial(retrain_if_needed, settings, name, force=True), trigger="cli"
            )
        console.print(f"{name}: {d.decision} — {d.reason}")


def _run_missing_voc(settings: Settings) -> None:
    """The demo scores the lake's newest month once (training a VOC model first if none exists), before the
    single views, which carry the scores in their risk block."""
    from cardwise.voc.jobs import monthly_job

    with console.status("VOC risk scores") as status:
        run_id = monthly_job(settings, step=lambda s: status.update(f"VOC risk: {s}"))
    if run_id is not None:
        console.print(f"VOC risk run {run_id}: scores of the lake's newest month stored")


def _run_missing_marketing(settings: Settings) -> None:
    """The demo computes the single views of the lake's newest month once (the scheduler does it monthly)."""
    from cardwise.marketing.jobs import latest_unrun_month, run_month

    month = latest_unrun_month(settings)
    if month is None:
        return
    with console.status(f"marketing batch for {month:%Y-%m}") as status:
        run_id, result = run_month(settings, month, step=lambda s: status.update(f"marketing batch: {s}"))
    console.print(f"marketing run {run_id}: single views of {len(result.views):,} customers for {month:%Y-%m}")


def _run_missing_recommendations(settings: Settings) -> None:
    """The demo computes the recommendations of the lake's newest month once (the scheduler does it monthly)."""
    from cardwise.recommend.jobs import latest_unrun_month, run_month

    month = latest_unrun_month(settings)
    if month is None:
        return
    with console.status(f"recommendations for {month:%Y-%m}") as status:
        run_id, result = run_month(settings, month, step=lambda s: status.update(f"recommendations: {s}"))
    console.print(f"recommendation run {run_id}: {len(result.recommendations):,} customers for {month:%Y-%m}")


@app.command("demo")
def demo(
    host: Annotated[str, typer.Option(help="Bind address.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    preset: Annotated[str, typer.Option(help="Preset to generate when no lake exists.")] = "seed002",
) -> None:
    """Generate the seed002 lake if absent, load the database, train missing models, serve on port 8000."""
    from cardwise.lake.store import MANIFEST

    settings = get_settings()
    if not (settings.lake_dir / MANIFEST).exists():
        console.print(f"no lake at {settings.lake_dir}: generating the {preset} preset")
        run_generate(settings, preset, 42, settings.lake_dir, overwrite=True)
    else:
        console.print(f"using the lake at {settings.lake_dir}")
    run_db_upgrade(settings)
    run_db_load(settings, settings.lake_dir)
    _train_missing_models(settings)
    _run_missing_voc(settings)
    _run_missing_marketing(settings)
    _run_missing_recommendations(settings)
    ensure_demo_users(settings)  # sign-in is required: print the demo users' passwords once
    serve(host=host, port=port, workers=1)


def _voc_errors() -> tuple[type[Exception], ...]:
    from cardwise.core.errors import DomainError
    from cardwise.lake.store import LakeError
    from cardwise.voc.dataset import DatasetError

    return (DatasetError, LakeError, FileNotFoundError, DomainError)


def _message(exc: Exception) -> str:
    return getattr(exc, "message", None) or str(exc)


@voc_app.command("train")
def voc_train(
    seed: Annotated[int, typer.Option(help="Random seed (the same seed and data give the same model).")] = 0,
    until: Annotated[
        str | None, typer.Option(help="Train only on outcomes up to this month, YYYY-MM (default: all).")
    ] = None,
) -> None:
    """Train the four risk models on every labelled month and write a versioned artifact under the models
    directory (campaign outcomes stored in the database count as labels)."""
    from cardwise.voc.jobs import train_job

    settings = get_settings()
    last = _month_arg(until) if until else None
    with console.status("training the VOC risk models") as status:
        try:
            trained, metrics, path = train_job(
                settings, seed=seed, until=last, step=lambda s: status.update(f"VOC training: {s}")
            )
        except _voc_errors() as exc:
            fail(_message(exc))
    console.print(
        f"VOC model {trained.version}: {metrics['rows']:,} customer-months "
        f"({metrics['months'][0]}..{metrics['months'][-1]}), positives "
        + ", ".join(f"{t} {n:,}" for t, n in metrics["positives"].items())
        + f"; {metrics['seconds']['total']:.1f} s; written to {path}"
    )


@voc_app.command("evaluate")
def voc_evaluate(
    test_months: Annotated[str, typer.Option(help="Held-out months, comma separated.")] = "2023-08,2023-09",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 0,
    out: Annotated[Path | None, typer.Option(help="JSON report (default: <data dir>/reports/voc.json).")] = None,
) -> None:
    """Temporal hold-out: ROC AUC and average precision of each outcome for the RFM baseline and for boosting
    without and with text; the JSON report goes to stdout and to a file."""
    import json

    from cardwise.voc.jobs import evaluate_job

    settings = get_settings()
    months = tuple(_month_arg(m.strip()) for m in test_months.split(",") if m.strip())
    with console.status("evaluating the VOC risk models") as status:
        try:
            report, target = evaluate_job(
                settings, test_months=months, seed=seed, out=out, step=lambda s: status.update(f"VOC evaluation: {s}")
            )
        except _voc_errors() as exc:
            fail(_message(exc))
    table = RichTable(
        "outcome",
        "positives (test)",
        "RFM logistic AUC / AP",
        "boosting, no text AUC / AP",
        "boosting + text AUC / AP",
        "text lift AP (95% CI)",
        title=f"trained {report['train_months'][0]}..{report['train_months'][-1]}, "
        f"held out {', '.join(report['test_months'])}",
    )
    for name, r in report["targets"].items():
        b, n, w, lift = r["baseline_rfm_logistic"], r["boosting_without_text"], r["boosting_with_text"], r["text_lift"]
        lo, hi = lift["ci95"]["average_precision"]
        table.add_row(
            name,
            f"{r['test_positives']:,} of {r['test_rows']:,}",
            f"{b['roc_auc']:.3f} / {b['average_precision']:.3f}",
            f"{n['roc_auc']:.3f} / {n['average_precision']:.3f}",
            f"{w['roc_auc']:.3f} / {w['average_precision']:.3f}",
            f"{lift['average_precision']:+.3f} ({lo:+.3f}, {hi:+.3f})",
        )
    console.print(table)
    console.print(f"report written to {target}")
    typer.echo(json.dumps(report, ensure_ascii=False))


@voc_app.command("score")
def voc_score(
    month: Annotated[str, typer.Option(help="Month to score, YYYY-MM (predicts the month after).")],
    version: Annotated[str | None, typer.Option(help="Model version (default: the newest).")] = None,
) -> None:
    """Score every customer at a month with a trained model and replace the month's stored scores; rerun
    `cardwise marketing run` for the month to refresh the single views' risk block."""
    from cardwise.voc.jobs import score_job

    settings = get_settings()
    when = _month_arg(month)
    with console.status("VOC scoring") as status:
        try:
            run_id, scores, trained = score_job(
                settings, when, version=version, step=lambda s: status.update(f"VOC scoring: {s}")
            )
        except _voc_errors() as exc:
            fail(_message(exc))
    means = ", ".join(f"{t} {scores[t].mean():.2%}" for t in trained.model.targets)
    console.print(
        f"VOC run {run_id}: {len(scores):,} customers scored at {when:%Y-%m} with {trained.version}; "
        f"mean probability next month: {means}"
    )


@voc_app.command("campaign")
def voc_campaign(
    kind: Annotated[str, typer.Option(help="CHURN_DEFENCE, COMPLAINT_CARE, DELINQUENCY_CARE or CARD_LOAN_OFFER.")],
    month: Annotated[str | None, typer.Option(help="Scores' month, YYYY-MM (default: the newest).")] = None,
    deciles: Annotated[str, typer.Option(help="Risk deciles to target, 1 = the riskiest tenth.")] = "1",
    control_share: Annotated[float, typer.Option(help="Share held out as a control group.")] = 0.1,
) -> None:
    """Select a campaign from a month's scores, hold out a control group and queue the messages."""
    from cardwise.db.engine import engine_for, session_scope
    from cardwise.voc.service import create_campaign

    settings = get_settings()
    try:
        chosen = [int(d) for d in deciles.split(",") if d.strip()]
    except ValueError:
        fail("deciles must be numbers like 1,2")
    engine = engine_for(settings)
    try:
        with session_scope(engine) as session:
            c = create_campaign(
                session,
                kind=kind,
                month=_month_arg(month) if month else None,
                deciles=chosen,
                control_share=control_share,
            )
    except _voc_errors() as exc:
        fail(_message(exc))
    finally:
        engine.dispose()
    left_out = ", ".join(f"{k} {v:,}" for k, v in c["excluded"].items() if v) or "none"
    console.print(
        f"campaign {c['campaign_id']} {c['kind']} ({c['ko']}) for {c['month']}: {c['members']:,} members, "
        f"{c['treated']:,} messages queued, {c['members'] - c['treated']:,} held out; left out: {left_out}"
    )


@voc_app.command("outcomes")
def voc_outcomes(campaign: Annotated[int, typer.Option(help="Campaign id.")]) -> None:
    """Record a campaign's outcomes from the lake's labels and show the event rates per arm."""
    from cardwise.db.engine import engine_for, session_scope
    from cardwise.voc.jobs import outcomes_job
    from cardwise.voc.service import campaign_report

    settings = get_settings()
    try:
        recorded = outcomes_job(settings, campaign)
        engine = engine_for(settings)
        try:
            with session_scope(engine) as session:
                r = campaign_report(session, campaign)
        finally:
            engine.dispose()
    except _voc_errors() as exc:
        fail(_message(exc))

    def rate(arm: dict[str, Any]) -> str:
        return "-" if arm["rate"] is None else f"{arm['rate']:.2%} of {arm['with_outcome']:,}"

    console.print(
        f"campaign {campaign}: {recorded:,} outcomes recorded; event rate treated {rate(r['treatment'])}, "
        f"control {rate(r['control'])}; effect {r['effect'] if r['effect'] is not None else '-'} "
        f"({r['effect_meaning']})"
    )


@family_app.command("policy-check")
def family_policy_check(
    path: Annotated[Path | None, typer.Argument(help="Policy file (default: the configured one).")] = None,
) -> None:
    """Validate a family-bundle policy file and summarize it; exit 2 with every problem when it is invalid."""
    from cardwise.family.policy import PolicyError, load_policy

    target = path or get_settings().family_policy_path
    try:
        policy = load_policy(target)
    except PolicyError as exc:
        fail(str(exc))
    tiers = ", ".join(f"{t.min_members}+: +{t.savings_bonus_pp}%p" for t in policy.benefits.size_tiers)
    console.print(
        f"[green]ok[/green]: policy {policy.version} — age {policy.age.threshold}+, "
        f"{policy.members.min}-{policy.members.max} members, grace {policy.grace_days} days, "
        f"{len(policy.relations)} relations, size tiers {tiers}, tenure {policy.benefits.tenure.mode}"
    )


@family_app.command("check-grace")
def family_check_grace() -> None:
    """Expire old invitations, re-check open groups, dissolve those past their grace or forming period
    (the scheduler runs this daily; cron can too). Safe to run twice."""
    from cardwise.scheduler import family_daily_job

    summary = family_daily_job(get_settings())
    console.print(
        f"{summary.groups_checked:,} groups checked: {summary.entered_grace} entered grace, "
        f"{summary.qualified} qualified, {summary.dissolved} dissolved, "
        f"{summary.invitations_expired} invitations expired, {summary.notices} notifications queued"
        + (f", [red]{summary.errors} failed (see the log)[/red]" if summary.errors else "")
    )
    if summary.errors:
        raise typer.Exit(1)


@family_app.command("report")
def family_report(
    lake: Annotated[Path | None, typer.Option(help="Lake directory (default: $CARDWISE_DATA_DIR/lake).")] = None,
    on: Annotated[str | None, typer.Option("--date", help="Day of the report (default: the lake's last day).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="JSON file (default: <data dir>/reports/family-bundle.json).")
    ] = None,
) -> None:
    """How many generated households would qualify under the family policy, and what they would get."""
    import json

    from cardwise.family.policy import PolicyError, load_policy
    from cardwise.family.report import HORIZONS, household_report
    from cardwise.lake.store import LakeError, connect, read_manifest

    settings = get_settings()
    target = lake or settings.lake_dir
    try:
        policy = load_policy(settings.family_policy_path)
        con = connect(target)
        day = _window(on) if on else date.fromisoformat(str(read_manifest(target)["end"]))
    except (LakeError, PolicyError) as exc:
        fail(str(exc))
    try:
        report = household_report(con, policy, day)
    finally:
        con.close()
    types = report["by_household_type"]
    table = RichTable(
        "household type",
        "households",
        "qualifying",
        "share",
        "main reason not",
        "savings bonus at join (%p: households)",
        title=f"family bundle on {report['date']}: {report['qualifying_households']:,} of "
        f"{report['households']:,} households qualify (age {report['age_threshold']}+)",
    )
    for kind, row in types.items():
        reasons = row["not_qualifying_reasons"]
        table.add_row(
            kind,
            f"{row['households']:,}",
            f"{row['qualifying']:,}",
            f"{row['qualifying_share']:.1%}",
            next(iter(reasons), "-"),
            ", ".join(f"{k}: {v:,}" for k, v in row["savings_bonus_pp_at_join"].items()) or "-",
        )
    console.print(table)
    dist = RichTable("years in", "savings bonus (%p: households)", "mean %p", "card discount (%: households)")
    for y in HORIZONS:
        key = f"year_{y}"
        dist.add_row(
            str(y),
            ", ".join(f"{k}: {v:,}" for k, v in report["savings_bonus_pp"][key].items()),
            f"{report['mean_savings_bonus_pp'][key]:.3f}",
            ", ".join(f"{k}: {v:,}" for k, v in report["card_discount_pct"][key].items()),
        )
    console.print(dist)
    console.print(
        "qualifying by age threshold: "
        + ", ".join(f"{k}+: {v:,}" for k, v in report["qualifying_by_age_threshold"].items())
    )
    dest = out or settings.data_dir / "reports" / "family-bundle.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    console.print(f"report written to {dest}")


@logs_app.command("query")
def logs_query(
    sql: Annotated[str, typer.Argument(help='SQL over the view `logs`, e.g. "SELECT action, count(*) FROM logs"')],
    max_rows: Annotated[int, typer.Option(help="Rows shown at most.", min=1, max=100_000)] = 200,
) -> None:
    """Query the JSON log files (settings.log_dir/*.jsonl) with DuckDB; columns: see docs/logs-and-waf.md."""
    from cardwise.logs.query import run_sql

    try:
        names, rows = run_sql(get_settings().log_dir, sql, max_rows=max_rows)
    except duckdb.Error as exc:
        fail(f"query failed: {str(exc).splitlines()[0]}")
    table = RichTable(*names)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(soft_wrap=True).print(table)


@logs_app.command("ship")
def logs_ship() -> None:
    """Ship what the log files gained since the last run to CARDWISE_OPENSEARCH_URL (exactly once)."""
    from cardwise.logs.shipper import ShipError, ship_job

    settings = get_settings()
    if not settings.log_search_url:
        fail("set CARDWISE_OPENSEARCH_URL (or CARDWISE_ELASTICSEARCH_URL) to ship the logs")
    try:
        result = ship_job(settings)
    except ShipError as exc:
        fail(str(exc))
    except Exception as exc:  # connection refused, TLS, HTTP errors: one line, no traceback
        fail(f"shipping failed: {type(exc).__name__}: {str(exc)[:300]}")
    console.print(f"shipped {result}")


def main() -> None:  # pragma: no cover - console entry point
    app()
