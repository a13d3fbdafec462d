"""uqudo JWS verification (adapters/uqudo/jws.py). The signing kit the uqudo tests share (the
committed TEST-ONLY key, `sign`, the cassette materialiser) is tests/support/signing/uqudo.py."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.base import ErrorCode, ProviderError
from adapters.uqudo import inferred
from adapters.uqudo.jws import (
    JwsInvalid,
    ReplayGuard,
    UnknownSigningKey,
    public_key_of,
    signing_kid,
)
from tests.support.signing.uqudo import (
    CASSETTES,
    CLIENT_ID,
    IAT,
    NO_TIMES,
    NOW,
    SID,
    TEST_KEY,
    TEST_KEY_PATH,
    TEST_KID,
    Clock,
    JwksSource,
    b64url,
    claims,
    documented_claims,
    forge,
    jwks,
    load_cassette,
    materialise,
    public_jwk,
    sign,
    verifier,
)


@pytest.fixture
def source() -> JwksSource:
    return JwksSource(jwks((TEST_KEY, TEST_KID)))


@pytest.fixture(scope="module")
def other_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


# -- the cassettes' JWS verifies, deterministically -----------------------------------------------
def test_test_key_is_marked_test_only() -> None:
    assert TEST_KEY_PATH.read_text().startswith("TEST-ONLY RSA KEY")
    assert TEST_KEY.key_size == 2048


def test_materialised_info_jws_is_deterministic() -> None:
    first = load_cassette("info_200.yaml")["interactions"][0]["response"]["body"]["string"]
    again = load_cassette("info_200.yaml")["interactions"][0]["response"]["body"]["string"]
    assert first == again and first.count(".") == 2
    assert jwt.get_unverified_header(first) == {"kid": TEST_KID, "alg": "RS256"}
    claims_ = jwt.decode(
        first, TEST_KEY.public_key(), algorithms=["RS256"], audience=CLIENT_ID, options=NO_TIMES
    )
    assert claims_ == documented_claims()
    assert claims_["jti"] == SID and claims_["exp"] - claims_["iat"] == 7200


def load_jwks_cassette() -> dict[str, Any]:
    body = load_cassette("jwks_200.yaml")["interactions"][0]["response"]["body"]["string"]
    return json.loads(body)


async def test_jwks_cassette_serves_the_test_key() -> None:
    document = load_jwks_cassette()
    (jwk,) = document["keys"]
    assert jwk["kid"] == TEST_KID and jwk["kty"] == "RSA" and jwk["alg"] == "RS256"
    assert "d" not in jwk  # public half only
    check = verifier(JwksSource(document))
    token = load_cassette("info_200.yaml")["interactions"][0]["response"]["body"]["string"]
    result = await check.verify(token, session_id=SID)
    assert result["jti"] == SID


def test_templates_materialise_to_wire_bodies() -> None:
    create = load_cassette("create_qr_session_200.yaml")["interactions"][0]["request"]["body"]
    data = json.loads(create)["data"]
    assert isinstance(data, str)
    assert json.loads(base64.b64decode(data))["documents"][0]["documentType"] == "PASSPORT"
    token = load_cassette("token_200.yaml")["interactions"][0]["request"]["body"]
    assert parse_qs(token) == {
        "grant_type": ["client_credentials"],
        "client_id": [CLIENT_ID],
        "client_secret": ["test-client-secret"],
    }
    webhook = json.loads((CASSETTES / "webhook_jws_result.json").read_text())
    body = materialise(webhook["body"])
    webhook_claims = jwt.decode(
        body["jwsResult"],
        TEST_KEY.public_key(),
        algorithms=["RS256"],
        audience=CLIENT_ID,
        options=NO_TIMES,
    )
    assert "verifications" not in webhook_claims["data"]  # as seen on a tenant: no scores


# -- accepted -------------------------------------------------------------------------------------
async def test_valid_result_verifies(source: JwksSource) -> None:
    check = verifier(source)
    result = await check.verify(sign(claims()), session_id=SID)
    assert result["jti"] == SID
    assert check.verify_cached(sign(claims()), session_id=SID)["aud"] == CLIENT_ID
    assert source.reads == 1


async def test_audience_list_containing_the_client_is_accepted(source: JwksSource) -> None:
    result = await verifier(source).verify(sign(claims(aud=["other", CLIENT_ID])))
    assert result["jti"] == SID


@pytest.mark.parametrize(
    "absent",
    [("iss",), ("exp",), ("iat",), ("iss", "exp", "iat")],
    ids=lambda names: "no " + "/".join(names),
)
async def test_claims_the_documented_example_lacks_are_not_required(
    source: JwksSource, absent: tuple[str, ...]
) -> None:
    """uqudo's documented result shows only `aud` and `data` at its top level
    (https://docs.uqudo.com/docs/kyc/uqudo-sdk/sdk-result/validation-and-parsing, "Enrollment
    payload example"); `jti` is named as the session id on the Info API page. `iss`, `exp`
    and `iat` are checked only when present (inferred.CHECKED_IF_PRESENT)."""
    token = sign(claims(**dict.fromkeys(absent)))
    result = await verifier(source).verify(token, session_id=SID)
    assert result["jti"] == SID and not set(absent) & set(result)
    assert inferred.REQUIRED_CLAIMS == ("aud", "jti")


async def test_iat_within_skew_is_accepted(source: JwksSource) -> None:
    now = NOW.timestamp()
    token = sign(claims(iat=now + inferred.CLOCK_SKEW_S - 1, exp=now + 7200))
    assert (await verifier(source).verify(token))["jti"] == SID


async def test_exp_within_skew_is_accepted(source: JwksSource) -> None:
    now = NOW.timestamp()
    token = sign(claims(iat=now - 7200, exp=now - inferred.CLOCK_SKEW_S + 1))
    assert (await verifier(source).verify(token))["jti"] == SID


# -- refused --------------------------------------------------------------------------------------
def hs256_with_public_key_as_secret() -> str:
    """The classic confusion attack: HMAC keyed with the RSA public key's PEM."""
    secret = TEST_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": TEST_KID}
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims()).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(mac)}"


