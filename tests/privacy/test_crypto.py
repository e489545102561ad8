"""Encryption at rest: sealed values open only with the right key and column, keys rotate, dev keys are
refused in production, and the blind index matches a phone in any spelling."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from cardwise.config import Settings
from cardwise.privacy.crypto import DecryptError, Keyring, is_sealed, key_id, new_key, phone_index

A, B = new_key(), new_key()


def ring(*keys: str) -> Keyring:
    return Keyring.from_texts(keys, "index-key")


def test_round_trip_with_a_fresh_nonce_each_time() -> None:
    k = ring(A)
    one, two = k.encrypt("김민수", context="t.name"), k.encrypt("김민수", context="t.name")
    assert one != two and is_sealed(one) and "김민수" not in one
    assert k.decrypt(one, context="t.name") == k.decrypt(two, context="t.name") == "김민수"
    assert one.split(":")[1] == k.current_id


def test_deterministic_mode_repeats_bytes() -> None:
    k = ring(A)
    assert k.encrypt("010-1234-5678", context="c", deterministic=True) == k.encrypt(
        "010-1234-5678", context="c", deterministic=True
    )


def test_another_column_or_a_changed_byte_does_not_open() -> None:
    k = ring(A)
    sealed = k.encrypt("minsu@example.com", context="contacts.email")
    with pytest.raises(DecryptError, match="another column"):
        k.decrypt(sealed, context="contacts.name")
    tampered = sealed[:-3] + ("AAA" if not sealed.endswith("AAA") else "BBB")
    with pytest.raises(DecryptError):
        k.decrypt(tampered, context="contacts.email")


def test_rotation_old_values_open_new_ones_use_the_first_key() -> None:
    old = ring(A).encrypt("김민수", context="n")
    both = ring(B, A)
    assert both.decrypt(old, context="n") == "김민수"
    assert both.needs_rotation(old)
    new = both.encrypt("김민수", context="n")
    assert not both.needs_rotation(new) and new.split(":")[1] == key_id(both.keys[0])
    with pytest.raises(DecryptError, match="not among"):
        ring(B).decrypt(old, context="n")


def test_blind_index_normalises_and_depends_on_the_key() -> None:
    k = ring(A)
    assert phone_index("010-1234-5678", k) == phone_index("01012345678", k) == phone_index("+82 10 1234 5678", k)
    assert phone_index("010-1234-5678", k) != phone_index("010-1234-5679", k)
    assert phone_index("010-1234-5678", k) != phone_index("010-1234-5678", Keyring.from_texts([A], "other"))


def test_settings_refuse_dev_keys_in_production_and_malformed_keys() -> None:
    secrets = {"pan_hmac_key": "p", "jwt_secret": "j" * 40, "cookie_secure": True}
    with pytest.raises(ValidationError, match="CARDWISE_PII_KEYS"):
        Settings(environment="production", pii_index_key="x", **secrets)
    with pytest.raises(ValidationError, match="CARDWISE_PII_INDEX_KEY"):
        Settings(environment="production", pii_keys=[A], **secrets)
    with pytest.raises(ValidationError, match="32 bytes"):
        Settings(pii_keys=["c2hvcnQ="])
    assert Settings(pii_keys=[B, A]).pii_keys == [B, A]
