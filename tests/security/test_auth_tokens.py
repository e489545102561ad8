"""Access tokens: what is accepted and what is refused, directly and over HTTP (no database needed)."""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from cardwise.api import create_app
from cardwise.config import Settings
from cardwise.db.types import utcnow
from cardwise.security.auth import TokenInvalid, decode_token, key_id, mint_token
from tests.auth_helpers import bearer, token_for

OTHER_SECRET = "another-secret-of-at-least-32-characters!"


def _mint(settings: Settings, **kw: object) -> str:
    args: dict[str, object] = {
        "typ": "access",
        "user_id": 7,
        "username": "kim.agent",
        "roles": frozenset({"agent"}),
        "customer_id": None,
        "session_id": "s1",
        "now": utcnow(),
    }
    args.update(kw)
    return mint_token(settings, **args)  # type: ignore[arg-type]


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_minted_token_round_trips(settings: Settings) -> None:
    claims = decode_token(settings, _mint(settings), typ="access")
    assert (claims.user_id, claims.username, claims.roles, claims.customer_id, claims.session_id) == (
        7,
        "kim.agent",
        frozenset({"agent"}),
        None,
        "s1",
    )
    assert timedelta(minutes=14) < claims.expires_at - utcnow() <= timedelta(minutes=15)


def _reason(settings: Settings, token: str, typ: str = "access") -> str:
    with pytest.raises(TokenInvalid) as err:
        decode_token(settings, token, typ=typ)  # type: ignore[arg-type]
    return err.value.reason


def test_expired_forged_and_tampered_tokens_are_refused(settings: Settings) -> None:
    assert _reason(settings, _mint(settings, now=utcnow() - timedelta(minutes=16))) == "expired"
    forged = _mint(settings.model_copy(update={"jwt_secret": OTHER_SECRET}))
    assert _reason(settings, forged) == "unknown key"
    # Same key id as ours, signed with another key: the signature check refuses it.
    header = {"alg": "HS256", "typ": "JWT", "kid": key_id(settings.jwt_secret)}
    payload = jwt.decode(_mint(settings), options={"verify_signature": False})
    assert _reason(settings, jwt.encode(payload, OTHER_SECRET, algorithm="HS256", headers=header)) == (
        "InvalidSignatureError"
    )
    # A customer raising themself to admin by editing the payload.
    head, _, sig = _mint(settings, roles=["customer"], customer_id=5).split(".")
    promoted = {**payload, "roles": ["admin"], "cid": None}
    assert _reason(settings, f"{head}.{_b64(promoted)}.{sig}") == "InvalidSignatureError"
    assert _reason(settings, "not.a.jwt") == "malformed"
    assert _reason(settings, "x" * 5000) == "too long"


def test_alg_none_and_other_algorithms_are_refused(settings: Settings) -> None:
    payload = jwt.decode(_mint(settings), options={"verify_signature": False})
    kid = key_id(settings.jwt_secret)
    unsigned = f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(payload)}."
    assert _reason(settings, unsigned) == "InvalidAlgorithmError"
    hs512 = jwt.encode(payload, settings.jwt_secret, algorithm="HS512", headers={"kid": kid})
    assert _reason(settings, hs512) == "InvalidAlgorithmError"


def test_a_session_token_is_not_an_access_token(settings: Settings) -> None:
    assert _reason(settings, _mint(settings, typ="session")) == "wrong type"
    assert _reason(settings, _mint(settings), typ="session") == "wrong type"


def test_malformed_claims_are_refused(settings: Settings) -> None:
    kid = key_id(settings.jwt_secret)
    good = jwt.decode(_mint(settings), options={"verify_signature": False})
    for change in ({"roles": []}, {"roles": ["Admin!"]}, {"sub": "abc"}, {"cid": -1}, {"cid": True}, {"aud": "x"}):
        token = jwt.encode({**good, **change}, settings.jwt_secret, algorithm="HS256", headers={"kid": kid})
        with pytest.raises(TokenInvalid):
            decode_token(settings, token, typ="access")
    without_exp = {k: v for k, v in good.items() if k != "exp"}
    token = jwt.encode(without_exp, settings.jwt_secret, algorithm="HS256", headers={"kid": kid})
    assert _reason(settings, token) == "MissingRequiredClaimError"


def test_key_rotation_keeps_old_tokens_valid_until_the_old_key_is_dropped(settings: Settings) -> None:
    old = _mint(settings)
    rotated = settings.model_copy(update={"jwt_secret": OTHER_SECRET, "jwt_previous_secrets": [settings.jwt_secret]})
    assert decode_token(rotated, old, typ="access").user_id == 7
    new = _mint(rotated)
    assert jwt.get_unverified_header(new)["kid"] == key_id(OTHER_SECRET)
    done = rotated.model_copy(update={"jwt_previous_secrets": []})
    assert decode_token(done, new, typ="access").user_id == 7
    assert _reason(done, old) == "unknown key"


def test_production_refuses_the_development_key() -> None:
    # Every other production secret set, so the JWT key is the one refused.
    secrets = {
        "pan_hmac_key": "p" * 40,
        "pii_keys": [base64.urlsafe_b64encode(b"k" * 32).decode()],
        "pii_index_key": "i" * 40,
    }
    assert Settings(environment="production", jwt_secret="j" * 40, **secrets).environment == "production"
    with pytest.raises(ValidationError, match="CARDWISE_JWT_SECRET"):
        Settings(environment="production", **secrets)
    with pytest.raises(ValidationError, match="CARDWISE_COOKIE_SECURE"):
        Settings(environment="production", jwt_secret="j" * 40, cookie_secure=False, **secrets)
    with pytest.raises(ValidationError):
        Settings(jwt_secret="short")


def test_bad_tokens_over_http_are_401_with_a_bearer_challenge(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    expired = token_for("agent", ttl=timedelta(seconds=-60), settings=settings)
    forged = token_for("admin", settings=settings.model_copy(update={"jwt_secret": OTHER_SECRET}))
    for headers in (bearer(expired), bearer(forged), bearer("abc"), {"Authorization": "Basic YTpi"}, {}):
        r = client.get("/v1/auth/me", headers=headers)
        assert r.status_code == 401, headers
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/v1/auth/me", headers=bearer(expired)).headers["www-authenticate"] == (
        'Bearer error="invalid_token"'
    )
    # The interim gateway headers no longer identify anyone.
    assert client.get("/v1/auth/me", headers={"X-Customer-Id": "12", "X-Roles": "admin"}).status_code == 401
    me = client.get("/v1/auth/me", headers=bearer(token_for("analyst", username="lee", settings=settings))).json()
    assert me["roles"] == ["analyst"] and me["username"] == "lee" and "lake.read" in me["permissions"]
    assert "transactions" in me["lake_tables"] and "call_transcripts" not in me["lake_tables"]


def test_a_cached_token_still_expires(settings: Settings) -> None:
    """Verified tokens are cached (the switch reuses one for thousands of calls); the expiry still holds."""
    token = _mint(settings, ttl=timedelta(seconds=-3.5))  # inside the 5 s leeway for at least half a second
    assert decode_token(settings, token, typ="access").user_id == 7
    assert decode_token(settings, token, typ="access").user_id == 7  # from the cache
    time.sleep(2.1)
    assert _reason(settings, token) == "expired"
