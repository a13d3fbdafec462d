"""uqudo result verification (docs/vendors/uqudo.md, Webhooks and signature): a compact RS256
JWS, checked against uqudo's JWKS — for the webhook's `jwsResult` and the Info API's answer
alike.

- RS256 only: `none`, HS* (the classic "public key as HMAC secret" confusion), RS384/512,
  PS*, ES* are refused before any key is looked at.
- Keys by `kid` from the JWKS URL, kept in a cachetools TTL cache; an unknown `kid` refreshes
  the set once (throttled), then fails.
- `aud` (= the client id) and `jti` — which must be the session the result is claimed for,
  when the caller knows it — are required. `iss`, `exp`, `iat` and `nbf` are checked when
  present: uqudo's documented example result carries none of them.
- Replays: a `jti` seen with one token and then with a different one is refused.

Failures raise `JwsInvalid` with a short reason that never quotes the token or its claims.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cachetools import TTLCache
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from jwt.algorithms import RSAAlgorithm

from adapters.base import Clock
from adapters.uqudo import inferred

#: Header parameters we do not implement; RFC 7515 section 4.1.11: a `crit` we do not understand
#: makes the JWS invalid.
_REFUSED_HEADERS = ("crit", "jku", "x5u", "jwk")


class JwsInvalid(Exception):
    """The token is not an acceptable uqudo result. `reason` is safe to log and show."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownSigningKey(JwsInvalid):
    """The `kid` is not in the (refreshed) key set."""


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


# -- keys --------------------------------------------------------------------------------------
def public_key_of(jwk: Mapping[str, Any]) -> RSAPublicKey | None:
    """An RSA signing key from one JWK, or None when it is not one we accept."""
    if jwk.get("kty") != "RSA" or jwk.get("use") not in (None, "sig"):
        return None
    if jwk.get("alg") not in (None, *inferred.JWS_ALGORITHMS):
        return None
    n, e = jwk.get("n"), jwk.get("e")
    if not (isinstance(n, str) and isinstance(e, str)):
        return None
    try:
        key = RSAAlgorithm.from_jwk({"kty": "RSA", "n": n, "e": e})  # public parameters only
    except (jwt.PyJWTError, ValueError, TypeError):
        return None
    if isinstance(key, RSAPrivateKey):  # cannot happen with n/e only; belt and braces
        key = key.public_key()
    if not isinstance(key, RSAPublicKey) or key.key_size < inferred.MIN_RSA_KEY_BITS:
        return None
    return key


class KeySet:
    """uqudo's signing keys by `kid`. `fetch` returns the JWKS document (parsed JSON)."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[Any]],
        *,
        clock: Clock,
        ttl_s: float = inferred.JWKS_CACHE_TTL_S,
        maxsize: int = inferred.JWKS_CACHE_MAX_KEYS,
        min_refetch_s: float = inferred.JWKS_REFETCH_MIN_INTERVAL_S,
    ) -> None:
        self._fetch = fetch
        self._clock = clock
        self._keys: TTLCache[str, RSAPublicKey] = TTLCache(
            maxsize=maxsize, ttl=ttl_s, timer=lambda: clock().timestamp()
        )
        self._min_refetch_s = min_refetch_s
        self._last_fetch: float | None = None
        self._lock = asyncio.Lock()
        #: How many times the JWKS was read (observability and tests).
        self.fetches = 0

    def cached(self, kid: str) -> RSAPublicKey | None:
        return self._keys.get(kid)

    @property
    def loaded(self) -> bool:
        return self._last_fetch is not None and bool(len(self._keys))

    def may_refetch(self) -> bool:
        now = self._clock().timestamp()
        return self._last_fetch is None or now - self._last_fetch >= self._min_refetch_s

    async def refresh(self) -> bool:
        """Read the JWKS unless it was read less than `min_refetch_s` ago; True if read."""
        async with self._lock:
            if not self.may_refetch():
                return False
            self._last_fetch = self._clock().timestamp()  # also throttles failed reads
            self.fetches += 1
            document = await self._fetch()
            keys = document.get("keys") if isinstance(document, dict) else None
            for jwk in keys if isinstance(keys, list) else ():
                if not isinstance(jwk, dict):
                    continue
                kid = jwk.get("kid")
                key = public_key_of(jwk)
                if isinstance(kid, str) and kid and key is not None:
                    self._keys[kid] = key
            return True

    async def key(self, kid: str) -> RSAPublicKey:
        """The key for `kid`, reading the JWKS once when it is unknown."""
        key = self.cached(kid)
        if key is None:
            await self.refresh()
            key = self.cached(kid)
        if key is None:
            raise UnknownSigningKey("signing key not in uqudo's key set")
        return key


# -- tokens ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Expectations:
    audience: str
    issuer: str
    skew_s: float = inferred.CLOCK_SKEW_S


def signing_kid(token: str) -> str:
    """The header's `kid`, after refusing every algorithm but RS256 (unverified read)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise JwsInvalid("not a compact JWS")
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise JwsInvalid("not a compact JWS") from exc
    alg = header.get("alg")
    if alg not in inferred.JWS_ALGORITHMS:
        shown = alg if isinstance(alg, str) and alg.isalnum() and len(alg) <= 10 else "?"
        raise JwsInvalid(f"algorithm '{shown}' refused (RS256 only)")
    for name in _REFUSED_HEADERS:
        if name in header:
            raise JwsInvalid(f"header parameter '{name}' refused")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JwsInvalid("no key id (kid) in the header")
    return kid