def refused_tokens(other_key: rsa.RSAPrivateKey) -> dict[str, tuple[str, str]]:
    now = NOW.timestamp()
    return {
        "other key": (sign(claims(), key=other_key), "signature"),
        "alg none": (forge({"alg": "none", "kid": TEST_KID}, claims()), "algorithm"),
        "alg None": (forge({"alg": "None", "kid": TEST_KID}, claims()), "algorithm"),
        "no alg": (forge({"kid": TEST_KID}, claims()), "algorithm"),
        "HS256 with the public key": (hs256_with_public_key_as_secret(), "algorithm"),
        "RS512": (sign(claims(), alg="RS512"), "algorithm"),
        "PS256": (sign(claims(), alg="PS256"), "algorithm"),
        "expired": (sign(claims(iat=now - 7300, exp=now - 100)), "expired"),
        "wrong aud": (sign(claims(aud="another-client")), "audience"),
        "no aud": (sign(claims(aud=None)), "aud"),
        "wrong iss": (sign(claims(iss="https://evil.example.com")), "issuer"),
        "future iat": (
            sign(claims(iat=now + inferred.CLOCK_SKEW_S + 5, exp=now + 7200)),
            "future",
        ),
        "nbf ahead": (sign(claims(nbf=now + 3600)), "not valid yet"),
        "no jti": (sign(claims(jti=None)), "jti"),
        "string exp": (sign(claims(exp="tomorrow")), "exp"),
        "jti of another session": (
            sign(claims(jti="9b2e7d41-3c6a-4f58-b1d0-7e8f9a0b1c2d")),
            "another session",
        ),
        "no kid": (sign(claims(), kid=None), "kid"),
        "crit header": (sign(claims(), header={"crit": ["exp"]}), ""),  # PyJWT refuses it first
        "jku header": (sign(claims(), header={"jku": "https://evil.example.com/k"}), "jku"),
        "tampered payload": (_tampered(sign(claims())), "signature"),
        "garbage": ("not-a-jws", "compact"),
        "two parts": ("a.b", "compact"),
    }


