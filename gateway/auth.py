"""Who is calling, and what they may do (docs/model.md, Security).

Backends send an API key (`Authorization: Bearer <key>` or `X-Api-Key`); keys are configured
as SHA-256 hashes with scopes and never logged. Browsers get a short-lived client token (a JWT
signed by the gateway, PyJWT) bound to one session: it may read that session and follow it,
nothing else. With no API keys configured the gateway runs open for local development.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import jwt
from pydantic import BaseModel, Field, field_validator

from adapters.base import Clock, ErrorCode, utc_now


class Scope(enum.StrEnum):
    SESSIONS_READ = "sessions:read"
    SESSIONS_WRITE = "sessions:write"
    SESSIONS_DECIDE = "sessions:decide"
    PII_READ = "pii:read"
    STATS_READ = "stats:read"
    #: Drive the vendor sandboxes (`/sandbox/<v>/_faults`, `…/simulate`) in a keyed deployment.
    SANDBOX_CONTROL = "sandbox:control"
    #: Outbound webhook endpoints and their delivery log (docs/webhooks.md).
    WEBHOOKS_MANAGE = "webhooks:manage"


class ApiKeyConfig(BaseModel):
    """One backend key: its SHA-256 (hex) — the key itself is never stored — and scopes."""

    name: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    scopes: list[Scope]

    @field_validator("sha256", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class PrincipalKind(enum.StrEnum):
    DEV = "dev"  # no keys configured: local development, everything allowed
    API_KEY = "api_key"
    CLIENT_TOKEN = "client_token"
    ANONYMOUS = "anonymous"  # no credentials sent
    INVALID = "invalid"  # credentials sent but wrong, expired or revoked


@dataclass(frozen=True)
class Principal:
    kind: PrincipalKind
    name: str = ""
    scopes: frozenset[Scope] = field(default_factory=frozenset)
    session_id: str | None = None  # client tokens only
    problem: str = ""  # why credentials were refused (safe to show)
    #: When a client token stops being valid: a websocket opened with it is closed then.
    expires_at: datetime | None = None

    @property
    def authenticated(self) -> bool:
        """Credentials were sent and hold (or dev mode): not anonymous, not refused."""
        return self.kind not in (PrincipalKind.ANONYMOUS, PrincipalKind.INVALID)

    def has(self, scope: Scope) -> bool:
        return scope in self.scopes

    def can_read_session(self, session_id: str) -> bool:
        if self.kind is PrincipalKind.CLIENT_TOKEN:
            return self.session_id == session_id
        return self.has(Scope.SESSIONS_READ)

    def can_see_link(self, session_id: str) -> bool:
        """verificationUrl / qrCode: the backend that creates sessions, or this session's
        own browser."""
        if self.kind is PrincipalKind.CLIENT_TOKEN:
            return self.session_id == session_id
        return self.has(Scope.SESSIONS_WRITE)


DEV = Principal(PrincipalKind.DEV, "dev", frozenset(Scope))
ANONYMOUS = Principal(PrincipalKind.ANONYMOUS)


class Denied(Exception):
    """UNAUTHENTICATED (no or bad credentials) or FORBIDDEN (valid, but not allowed)."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def require(principal: Principal, scope: Scope) -> None:
    if not principal.authenticated:
        raise Denied(ErrorCode.UNAUTHENTICATED, principal.problem or "credentials required")
    if not principal.has(scope):
        raise Denied(ErrorCode.FORBIDDEN, f"this credential lacks the {scope.value} scope")


def require_session(principal: Principal, session_id: str) -> None:
    if not principal.authenticated:
        raise Denied(ErrorCode.UNAUTHENTICATED, principal.problem or "credentials required")
    if not principal.can_read_session(session_id):
        raise Denied(ErrorCode.FORBIDDEN, "this credential may not read this session")


TOKEN_ISSUER = "kyc-gateway"
TOKEN_AUDIENCE = "kyc-gateway-client"
TOKEN_PREFIX = "kgw_ct_"  # tells a client token from an API key at a glance