def _number(claims: Mapping[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise JwsInvalid(f"claim '{name}' is not a number")
    return float(value)


def decode(
    token: str,
    key: RSAPublicKey,
    expect: Expectations,
    *,
    now: float,
    session_id: str | None,
) -> dict[str, Any]:
    """Signature, audience, session binding, and the optional claims' values; the claims
    when all hold."""
    try:
        claims = jwt.decode(
            token,
            key=key,
            algorithms=list(inferred.JWS_ALGORITHMS),
            audience=expect.audience,
            # `iss` and the times are optional (checked below when present), and times are
            # checked against the adapter's clock, not the machine's.
            options={
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
                "verify_iss": False,
                "require": list(inferred.REQUIRED_CLAIMS),
            },
        )
    except jwt.InvalidSignatureError as exc:
        raise JwsInvalid("signature does not verify") from exc
    except jwt.InvalidAudienceError as exc:
        raise JwsInvalid("wrong audience") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise JwsInvalid(f"claim '{exc.claim}' missing") from exc
    except jwt.PyJWTError as exc:
        raise JwsInvalid(f"invalid JWS ({type(exc).__name__})") from exc
    _check_optional(claims, expect, now)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise JwsInvalid("claim 'jti' is not a session id")
    if session_id is not None and jti != session_id:
        raise JwsInvalid("result is bound to another session (jti)")
    return claims


def _check_optional(claims: Mapping[str, Any], expect: Expectations, now: float) -> None:
    """`iss`, `exp`, `iat`, `nbf` (inferred.CHECKED_IF_PRESENT): absent is fine, wrong is not."""
    if "iss" in claims and claims["iss"] != expect.issuer:
        raise JwsInvalid("wrong issuer")
    if "exp" in claims and _number(claims, "exp") <= now - expect.skew_s:
        raise JwsInvalid("expired")
    if "iat" in claims and _number(claims, "iat") > now + expect.skew_s:
        raise JwsInvalid("issued in the future")
    if "nbf" in claims and _number(claims, "nbf") > now + expect.skew_s:
        raise JwsInvalid("not valid yet")


class JwsVerifier:
    def __init__(self, keys: KeySet, expect: Expectations, *, clock: Clock) -> None:
        self.keys = keys
        self.expect = expect
        self._clock = clock

    def verify_cached(self, token: str, *, session_id: str | None = None) -> dict[str, Any]:
        """Synchronous: only keys already cached (raises `UnknownSigningKey` otherwise)."""
        kid = signing_kid(token)
        key = self.keys.cached(kid)
        if key is None:
            raise UnknownSigningKey("signing key not cached")
        return decode(token, key, self.expect, now=self._clock().timestamp(), session_id=session_id)

    async def verify(self, token: str, *, session_id: str | None = None) -> dict[str, Any]:
        kid = signing_kid(token)
        key = await self.keys.key(kid)
        return decode(token, key, self.expect, now=self._clock().timestamp(), session_id=session_id)


class ReplayGuard:
    """jti → digest of the token first accepted with it. The same token again is a
    redelivery (allowed: the gateway dedupes on the jti); another token is refused."""

    def __init__(
        self,
        *,
        clock: Clock,
        ttl_s: float = inferred.SEEN_JTI_TTL_S,
        maxsize: int = inferred.SEEN_JTI_MAX,
    ) -> None:
        self._seen: TTLCache[str, str] = TTLCache(
            maxsize=maxsize, ttl=ttl_s, timer=lambda: clock().timestamp()
        )

    def check(self, jti: str, token: str) -> None:
        seen = self._seen.get(jti)
        if seen is not None and seen != token_digest(token):
            raise JwsInvalid("jti already used by another result (replay)")

    def remember(self, jti: str, token: str) -> None:
        self._seen.setdefault(jti, token_digest(token))