def _tampered(token: str) -> str:
    head, _, rest = token.partition(".")
    _, _, signature = rest.partition(".")
    body = b64url(json.dumps(claims(aud=CLIENT_ID, jti=SID, extra=True)).encode())
    return f"{head}.{body}.{signature}"


@pytest.mark.parametrize(
    "case",
    [
        "other key",
        "alg none",
        "alg None",
        "no alg",
        "HS256 with the public key",
        "RS512",
        "PS256",
        "expired",
        "wrong aud",
        "no aud",
        "wrong iss",
        "future iat",
        "nbf ahead",
        "no jti",
        "string exp",
        "jti of another session",
        "no kid",
        "crit header",
        "jku header",
        "tampered payload",
        "garbage",
        "two parts",
    ],
)
async def test_refused(case: str, source: JwksSource, other_key: rsa.RSAPrivateKey) -> None:
    token, reason = refused_tokens(other_key)[case]
    check = verifier(source)
    await check.keys.refresh()
    with pytest.raises(JwsInvalid) as info:
        await check.verify(token, session_id=SID)
    assert reason in info.value.reason
    with pytest.raises(JwsInvalid):
        check.verify_cached(token, session_id=SID)
    assert SID not in info.value.reason and "MARIO" not in info.value.reason


def test_algorithm_check_happens_before_any_key_lookup() -> None:
    for alg in ("none", "HS256", "HS512", "RS384", "ES256", "EdDSA"):
        with pytest.raises(JwsInvalid, match="refused"):
            signing_kid(forge({"alg": alg, "kid": TEST_KID}, claims()))
    assert signing_kid(sign(claims())) == TEST_KID


def test_attacker_chosen_algorithm_text_is_not_echoed() -> None:
    with pytest.raises(JwsInvalid) as info:
        signing_kid(forge({"alg": "<script>alert(1)</script>", "kid": "k"}, claims()))
    assert "<script>" not in info.value.reason


# -- replays --------------------------------------------------------------------------------------
def test_replay_guard_allows_the_same_token_and_refuses_another() -> None:
    guard = ReplayGuard(clock=Clock())
    first = sign(claims())
    guard.check(SID, first)
    guard.remember(SID, first)
    guard.check(SID, first)  # a redelivery of the same token: fine (the gateway dedupes)
    different = sign(claims(iat=IAT + 1))
    with pytest.raises(JwsInvalid, match="replay"):
        guard.check(SID, different)
    guard.remember(SID, different)  # never replaces the first
    guard.check(SID, first)


def test_replay_guard_forgets_after_the_jws_lifetime() -> None:
    clock = Clock()
    guard = ReplayGuard(clock=clock)
    guard.remember(SID, sign(claims()))
    clock.advance(inferred.SEEN_JTI_TTL_S + 1)
    guard.check(SID, sign(claims(iat=IAT + 1)))  # by now exp has refused it anyway


# -- keys -----------------------------------------------------------------------------------------
async def test_keys_are_cached_by_kid(source: JwksSource) -> None:
    check = verifier(source)
    for _ in range(5):
        await check.verify(sign(claims()))
    assert source.reads == 1