class Authenticator:
    def __init__(
        self,
        api_keys: list[ApiKeyConfig],
        token_secret: str | None,
        *,
        clock: Clock = utc_now,
        max_token_ttl_s: int = 3600,
        previous_token_secrets: Sequence[str] = (),
    ) -> None:
        self._keys = {key.sha256: key for key in api_keys}
        #: Built once: every request with a key gets its (immutable) principal.
        self._principals = {
            key.sha256: Principal(PrincipalKind.API_KEY, key.name, frozenset(key.scopes))
            for key in api_keys
        }
        self.dev_mode = not api_keys
        # In dev mode a per-process secret is fine; with keys a shared one is required.
        self._secret = token_secret or secrets.token_urlsafe(32)
        #: Signing uses `_secret` only; verification also accepts these (a rotation).
        self._verifying = (self._secret, *(s for s in previous_token_secrets if s))
        self._clock = clock
        self.max_token_ttl_s = max_token_ttl_s

    def now(self) -> datetime:
        """The clock credentials are checked against (injected in tests)."""
        return self._clock()

    # -- credentials ------------------------------------------------------------------------
    def from_headers(self, headers: Mapping[str, str]) -> Principal:
        authorization = headers.get("authorization", "")
        credential = headers.get("x-api-key", "")
        if authorization.lower().startswith("bearer "):
            credential = authorization[7:].strip()
        return self.from_credential(credential)

    def from_connection_params(self, params: Mapping[str, object] | None) -> Principal:
        """graphql-transport-ws `connection_init` payload: `{"Authorization": "Bearer …"}`,
        `{"apiKey": …}` or `{"token": …}`."""
        params = params or {}
        lowered = {str(k).lower(): v for k, v in params.items()}
        for key in ("authorization", "x-api-key", "apikey", "token", "clienttoken"):
            value = lowered.get(key)
            if isinstance(value, str) and value:
                if value.lower().startswith("bearer "):
                    value = value[7:].strip()
                return self.from_credential(value)
        return self.from_credential("")

    def from_credential(self, credential: str) -> Principal:
        if not credential:
            return DEV if self.dev_mode else ANONYMOUS
        if credential.startswith(TOKEN_PREFIX):
            return self._verify_token(credential[len(TOKEN_PREFIX) :])
        if self.dev_mode:
            return DEV
        digest = hash_key(credential)
        key = self._keys.get(digest)
        if key is None or not hmac.compare_digest(key.sha256, digest):
            return Principal(PrincipalKind.INVALID, problem="unknown API key")
        return self._principals[digest]

    # -- client tokens ----------------------------------------------------------------------
    def issue_client_token(self, session_id: str, ttl_s: int) -> tuple[str, datetime]:
        now = self._clock()
        expires = now + timedelta(seconds=ttl_s)
        token = jwt.encode(
            {
                "iss": TOKEN_ISSUER,
                "aud": TOKEN_AUDIENCE,
                "sub": session_id,
                "iat": int(now.timestamp()),
                "exp": int(expires.timestamp()),
            },
            self._secret,
            algorithm="HS256",
        )
        return TOKEN_PREFIX + token, expires

    def _verify_token(self, token: str) -> Principal:
        claims = None
        for secret in self._verifying:
            try:
                claims = jwt.decode(
                    token,
                    secret,
                    algorithms=["HS256"],
                    audience=TOKEN_AUDIENCE,
                    issuer=TOKEN_ISSUER,
                    options={"require": ["exp", "iat", "sub"], "verify_exp": False},
                )
                break
            except jwt.InvalidSignatureError:
                continue  # perhaps signed before a rotation
            except jwt.PyJWTError:
                break
        if claims is None:
            return Principal(PrincipalKind.INVALID, problem="invalid client token")
        if claims["exp"] <= self._clock().timestamp():
            return Principal(PrincipalKind.INVALID, problem="client token expired")
        return Principal(
            PrincipalKind.CLIENT_TOKEN,
            "client",
            frozenset(),
            session_id=str(claims["sub"]),
            expires_at=datetime.fromtimestamp(claims["exp"], UTC),
        )
