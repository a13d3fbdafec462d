"""uqudo's test-only signing kit (docs/vendors/uqudo.md, Webhooks and signature): the committed
TEST-ONLY key, `sign`, a scripted JWKS, and the cassette materialiser.

Why templates: cassette bodies must be JSON and free of long token-like strings
(test_cassette_hygiene), but on the wire the Info API answers a compact JWS, the create body
holds base64 and the token request is form-encoded. The cassettes therefore hold readable
templates (`{"$jws": {"header", "payload"}}`, `{"$base64json": …}`, `{"$form": …}`,
`{"$test_jwk": …}`) and `load_cassette` / `UQUDO_SERIALIZER` turn them into the wire bytes.
RS256 (PKCS#1 v1.5) signatures are deterministic, so a template signed with the committed
TEST-ONLY key (tests/support/uqudo_test_key.pem) always yields the same JWS.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import jwt
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from adapters.uqudo.jws import Expectations, JwsVerifier, KeySet

ROOT = Path(__file__).resolve().parents[3]
CASSETTES = ROOT / "cassettes" / "uqudo"
TEST_KEY_PATH = ROOT / "tests" / "support" / "uqudo_test_key.pem"
TEST_KEY: rsa.RSAPrivateKey = serialization.load_pem_private_key(  # type: ignore[assignment]
    TEST_KEY_PATH.read_bytes(), password=None
)
TEST_KID = "uqudo-test-key"
CLIENT_ID = "test-client-id"
ISSUER = "https://id.uqudo.io"
SID = "4f3c2b1a-5d6e-4f70-8a9b-0c1d2e3f4a5b"  # the cassettes' session
IAT = 1769947200  # 2026-02-01T12:00:00Z, the cassettes' result time
NOW = datetime(2026, 2, 1, 12, 5, tzinfo=UTC)
#: PyJWT checks times against the machine's clock; the fixtures are dated.
NO_TIMES = {"verify_exp": False, "verify_iat": False, "verify_nbf": False}


# -- signing --------------------------------------------------------------------------------------
def public_jwk(key: rsa.RSAPrivateKey = TEST_KEY, **extra: Any) -> dict[str, Any]:
    jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, **extra}


def jwks(*keys: tuple[rsa.RSAPrivateKey, str]) -> dict[str, Any]:
    return {"keys": [public_jwk(k, kid=kid, use="sig", alg="RS256") for k, kid in keys]}


def sign(
    payload: Mapping[str, Any],
    *,
    key: Any = TEST_KEY,
    kid: str | None = TEST_KID,
    alg: str = "RS256",
    header: Mapping[str, Any] | None = None,
) -> str:
    """A compact JWS, header `{"kid", "alg"}` without `typ`, as uqudo's
    (https://docs.uqudo.com/docs/kyc/uqudo-sdk/sdk-result/validation-and-parsing)."""
    headers: dict[str, Any] = {"typ": None}
    if kid is not None:
        headers["kid"] = kid
    headers.update(header or {})
    return jwt.encode(dict(payload), key, algorithm=alg, headers=headers)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(header: Mapping[str, Any], payload: Mapping[str, Any], signature: bytes = b"") -> str:
    """A JWS assembled by hand (for algorithms PyJWT refuses to produce)."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(payload).encode())
    return f"{head}.{body}.{b64url(signature)}"


def compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# -- cassette templates ---------------------------------------------------------------------------
def materialise(value: Any) -> Any:
    """Replace the templates in a parsed body by what goes on the wire."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, inner),) = value.items()
            if key == "$jws":
                header = dict(inner["header"])
                return sign(inner["payload"], kid=header.pop("kid"), alg=header.pop("alg"))
            if key == "$base64json":
                return base64.b64encode(compact(inner).encode("utf-8")).decode("ascii")
            if key == "$form":
                return urlencode(inner)
            if key == "$test_jwk":
                return public_jwk(**inner)
        return {k: materialise(v) for k, v in value.items()}
    if isinstance(value, list):
        return [materialise(v) for v in value]
    return value


def materialise_body(text: str | None) -> str | None:
    if not text:
        return text
    try:
        data = json.loads(text)
    except ValueError:
        return text
    out = materialise(data)
    if isinstance(out, str):
        return out  # a whole-body template: the JWS, a form
    return text if out == data else compact(out)


def materialise_cassette(data: dict[str, Any]) -> dict[str, Any]:
    for interaction in data.get("interactions", ()):
        request = interaction["request"]
        request["body"] = materialise_body(request.get("body"))
        response_body = interaction["response"]["body"]
        response_body["string"] = materialise_body(response_body.get("string"))
    return data


def load_cassette(name: str) -> dict[str, Any]:
    """A uqudo cassette as vcrpy would replay it: templates turned into wire bodies."""
    text = (CASSETTES / name).read_text(encoding="utf-8")
    return materialise_cassette(yaml.safe_load(text))


class UqudoSerializer:
    """vcrpy serializer for cassettes/uqudo (register as `uqudo`): YAML + templates."""

    @staticmethod
    def deserialize(cassette_string: str) -> dict[str, Any]:
        return materialise_cassette(yaml.safe_load(cassette_string))

    @staticmethod
    def serialize(cassette_dict: dict[str, Any]) -> str:  # record_mode="none": never used
        return yaml.safe_dump(cassette_dict)


UQUDO_SERIALIZER = UqudoSerializer()


def _normalized_body(body: Any) -> Any:
    if body in (None, b"", ""):
        return None
    text = body.decode("utf-8") if isinstance(body, bytes) else str(body)
    try:
        data = json.loads(text)
    except ValueError:
        return parse_qs(text, keep_blank_values=True) if "=" in text else text
    if isinstance(data, dict) and isinstance(data.get("data"), str):
        try:
            data = {**data, "data": json.loads(base64.b64decode(data["data"], validate=True))}
        except ValueError:
            pass
    return data


def uqudo_body(r1: Any, r2: Any) -> None:
    """vcr matcher: same JSON (base64 `data` decoded) or the same form fields."""
    assert _normalized_body(r1.body) == _normalized_body(r2.body)


def documented_claims(*, verifications: bool = True) -> dict[str, Any]:
    """The payload of info_200.yaml's JWS (a fresh copy, safe to change)."""
    raw = yaml.safe_load((CASSETTES / "info_200.yaml").read_text(encoding="utf-8"))
    template = json.loads(raw["interactions"][0]["response"]["body"]["string"])
    claims = json.loads(json.dumps(template["$jws"]["payload"]))
    if not verifications:
        claims["data"].pop("verifications", None)
    return claims


# -- a clock and a JWKS endpoint -----------------------------------------------------------------
class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now = datetime.fromtimestamp(self.now.timestamp() + seconds, UTC)


class JwksSource:
    """A scripted JWKS endpoint: the documents it serves, in turn (the last repeats)."""

    def __init__(self, *documents: Any) -> None:
        self.documents = list(documents)
        self.reads = 0

    async def __call__(self) -> Any:
        self.reads += 1
        document = self.documents.pop(0) if len(self.documents) > 1 else self.documents[0]
        if isinstance(document, Exception):
            raise document
        return document


def verifier(source: JwksSource, clock: Clock | None = None, **expect: Any) -> JwsVerifier:
    clock = clock or Clock()
    keys = KeySet(source, clock=clock)
    return JwsVerifier(
        keys,
        Expectations(audience=expect.pop("audience", CLIENT_ID), issuer=ISSUER, **expect),
        clock=clock,
    )


def claims(**changes: Any) -> dict[str, Any]:
    base = {"iss": ISSUER, "aud": CLIENT_ID, "iat": IAT, "exp": IAT + 7200, "jti": SID}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}
