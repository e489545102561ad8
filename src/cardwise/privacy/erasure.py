"""Erasure of one customer everywhere (PIPA art. 21, 36; the right to deletion of P5).

What is destroyed, and what is kept and why (docs/privacy.md):

- **Database**: every row about the customer is deleted (contacts, card settings, notifications and their
  deliveries, family memberships, invitations and documents, segments, grades, single views, triggers,
  recommendations, VOC scores and campaign memberships, inboxes, restrictions, logins of the identity
  tables) — dependents first, following the foreign keys; a nullable reference from someone else's row
  is cleared instead.
- **Kept, anonymised**: the platform's authorization records are electronic financial transaction
  records, which must be kept for 5 years (전자금융거래법 시행령 제12조). The cards they belong to move to
  a new *anonymous holder* (a ``customers`` row with a random id in a reserved range and no attributes of
  the person; ``joined_on`` is the day of erasure and starts the 5-year clock of the retention policy).
  Nothing links the anonymous id back to the customer. Family groups the customer represented are
  dissolved and handed to the anonymous holder so the other members' history stays whole.
- **Data-subject requests** keep a keyed hash of the customer id instead of the id (processing records).
- **Lake**: every Parquet file with a ``customer_id`` column is rewritten without the customer's rows
  (the lake is an analytics copy; the issuer's core system holds the legal transaction record), household
  sizes are reduced, and the manifest's hashes and counts are updated. Files are replaced atomically.
- **Marts and reports** under the data directory: rewritten without the customer (they are caches).
- **Log files** under ``settings.log_dir``: lines whose ECS ``user.id`` is the customer are removed.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Column, Connection, Table, and_, delete, func, insert, or_, select, update
from sqlalchemy.sql.elements import ColumnElement

from cardwise.db.base import Base
from cardwise.db.models import Customer, Region
from cardwise.lake.schema import TABLES_BY_NAME
from cardwise.lake.store import MANIFEST, read_manifest, table_dir

# Anonymous holders of kept records: ids far above any customer number, random within the range.
ANONYMOUS_ID_BASE = 9_000_000_000_000_000_000
_ANONYMOUS_SPAN = 10**17
_ERASED = "erased"


def is_anonymous(customer_id: int) -> bool:
    return customer_id >= ANONYMOUS_ID_BASE


# --- database ---------------------------------------------------------------------------------------------


def _tables() -> dict[str, Table]:
    from cardwise.db import all_models  # noqa: F401  (every table on the metadata)

    return dict(Base.metadata.tables)


def _anonymous_holder(conn: Connection, today: date) -> int:
    region = conn.execute(select(Region.region_code).order_by(Region.region_code).limit(1)).scalar_one()
    overseas = conn.execute(select(Region.region_code).where(Region.region_code == "XX")).scalar_one_or_none()
    anon = ANONYMOUS_ID_BASE + secrets.randbelow(_ANONYMOUS_SPAN)
    conn.execute(
        insert(_tables()["customers"]).values(
            customer_id=anon,
            birth_year=0,
            gender="X",
            home_region_code=overseas or region,
            occupation=_ERASED,
            is_sole_proprietor=False,
            marital_status=_ERASED,
            household_id=0,
            relation_to_head=_ERASED,
            income_band=0,
            target_group=_ERASED,
            marketing_consent=False,
            preferred_channel="none",
            joined_on=today,  # the day the relationship ended: the retention clock of the kept records
        )
    )
    return anon


def delete_cascading(conn: Connection, table: Table, where: ColumnElement[bool], counts: dict[str, int]) -> None:
    """Delete ``table`` rows matching ``where`` after their dependents: rows of other tables that
    reference them through a NOT NULL foreign key are deleted the same way; nullable references are cleared."""
    for other in _tables().values():
        for fk in other.foreign_keys:
            if fk.column.table is not table or fk.parent.table is not other:
                continue
            referenced = select(fk.column).where(where)
            col: Column[Any] = fk.parent
            if col.nullable:
                conn.execute(update(other).where(col.in_(referenced)).values({col.name: None}))
            else:
                delete_cascading(conn, other, col.in_(referenced), counts)
    n = conn.execute(delete(table).where(where)).rowcount or 0
    if n:
        counts[table.name] = counts.get(table.name, 0) + int(n)


def erase_in_db(conn: Connection, customer_id: int, *, now: datetime) -> dict[str, Any]:
    """Delete or anonymise everything about ``customer_id`` inside the caller's transaction."""
    tables = _tables()
    customers = tables["customers"]
    counts: dict[str, int] = {}
    kept: dict[str, int] = {}
    if conn.execute(select(Customer.customer_id).where(Customer.customer_id == customer_id)).first() is None:
        return {"deleted": counts, "kept": kept, "anonymous_holder": None}
    auth = tables["authorizations"]
    cards = tables["cards"]
    kept_cards = (
        conn.execute(
            select(cards.c.card_id)
            .where(cards.c.customer_id == customer_id)
            .where(select(auth.c.authorization_id).where(auth.c.card_id == cards.c.card_id).exists())
        )
        .scalars()
        .all()
    )
    groups = tables["family_groups"]
    represented = (
        conn.execute(select(groups.c.group_id).where(groups.c.representative_id == customer_id)).scalars().all()
    )
    anon: int | None = None
    if kept_cards or represented:
        anon = _anonymous_holder(conn, now.date())
    if kept_cards:
        # The card's own settings and events are the customer's, not transaction records.
        for name in ("card_controls", "card_pauses", "card_events", "lost_reports"):
            delete_cascading(conn, tables[name], tables[name].c.card_id.in_(kept_cards), counts)
        conn.execute(update(cards).where(cards.c.card_id.in_(kept_cards)).values(customer_id=anon))
        kept["cards"] = len(kept_cards)
        kept["authorizations"] = int(
            conn.execute(select(func.count()).where(auth.c.card_id.in_(kept_cards))).scalar_one()
        )
    if represented:
        members = tables["family_memberships"]
        conn.execute(
            update(members)
            .where(members.c.group_id.in_(represented), members.c.left_at.is_(None))
            .values(left_at=now, leave_reason="dissolved")
        )
        conn.execute(
            update(groups)
            .where(groups.c.group_id.in_(represented))
            .values(representative_id=anon, status="dissolved", dissolved_at=now, dissolved_reason="erasure")
        )
        kept["family_groups"] = len(represented)
    # Audit trails and access logs must stay (PIPA: processing records; credit information: access logs
    # 3 years): the entries stay, the names they carry go.
    names = [f"customer:{customer_id}"]
    users = tables.get("users")
    if users is not None and "username" in users.c and "customer_id" in users.c:
        names += [str(u) for u in conn.execute(select(users.c.username).where(users.c.customer_id == customer_id))]
    for table in tables.values():
        for column in ("actor", "user_name", "username"):
            if column in table.c and table.name != "users":
                conn.execute(update(table).where(table.c[column].in_(names)).values({column: _ERASED}))
    invitations = tables["family_invitations"]
    delete_cascading(
        conn,
        invitations,
        or_(invitations.c.invited_by == customer_id, invitations.c.invitee_customer_id == customer_id),
        counts,
    )
    requests = tables["data_subject_requests"]
    conn.execute(update(requests).where(requests.c.customer_id == customer_id).values(customer_id=None))
    _rewrite_merchant_targets(conn, tables["merchant_targets"], customer_id, counts)
    # Every other table with the customer's id, whether or not a foreign key says so.
    for table in tables.values():
        if table.name in ("customers", "data_subject_requests"):
            continue
        for col in table.c:
            if col.name == "customer_id" or any(
                fk.column is Customer.__table__.c.customer_id for fk in col.foreign_keys
            ):
                delete_cascading(conn, table, col == customer_id, counts)
    delete_cascading(conn, customers, customers.c.customer_id == customer_id, counts)
    return {"deleted": counts, "kept": kept, "anonymous_holder": anon is not None}