async def test_unknown_kid_refetches_once_then_fails(other_key: rsa.RSAPrivateKey) -> None:
    clock = Clock()
    rotated = jwks((TEST_KEY, TEST_KID), (other_key, "rotated"))
    source = JwksSource(jwks((TEST_KEY, TEST_KID)), rotated)
    check = verifier(source, clock)
    await check.verify(sign(claims()))
    clock.advance(inferred.JWKS_REFETCH_MIN_INTERVAL_S)
    assert (await check.verify(sign(claims(), key=other_key, kid="rotated")))["jti"] == SID
    assert source.reads == 2
    with pytest.raises(UnknownSigningKey):
        await check.verify(sign(claims(), key=other_key, kid="never-published"))
    assert source.reads == 2  # throttled: an unknown kid costs at most one read per interval
    clock.advance(inferred.JWKS_REFETCH_MIN_INTERVAL_S)
    with pytest.raises(UnknownSigningKey):
        await check.verify(sign(claims(), key=other_key, kid="never-published"))
    assert source.reads == 3


async def test_cold_cache_reads_the_set_even_within_the_interval(source: JwksSource) -> None:
    check = verifier(source)
    assert check.keys.may_refetch() and not check.keys.loaded
    with pytest.raises(UnknownSigningKey):
        check.verify_cached(sign(claims()))
    await check.verify(sign(claims()))
    assert check.keys.loaded and source.reads == 1


async def test_keys_expire_from_the_cache() -> None:
    clock = Clock()
    source = JwksSource(jwks((TEST_KEY, TEST_KID)))
    check = verifier(source, clock)
    await check.verify(sign(claims()))
    clock.advance(inferred.JWKS_CACHE_TTL_S + 1)
    # The result itself would be expired by now; the point is the key is read again.
    with pytest.raises(JwsInvalid):
        await check.verify(sign(claims()))
    assert source.reads == 2


async def test_jwks_read_failure_surfaces_and_is_throttled() -> None:
    clock = Clock()
    failure = ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, "down")
    source = JwksSource(failure, jwks((TEST_KEY, TEST_KID)))
    check = verifier(source, clock)
    with pytest.raises(ProviderError):
        await check.verify(sign(claims()))
    with pytest.raises(UnknownSigningKey):
        await check.verify(sign(claims()))  # within the interval: no second read
    clock.advance(inferred.JWKS_REFETCH_MIN_INTERVAL_S)
    assert (await check.verify(sign(claims())))["jti"] == SID


@pytest.mark.parametrize(
    ("jwk", "accepted"),
    [
        (public_jwk(kid="k"), True),
        (public_jwk(kid="k", use="sig", alg="RS256"), True),
        (public_jwk(kid="k", use="enc"), False),
        (public_jwk(kid="k", alg="RS512"), False),
        ({"kty": "EC", "kid": "k", "crv": "P-256", "x": "AA", "y": "AA"}, False),
        ({"kty": "oct", "kid": "k", "k": "c2VjcmV0"}, False),
        ({"kty": "RSA", "kid": "k", "n": "AQAB", "e": "AQAB"}, False),  # far too small
        ({"kty": "RSA", "kid": "k", "n": 5, "e": "AQAB"}, False),
        ({"kty": "RSA", "kid": "k"}, False),
    ],
)
def test_only_rsa_signing_keys_are_taken_from_the_set(jwk: dict[str, Any], accepted: bool) -> None:
    assert (public_key_of(jwk) is not None) is accepted


async def test_malformed_sets_and_entries_are_skipped() -> None:
    source = JwksSource(
        {"keys": ["junk", {"kid": 5}, public_jwk(kid=""), public_jwk(kid=TEST_KID)]},
    )
    check = verifier(source)
    assert (await check.verify(sign(claims())))["jti"] == SID
    empty = verifier(JwksSource(["not", "a", "set"]))
    with pytest.raises(UnknownSigningKey):
        await empty.verify(sign(claims()))


async def test_private_parameters_in_a_published_jwk_are_ignored() -> None:
    private = RSAAlgorithm.to_jwk(TEST_KEY, as_dict=True)
    key = public_key_of({**private, "kid": TEST_KID})
    assert key is not None
    assert key.public_numbers() == TEST_KEY.public_key().public_numbers()
