"""Retention (P4/P5): a validated policy file and the job that destroys what expired, irreversibly.

"Irreversibly" means deleted rows and rewritten files, never flags: database rows are deleted (with
their dependents), lake files are rewritten without the expired rows (manifest updated), log files are
rewritten without the expired lines. Each run records, per kind and place, the cutoff and how much was
destroyed in ``retention_runs``. ``now`` is an argument, so the whole policy is testable by time travel.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
import yaml
from sqlalchemy import ColumnElement, Connection, func, insert, select

from cardwise.db.base import Base
from cardwise.lake.schema import TABLES_BY_NAME
from cardwise.privacy import erasure
from cardwise.privacy.models import RetentionRun

DEFAULT_POLICY = Path(__file__).with_name("retention.yaml")
SEOUL = ZoneInfo("Asia/Seoul")  # the lake's timestamps are Seoul wall-clock time
_PERIOD = re.compile(r"^([1-9][0-9]{0,3})([dmy])$")
Clock = Literal["created", "relationship_end"]


class RetentionPolicyError(ValueError):
    """The policy file is unusable; the message lists every problem."""


@dataclass(frozen=True)
class Place:
    location: Literal["db", "lake", "logs"]
    table: str  # "" for logs
    column: str


@dataclass(frozen=True)
class Kind:
    name: str
    description: str
    period: str
    clock: Clock
    where: tuple[Place, ...]

    def cutoff(self, now: datetime) -> datetime:
        n, unit = int(self.period[:-1]), self.period[-1]
        if unit == "d":
            return now - timedelta(days=n)
        months = n * (12 if unit == "y" else 1)
        y, m = divmod(now.year * 12 + now.month - 1 - months, 12)
        day = min(now.day, calendar.monthrange(y, m + 1)[1])  # 5-31 minus 3 months: the end of February
        return now.replace(year=y, month=m + 1, day=day)


@dataclass(frozen=True)
class Policy:
    kinds: tuple[Kind, ...]


def _place(text: str, problems: list[str], kind: str) -> Place | None:
    from cardwise.db import all_models  # noqa: F401  (every table on the metadata)

    if text == "db:anonymous_holders":
        return Place("db", "customers", "anonymous_holders")
    if text == "logs:@timestamp":
        return Place("logs", "", "@timestamp")
    m = re.match(r"^(db|lake):([a-z_]+)\.([a-z_]+)$", text)
    if not m:
        problems.append(f"{kind}: where {text!r} is not db:<table>.<column>, lake:<table>.<column> or logs:@timestamp")
        return None
    location, table, column = m.groups()
    if location == "db":
        t = Base.metadata.tables.get(table)
        if t is None or column not in t.c:
            problems.append(f"{kind}: the database has no column {table}.{column}")
            return None
    else:
        lt = TABLES_BY_NAME.get(table)
        if lt is None or column not in {c.name for c in lt.columns}:
            problems.append(f"{kind}: the lake has no column {table}.{column}")
            return None
    return Place(location, table, column)  # type: ignore[arg-type]


def load_policy(path: Path | None = None) -> Policy:
    """The policy at ``path`` (the packaged one by default), validated; RetentionPolicyError lists problems."""
    source = path or DEFAULT_POLICY
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RetentionPolicyError(f"cannot read the retention policy {source}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), dict) or not data["kinds"]:
        raise RetentionPolicyError(f"{source}: expected a mapping `kinds:` with at least one data kind")
    problems: list[str] = []
    kinds: list[Kind] = []
    for name, spec in data["kinds"].items():
        if not isinstance(spec, dict):
            problems.append(f"{name}: expected a mapping with period, clock and where")
            continue
        unknown = set(spec) - {"description", "period", "clock", "where"}
        if unknown:
            problems.append(f"{name}: unknown keys {', '.join(sorted(unknown))}")
        period = str(spec.get("period", ""))
        if not _PERIOD.match(period):
            problems.append(f"{name}: period {period!r} must look like 90d, 3m or 5y")
        clock = spec.get("clock")
        if clock not in ("created", "relationship_end"):
            problems.append(f"{name}: clock must be created or relationship_end, not {clock!r}")
        where = spec.get("where")
        if not isinstance(where, list) or not where:
            problems.append(f"{name}: where must list at least one place")
            where = []
        places = [p for p in (_place(str(w), problems, name) for w in where) if p is not None]
        kinds.append(Kind(name, str(spec.get("description", "")), period, cast(Clock, clock), tuple(places)))
    if problems:
        raise RetentionPolicyError(f"{source}: " + "; ".join(problems))
    return Policy(tuple(kinds))


# --- the run ------------------------------------------------------------------------------------------------


@dataclass
class Destroyed:
    kind: str
    location: str
    place: str
    cutoff: datetime
    rows: int


def _db(conn: Connection, place: Place, cutoff: datetime, *, dry_run: bool) -> int:
    tables = Base.metadata.tables
    if place.column == "anonymous_holders":
        t = tables["customers"]
        where: ColumnElement[bool] = (t.c.customer_id >= erasure.ANONYMOUS_ID_BASE) & (t.c.joined_on < cutoff.date())
    else:
        t = tables[place.table]
        col = t.c[place.column]
        where = col < cutoff
        if place.table == "outbox":  # a message still to be delivered is not expired
            where = where & t.c.status.in_(["sent", "dead"])
    if dry_run:
        return int(conn.execute(select(func.count()).select_from(t).where(where)).scalar_one())
    counts: dict[str, int] = {}
    erasure.delete_cascading(conn, t, where, counts)
    return counts.get(t.name, 0)


def synthetic_files(lake: Path) -> set[str]:
    """The generated files of a synthetic lake (its manifest names a generator preset): made-up people,
    not personal data, so retention leaves them alone unless asked; rows the platform ingested are real."""
    from cardwise.lake.store import read_manifest

    manifest = read_manifest(lake)
    files = manifest.get("files")
    if "preset" not in manifest or not isinstance(files, list):
        return set()
    return {str(f["path"]) for f in files}


def _lake(
    lake: Path, places: list[Place], cutoff: datetime, *, dry_run: bool, include_synthetic: bool
) -> dict[str, int]:
    exempt = set() if include_synthetic else synthetic_files(lake)
    local = cutoff.astimezone(SEOUL).replace(tzinfo=None)
    columns = {p.table: p.column for p in places}
    scalar = pa.scalar(local, pa.timestamp("us"))

    def destroy(name: str, rows: pa.Table) -> pa.Array | None:
        column = columns.get(name)
        if column is None or column not in rows.column_names:
            return None
        values = rows[column].cast(pa.timestamp("us"))
        return pc.fill_null(pc.less(values, scalar), False)

    if dry_run:
        import pyarrow.parquet as pq

        from cardwise.lake.store import table_dir

        out: dict[str, int] = {}
        for name in columns:
            for path in table_dir(lake, TABLES_BY_NAME[name]).glob("**/*.parquet"):
                if str(path.relative_to(lake)) in exempt:
                    continue
                mask = destroy(name, pq.ParquetFile(path).read(columns=[columns[name]]))
                out[name] = out.get(name, 0) + (0 if mask is None else int(pc.sum(mask).as_py() or 0))
        return out
    return erasure.rewrite_lake(lake, destroy, list(columns), skip=exempt.__contains__)


def _timestamp(obj: dict[str, Any]) -> datetime | None:
    raw = obj.get("@timestamp")
    if not isinstance(raw, str):
        return None
    try:
        ts = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


def _logs(log_dir: Path, cutoff: datetime, *, dry_run: bool) -> int:
    def expired(obj: dict[str, Any]) -> bool:
        ts = _timestamp(obj)
        return ts is not None and ts < cutoff

    if dry_run:
        import json

        n = 0
        for path in (p for p in log_dir.rglob("*") if p.is_file()) if log_dir.exists() else []:
            for line in path.read_bytes().splitlines():
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                n += isinstance(obj, dict) and expired(obj)
        return n
    removed = erasure.rewrite_logs(log_dir, expired)
    for path in [p for p in log_dir.rglob("*") if p.is_file() and p.stat().st_size == 0] if log_dir.exists() else []:
        path.unlink()  # a rotated file whose every line expired
    return removed


def summary(done: list[Destroyed]) -> dict[str, int]:
    """Rows destroyed per ``kind.location.place`` (the job's result, kept in job_runs)."""
    return {f"{d.kind}.{d.location}.{d.place}": d.rows for d in done}


def run_retention(
    conn: Connection,
    *,
    policy: Policy,
    now: datetime,
    lake: Path | None,
    log_dir: Path | None,
    dry_run: bool = False,
    include_synthetic: bool = False,
) -> list[Destroyed]:
    """Destroy everything past its retention as of ``now`` and record the run (not on a dry run).

    Database deletes happen in the caller's transaction; lake and log files are rewritten file by file.
    The generated files of a synthetic lake are left alone unless ``include_synthetic`` (see
    :func:`synthetic_files`): the demo's 2022-2023 data would otherwise be gone on the first day."""
    done: list[Destroyed] = []
    for kind in policy.kinds:
        cutoff = kind.cutoff(now)
        lake_places = [p for p in kind.where if p.location == "lake"]
        for place in kind.where:
            if place.location == "db":
                if place.table not in Base.metadata.tables:
                    continue
                n = _db(conn, place, cutoff, dry_run=dry_run)
                label = "anonymous_holders" if place.column == "anonymous_holders" else f"{place.table}.{place.column}"
                done.append(Destroyed(kind.name, "db", label, cutoff, n))
            elif place.location == "logs" and log_dir is not None:
                done.append(Destroyed(kind.name, "logs", str(log_dir), cutoff, _logs(log_dir, cutoff, dry_run=dry_run)))
        if lake_places and lake is not None and (lake / "_manifest.json").exists():
            got = _lake(lake, lake_places, cutoff, dry_run=dry_run, include_synthetic=include_synthetic)
            for place in lake_places:
                done.append(
                    Destroyed(kind.name, "lake", f"{place.table}.{place.column}", cutoff, got.get(place.table, 0))
                )
    if not dry_run:
        for d in done:
            conn.execute(
                insert(RetentionRun).values(
                    ran_at=now,
                    kind=d.kind,
                    location=d.location,
                    cutoff=d.cutoff,
                    rows_destroyed=d.rows,
                    dry_run=False,
                    detail={"place": d.place},
                )
            )
    return done
