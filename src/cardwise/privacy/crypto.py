"""Encryption at rest of names, phone numbers and e-mail addresses (PIPA art. 29, P4).

Values are sealed with AES-256-GCM under the first of ``settings.pii_keys`` and opened with whichever
key sealed them, so keys rotate without downtime: add a new key in front, run
``cardwise privacy rotate-keys``, then drop the old one. A sealed value is text:

    cw1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>

The key id (first 8 hex digits of the key's SHA-256) says which key opened it without trying each
one, and lets ``rotate-keys`` select the rows still under an old key with a plain ``LIKE``. The column
name is authenticated data: a ciphertext copied into another column does not open.

Equality lookups (a family invitation by phone number) use a *blind index*: a keyed HMAC of the
normalised value under ``settings.pii_index_key``, a key of its own, so rotating the encryption keys
never changes an index.

The keys reach the column type through a process-wide :class:`Keyring` (a column type cannot take a
request's settings): :func:`install` puts one in place (the app and the CLI do it from their settings)
and :func:`current` falls back to the environment's settings.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Dialect, Text
from sqlalchemy.types import TypeDecorator

PREFIX: Final = "cw1:"
_NONCE: Final = 12
_KEY_BYTES: Final = 32


class KeyFormatError(ValueError):
    """A key that is not 32 bytes of url-safe base64."""


class DecryptError(ValueError):
    """A sealed value that none of the configured keys opens (wrong key, or tampered with)."""


def new_key() -> str:
    """A fresh random key in the form ``CARDWISE_PII_KEYS`` takes."""
    return base64.urlsafe_b64encode(os.urandom(_KEY_BYTES)).decode()


def decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode() + b"=" * (-len(text.strip()) % 4))
    except (binascii.Error, ValueError):
        raise KeyFormatError("a PII key must be url-safe base64 (cardwise privacy new-key prints one)") from None
    if len(raw) != _KEY_BYTES:
        raise KeyFormatError(f"a PII key must decode to {_KEY_BYTES} bytes, got {len(raw)}")
    return raw


def key_id(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()[:8]


@dataclass(frozen=True)
class Keyring:
    """Encryption keys (first = current) and the blind-index key."""

    keys: tuple[bytes, ...]
    index_key: bytes
    _by_id: dict[str, AESGCM] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise KeyFormatError("at least one PII key is needed")
        object.__setattr__(self, "_by_id", {key_id(k): AESGCM(k) for k in self.keys})

    @classmethod
    def from_texts(cls, keys: Sequence[str], index_key: str) -> Keyring:
        return cls(tuple(decode_key(k) for k in keys), index_key.encode())

    @classmethod
    def from_settings(cls, settings: Any) -> Keyring:
        return cls.from_texts(settings.pii_keys, settings.pii_index_key)

    @property
    def current_id(self) -> str:
        return key_id(self.keys[0])

    def encrypt(self, plaintext: str, *, context: str, deterministic: bool = False) -> str:
        """Seal ``plaintext`` for the column ``context``. ``deterministic`` derives the nonce from the
        value (same input, same bytes): only for files whose bytes must be reproducible, e.g. the lake."""
        data = plaintext.encode()
        if deterministic:
            nonce = hmac.new(self.keys[0], context.encode() + b"\0" + data, hashlib.sha256).digest()[:_NONCE]
        else:
            nonce = os.urandom(_NONCE)
        sealed = self._by_id[self.current_id].encrypt(nonce, data, context.encode())
        return f"{PREFIX}{self.current_id}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, token: str, *, context: str) -> str:
        if not is_sealed(token):
            raise DecryptError("not an encrypted value")
        _, kid, body = token.split(":", 2)
        aead = self._by_id.get(kid)
        if aead is None:
            raise DecryptError(f"value sealed with key {kid}, which is not among CARDWISE_PII_KEYS")
        try:
            raw = base64.urlsafe_b64decode(body.encode())
            return aead.decrypt(raw[:_NONCE], raw[_NONCE:], context.encode()).decode()
        except (InvalidTag, binascii.Error, ValueError):
            raise DecryptError(f"value does not open with key {kid} (tampered with or another column's)") from None

    def needs_rotation(self, token: str) -> bool:
        return not token.startswith(f"{PREFIX}{self.current_id}:")

    def blind_index(self, value: str, *, context: str) -> str:
        """A keyed HMAC of a normalised value: equal values match, the value cannot be read back."""
        return hmac.new(self.index_key, f"{context}:{value}".encode(), hashlib.sha256).hexdigest()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX) and value.count(":") >= 2


_installed: Keyring | None = None
_from_env: Keyring | None = None


def install(keyring: Keyring) -> None:
    """Use ``keyring`` for every encrypted column from now on in this process."""
    global _installed
    _installed = keyring


def current() -> Keyring:
    global _from_env
    if _installed is not None:
        return _installed
    if _from_env is None:
        from cardwise.config import get_settings

        _from_env = Keyring.from_settings(get_settings())
    return _from_env


@contextmanager
def using(keyring: Keyring) -> Iterator[Keyring]:
    """Install ``keyring`` for a block (tests of rotation), then put the previous one back."""
    global _installed
    before = _installed
    _installed = keyring
    try:
        yield keyring
    finally:
        _installed = before


class EncryptedString(TypeDecorator[str]):
    """A text column stored sealed; reads return the clear value. ``context`` names the column."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if is_sealed(value):  # already sealed (re-encryption writes through the raw column)
            return value
        return current().encrypt(value, context=self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return current().decrypt(str(value), context=self.context)


def open_stored(value: str, context: str, keyring: Keyring | None = None) -> str:
    """A stored value in clear whether or not it is sealed yet (migrations, legacy rows)."""
    return (keyring or current()).decrypt(value, context=context) if is_sealed(value) else value


# --- normalisation for blind indexes ---------------------------------------------------------------------

_PHONE_DIGITS: Final = re.compile(r"[\s.()\-]")


def phone_index(phone: str, keyring: Keyring | None = None) -> str:
    """The blind index of a phone number in its canonical digits (010-1234-5678 and 01012345678 match)."""
    digits = _PHONE_DIGITS.sub("", phone)
    if digits.startswith("+82"):
        digits = "0" + digits[3:].lstrip("0")
    return (keyring or current()).blind_index(digits, context="phone")


# --- the lake's identity table ------------------------------------------------------------------------------

IDENTITY_FIELDS: Final = ("name", "phone", "email")


def seal_identity_table(table: Any, keyring: Keyring | None = None) -> Any:
    """The lake's ``customer_identity`` (a pyarrow table) with name, phone and e-mail sealed.

    Deterministic nonces: the same lake and key give the same bytes (the manifest's hashes and
    ``test_same_seed_same_bytes`` depend on it); equal values then have equal ciphertexts, which the
    table's one-row-per-customer shape makes harmless."""
    import pyarrow as pa

    ring = keyring or current()
    for name in IDENTITY_FIELDS:
        context = f"customer_identity.{name}"
        values = [
            v if v is None or is_sealed(v) else ring.encrypt(v, context=context, deterministic=True)
            for v in table[name].to_pylist()
        ]
        index = table.schema.get_field_index(name)
        table = table.set_column(index, table.schema.field(index), pa.array(values, pa.string()))
    return table


def open_identity_value(value: str, field_name: str, keyring: Keyring | None = None) -> str:
    """A lake identity value in clear; lakes written before encryption hold clear values and still load."""
    if not is_sealed(value):
        return value
    return (keyring or current()).decrypt(value, context=f"customer_identity.{field_name}")


def identity_row(row: dict[str, Any], keyring: Keyring | None = None) -> dict[str, Any]:
    """A ``customer_contacts`` row from a lake identity row: clear values (the column type seals them
    with a fresh nonce) and the phone's blind index."""
    ring = keyring or current()
    out = {"customer_id": row["customer_id"]}
    for name in IDENTITY_FIELDS:
        out[name] = open_identity_value(row[name], name, ring)
    out["phone_index"] = phone_index(out["phone"], ring)
    return out


# --- key rotation -------------------------------------------------------------------------------------------


def encrypted_columns() -> dict[str, tuple[str, list[str]]]:
    """Every table with sealed columns: name → (primary-key column, sealed columns)."""
    from cardwise.db import all_models  # noqa: F401  (every table on the metadata)
    from cardwise.db.base import Base

    out: dict[str, tuple[str, list[str]]] = {}
    for name, table in Base.metadata.tables.items():
        sealed = [c.name for c in table.c if isinstance(c.type, EncryptedString)]
        if sealed:
            out[name] = (next(iter(table.primary_key.columns)).name, sealed)
    return out


def rotate_db(engine: Any, keyring: Keyring | None = None, *, batch: int = 1_000) -> dict[str, int]:
    """Re-seal every value not under the current key, ``batch`` rows per transaction (a crash loses at
    most one batch's work, never a value: each row is rewritten whole). Returns rows re-sealed per table."""
    import sqlalchemy as sa

    ring = keyring or current()
    mark = f"{PREFIX}{ring.current_id}:%"
    done: dict[str, int] = {}
    for name, (pk, cols) in encrypted_columns().items():
        t = sa.table(name, sa.column(pk), *(sa.column(c, sa.Text()) for c in cols))
        stale = sa.or_(*(sa.and_(t.c[c].is_not(None), t.c[c].not_like(mark)) for c in cols))
        after: Any = None
        while True:
            with engine.begin() as conn:
                query = sa.select(t).where(stale).order_by(t.c[pk]).limit(batch)
                if after is not None:
                    query = query.where(t.c[pk] > after)
                rows = conn.execute(query).all()
                for row in rows:
                    values = {
                        c: ring.encrypt(ring.decrypt(row._mapping[c], context=f"{name}.{c}"), context=f"{name}.{c}")
                        if row._mapping[c] is not None
                        else None
                        for c in cols
                    }
                    conn.execute(t.update().where(t.c[pk] == row._mapping[pk]).values(**values))
            if not rows:
                break
            done[name] = done.get(name, 0) + len(rows)
            after = rows[-1]._mapping[pk]
    return done


def rotate_lake(lake: Any, keyring: Keyring | None = None) -> int:
    """Re-seal the lake's identity table under the current key (files replaced atomically, manifest
    updated). Returns the rows re-sealed."""
    import pyarrow.parquet as pq

    from cardwise.lake.schema import table
    from cardwise.lake.store import read_manifest, table_dir
    from cardwise.privacy.erasure import _atomic_parquet, _files_by_path, _record, _write_manifest

    ring = keyring or current()
    manifest = read_manifest(lake)
    by_path = _files_by_path(manifest)
    n = 0
    for path in sorted(table_dir(lake, table("customer_identity")).glob("**/*.parquet")):
        rows = pq.ParquetFile(path).read()
        if all(not ring.needs_rotation(v) for f in IDENTITY_FIELDS for v in rows[f].to_pylist() if v is not None):
            continue
        import pyarrow as pa

        for f in IDENTITY_FIELDS:
            i = rows.schema.get_field_index(f)
            opened = [None if v is None else open_identity_value(v, f, ring) for v in rows[f].to_pylist()]
            rows = rows.set_column(i, rows.schema.field(i), pa.array(opened, pa.string()))
        rows = seal_identity_table(rows, ring)
        _atomic_parquet(rows, path)
        _record(by_path, lake, path, rows.num_rows)
        n += rows.num_rows
    if n:
        _write_manifest(lake, manifest)
    return n
