"""Contacts in the database: sealed on disk, clear through the models; the migration converts a database
loaded before it; `db load` writes sealed values; phones are found by their blind index; keys rotate."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from cardwise.db.load import LOADS, _insert_ignoring_existing, _read, _rows
from cardwise.db.migrate import downgrade, upgrade
from cardwise.lake.check import check_lake
from cardwise.lake.schema import table
from cardwise.lake.store import table_dir
from cardwise.notify.models import CustomerContact
from cardwise.privacy import crypto
from cardwise.privacy.crypto import Keyring, is_sealed, new_key, open_identity_value, phone_index


def _raw_contacts(engine: Engine) -> list[tuple[int, str, str, str]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT customer_id, name, phone, email FROM customer_contacts"))]


def _clear_identities(lake: Path) -> dict[int, tuple[str, str, str]]:
    rows = pq.read_table(table_dir(lake, table("customer_identity"))).to_pylist()
    return {
        r["customer_id"]: tuple(open_identity_value(r[f], f) for f in ("name", "phone", "email"))  # type: ignore[misc]
        for r in rows
    }


def test_the_lake_identity_table_is_sealed(small_lake: Path) -> None:
    rows = pq.read_table(table_dir(small_lake, table("customer_identity"))).to_pylist()
    assert rows and all(is_sealed(r[f]) for r in rows for f in ("name", "phone", "email"))
    clear = _clear_identities(small_lake)
    assert all(p.startswith("010-") and "@" in e for _, p, e in clear.values())


def test_db_load_writes_sealed_values_and_the_models_read_them(env, small_lake: Path) -> None:  # type: ignore[no-untyped-def]
    raw = _raw_contacts(env.engine)
    clear = _clear_identities(small_lake)
    assert len(raw) == len(clear) > 100
    assert all(is_sealed(v) for r in raw for v in r[1:])
    with Session(env.engine) as session:
        first = session.execute(select(CustomerContact).order_by(CustomerContact.customer_id).limit(1)).scalar_one()
    assert (first.name, first.phone, first.email) == clear[first.customer_id]
    some_id, (_, phone, _) = next(iter(sorted(clear.items())))
    with env.engine.connect() as conn:
        found = conn.execute(
            select(CustomerContact.customer_id).where(CustomerContact.phone_index == phone_index(phone))
        ).scalars()
        assert list(found) == [some_id]


def test_migration_converts_a_database_loaded_before_it(db_url: str, engine: Engine, small_lake: Path) -> None:
    upgrade(db_url, "0010")
    clear = _clear_identities(small_lake)
    with engine.begin() as conn:  # what the code before 0011 wrote: everything, contacts in clear
        for name, model in LOADS[:-1]:
            lake_rows = _read(small_lake, name)
            wanted = {c.name for c in model.__table__.columns} | {"benefits_json"}
            for rows in _rows(name, lake_rows.select([c for c in lake_rows.column_names if c in wanted])):
                _insert_ignoring_existing(conn, model.__table__, rows)  # type: ignore[arg-type]
        conn.execute(
            text("INSERT INTO customer_contacts (customer_id, name, phone, email) VALUES (:c, :n, :p, :e)"),
            [{"c": c, "n": n, "p": p, "e": e} for c, (n, p, e) in clear.items()],
        )
    assert all(not is_sealed(r[1]) for r in _raw_contacts(engine))
    upgrade(db_url)
    raw = _raw_contacts(engine)
    assert len(raw) == len(clear) and all(is_sealed(v) for r in raw for v in r[1:])
    with Session(engine) as conn:
        back = {c.customer_id: (c.name, c.phone, c.email) for c in conn.execute(select(CustomerContact)).scalars()}
        cid, (_, phone, _) = sorted(clear.items())[3]
        by_phone = conn.execute(
            select(CustomerContact.customer_id).where(CustomerContact.phone_index == phone_index(phone))
        ).scalars()
        assert list(by_phone) == [cid]
    assert back == clear
    downgrade(db_url, "0010")  # and back: clear text for the older code
    assert {r[0]: r[1:] for r in _raw_contacts(engine)} == clear


def test_rotate_keys_reseals_every_value_and_the_lake(env) -> None:  # type: ignore[no-untyped-def]
    before = {c: v for c, *v in _raw_contacts(env.engine)}
    old = crypto.current()
    new = Keyring((crypto.decode_key(new_key()), *old.keys), old.index_key)
    with crypto.using(new):
        done = crypto.rotate_db(env.engine, batch=50)
        assert done == {"customer_contacts": len(before)}
        raw = _raw_contacts(env.engine)
        assert all(v.startswith(f"cw1:{new.current_id}:") for r in raw for v in r[1:])
        assert crypto.rotate_db(env.engine) == {}  # nothing stale left: a rerun does nothing
        lake = env.settings.lake_dir
        assert crypto.rotate_lake(lake) > 100
        assert check_lake(lake) == []
        ids = pq.read_table(table_dir(lake, table("customer_identity")))["name"].to_pylist()
        assert all(v.startswith(f"cw1:{new.current_id}:") for v in ids)
    # Only the new key left: every value still opens.
    only_new = Keyring((new.keys[0],), old.index_key)
    with crypto.using(only_new), Session(env.engine) as session:
        names = [c.name for c in session.execute(select(CustomerContact)).scalars()]
    assert len(names) == len(before) and all(names)