def _rewrite_merchant_targets(conn: Connection, table: Table, customer_id: int, counts: dict[str, int]) -> None:
    """Merchant target documents list customers likely to visit: the customer leaves those lists."""
    needle = f'"customer_id":{customer_id},'
    rows = conn.execute(select(table.c.merchant_id, table.c.month, table.c.document)).all()
    for merchant_id, month, document in rows:
        if needle not in document:
            continue
        doc = json.loads(document)
        for key, value in doc.items():
            if isinstance(value, list):
                doc[key] = [v for v in value if not (isinstance(v, dict) and v.get("customer_id") == customer_id)]
        conn.execute(
            update(table)
            .where(and_(table.c.merchant_id == merchant_id, table.c.month == month))
            .values(document=json.dumps(doc, ensure_ascii=False, separators=(",", ":")))
        )
        counts["merchant_targets"] = counts.get("merchant_targets", 0) + 1


# --- files ------------------------------------------------------------------------------------------------


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.erase.tmp")
    tmp.write_bytes(data)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _atomic_parquet(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.erase.tmp")  # not *.parquet: readers never see it
    pq.write_table(table, tmp, compression="zstd", row_group_size=512 * 1024)
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


RowFilter = Callable[[str, pa.Table], pa.Array | None]
"""(table name, rows) → a boolean mask of the rows to destroy, or None when the table is not concerned."""


def rewrite_lake(
    lake: Path, destroy: RowFilter, tables: Iterable[str] | None = None, *, skip: Callable[[str], bool] | None = None
) -> dict[str, int]:
    """Rewrite every lake file (of ``tables``, default all) holding rows ``destroy`` selects, without them;
    then the manifest.

    Each file is replaced atomically (a reader sees the old file or the new one). Returns rows destroyed
    per table. Files listed in the manifest get their new hash and row count, so ``lake check`` passes."""
    manifest = read_manifest(lake)
    by_path = _files_by_path(manifest)
    wanted = set(tables) if tables is not None else set(TABLES_BY_NAME)
    destroyed: dict[str, int] = {}
    for name in (n for n in TABLES_BY_NAME if n in wanted):
        for path in sorted(table_dir(lake, TABLES_BY_NAME[name]).glob("**/*.parquet")):
            if skip is not None and skip(str(path.relative_to(lake))):
                continue
            rows = pq.ParquetFile(path).read()
            mask = destroy(name, rows)
            n = 0 if mask is None else int(pc.sum(mask).as_py() or 0)
            if not n:
                continue
            assert mask is not None
            kept = rows.filter(pc.invert(mask))
            _atomic_parquet(kept, path)
            destroyed[name] = destroyed.get(name, 0) + n
            _record(by_path, lake, path, kept.num_rows)
    if destroyed:
        counts = manifest.get("tables")
        if isinstance(counts, dict):
            for name, n in destroyed.items():
                if name in counts:
                    counts[name] = max(int(counts[name]) - n, 0)
        _write_manifest(lake, manifest)
    return destroyed


def _files_by_path(manifest: dict[str, Any]) -> dict[str, Any]:
    files = manifest.get("files", [])
    return {f["path"]: f for f in files} if isinstance(files, list) else {}


def _record(by_path: dict[str, Any], lake: Path, path: Path, rows: int) -> None:
    entry = by_path.get(str(path.relative_to(lake)))
    if entry is not None:
        entry["rows"] = rows
        entry["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()


def _write_manifest(lake: Path, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=True) + "\n"
    _atomic_write_bytes(lake / MANIFEST, text.encode())


CUSTOMER_TABLES = tuple(n for n, t in TABLES_BY_NAME.items() if any(c.name == "customer_id" for c in t.columns))


def erase_in_lake(lake: Path, customer_ids: Iterable[int]) -> dict[str, int]:
    """Every lake row of the customers, gone; their households one member smaller (or gone)."""
    ids = pa.array(sorted(set(customer_ids)), pa.int64())
    households: dict[int, int] = {}

    def destroy(name: str, rows: pa.Table) -> pa.Array:
        mask = pc.fill_null(pc.is_in(rows["customer_id"], ids), False)
        if name == "customers":
            for h in rows.filter(mask)["household_id"].to_pylist():
                households[h] = households.get(h, 0) + 1
        return mask

    erased = rewrite_lake(lake, destroy, CUSTOMER_TABLES)
    if households:
        erased.update(_shrink_households(lake, households))
    return erased


def _shrink_households(lake: Path, removed: dict[int, int]) -> dict[str, int]:
    """Household sizes count customers (``lake check`` verifies it): reduce them; drop emptied households."""
    manifest = read_manifest(lake)
    by_path = _files_by_path(manifest)
    dropped = 0
    for path in sorted(table_dir(lake, TABLES_BY_NAME["households"]).glob("**/*.parquet")):
        rows = pq.ParquetFile(path).read()
        ids = rows["household_id"].to_pylist()
        if not any(h in removed for h in ids):
            continue
        sizes = [int(s) - removed.get(h, 0) for h, s in zip(ids, rows["size"].to_pylist(), strict=True)]
        index = rows.schema.get_field_index("size")
        field = rows.schema.field(index)
        rows = rows.set_column(index, field, pa.array(sizes, field.type)).filter(pa.array([s > 0 for s in sizes]))
        dropped += len(sizes) - rows.num_rows
        _atomic_parquet(rows, path)
        _record(by_path, lake, path, rows.num_rows)
    counts = manifest.get("tables")
    if isinstance(counts, dict) and "households" in counts:
        counts["households"] = max(int(counts["households"]) - dropped, 0)
    _write_manifest(lake, manifest)
    return {"households": dropped} if dropped else {}


def erase_in_marts(root: Path, customer_ids: Iterable[int]) -> int:
    """Derived Parquet files (marts, text signals) rewritten without the customers; their metadata kept."""
    ids = pa.array(sorted(set(customer_ids)), pa.int64())
    destroyed = 0
    if not root.exists():
        return 0
    for path in sorted(root.glob("**/*.parquet")):
        pf = pq.ParquetFile(path)
        if "customer_id" not in pf.schema_arrow.names:
            continue
        rows = pf.read()
        mask = pc.fill_null(pc.is_in(rows["customer_id"].cast(pa.int64()), ids), False)
        n = int(pc.sum(mask).as_py() or 0)
        if n:
            _atomic_parquet(rows.filter(pc.invert(mask)), path)
            destroyed += n
    return destroyed


def erase_in_reports(reports: Path, customer_ids: Iterable[int]) -> int:
    """Cluster runs keep their members (customer id → cluster): the customers leave them."""
    keys = {str(c) for c in customer_ids}
    changed = 0
    for path in sorted((reports / "clusters").glob("*.json")) if reports.exists() else []:
        doc = json.loads(path.read_text(encoding="utf-8"))
        members = doc.get("members")
        if isinstance(members, dict) and keys & set(members):
            doc["members"] = {k: v for k, v in members.items() if k not in keys}
            _atomic_write_bytes(path, (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode())
            changed += 1
    return changed


def _field(obj: dict[str, Any], dotted: str) -> Any:
    """An ECS field, nested ({"user": {"id": …}}) or flat ({"user.id": …})."""
    if dotted in obj:
        return obj[dotted]
    cur: Any = obj
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


LineFilter = Callable[[dict[str, Any]], bool]


def rewrite_logs(log_dir: Path, destroy: LineFilter) -> int:
    """Remove the JSON lines ``destroy`` selects from every file under ``log_dir``; atomic per file.
    A line that is not JSON is kept (it cannot be attributed)."""
    removed = 0
    if not log_dir.exists():
        return 0
    for path in sorted(p for p in log_dir.rglob("*") if p.is_file() and not p.name.startswith(".")):
        raw = path.read_bytes()
        out: list[bytes] = []
        n = 0
        for line in raw.splitlines(keepends=True):
            try:
                obj = json.loads(line)
            except ValueError:
                out.append(line)
                continue
            if isinstance(obj, dict) and destroy(obj):
                n += 1
            else:
                out.append(line)
        if n:
            _atomic_write_bytes(path, b"".join(out))
            removed += n
    return removed


def erase_in_logs(log_dir: Path, customer_ids: Iterable[int]) -> int:
    ids = {str(c) for c in customer_ids}
    names = {f"customer:{c}" for c in customer_ids}

    def about(obj: dict[str, Any]) -> bool:
        return str(_field(obj, "user.id")) in ids or _field(obj, "user.name") in names

    return rewrite_logs(log_dir, about)


def subject_ref(customer_id: int, index_key: bytes) -> str:
    """A keyed hash naming a data subject in records that outlive the customer."""
    import hmac

    return hmac.new(index_key, f"subject:{customer_id}".encode(), hashlib.sha256).hexdigest()
