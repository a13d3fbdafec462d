"""uqudo authentication, both ways.

Outgoing — OAuth: a client-credentials token (docs/vendors/uqudo.md, Endpoints we call),
cached until shortly before `expires_in` runs out, sent as `Authorization: Bearer …` on every
API call and refreshed once when a call answers 401.

The token is tenant-scoped (not per user), so one per adapter is right; concurrent callers
share one fetch. The cache is a cachetools TLRU cache (per-item time to use = the token's own
lifetime) driven by the adapter's clock, so tests move time instead of sleeping.

Incoming — `CallerAuth`: the static header or basic credentials uqudo sends with webhooks.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass

import httpx
from cachetools import TLRUCache
from pydantic import ValidationError

from adapters.base import (
    AdapterConfig,
    Clock,
    ErrorCode,
    ProviderError,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.http import ErrorMapper, VendorHttp
from adapters.uqudo import inferred
from adapters.uqudo.errors import unavailable
from adapters.uqudo.wire import TokenResponse

GRANT_TYPE = "client_credentials"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class AccessToken:
    value: str
    #: How long it may still be sent: `expires_in` minus the refresh margin.
    usable_for_s: float


class ClientCredentials:
    """`POST {auth_url}` with `grant_type=client_credentials&client_id=…&client_secret=…`."""

    def __init__(
        self,
        http: VendorHttp,
        *,
        url: str,
        client_id: str,
        client_secret: str,
        error_mapper: ErrorMapper,
    ) -> None:
        self._http = http
        self._url = url
        self._client_id = client_id
        self._client_secret = client_secret
        self._error_mapper = error_mapper

    async def __call__(self) -> AccessToken:
        if not self._client_id or not self._client_secret:
            raise ProviderError(
                ErrorCode.PROVIDER_REJECTED,
                "uqudo client id and client secret are not configured",
                provider_code="missing_credentials",
            )
        form = {
            "grant_type": GRANT_TYPE,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
        }
        try:
            response = await self._http.client.post(
                self._url,
                data=form,
                headers={"Content-Type": FORM_CONTENT_TYPE, "Accept": "application/json"},
            )
        except httpx.TimeoutException as exc:
            raise unavailable(f"uqudo token endpoint timed out ({type(exc).__name__})") from exc
        except httpx.RequestError as exc:
            raise unavailable(f"uqudo token endpoint unreachable ({type(exc).__name__})") from exc
        if response.status_code != 200:
            raise self._error_mapper(response)
        data = self._http.json_of(response)
        try:
            answer = TokenResponse.model_validate(data)
        except ValidationError as exc:
            raise unavailable(
                f"uqudo answered an unexpected token response ({exc.error_count()} fields)"
            ) from exc
        if answer.token_type is not None and answer.token_type.lower() != inferred.TOKEN_TYPE:
            raise unavailable("uqudo answered a token that is not a bearer token")
        lifetime = answer.expires_in if answer.expires_in else inferred.DEFAULT_TOKEN_TTL_S
        margin = min(inferred.TOKEN_REFRESH_MARGIN_S, lifetime / 2)
        return AccessToken(answer.access_token, lifetime - margin)


class TokenCache:
    """One access token, fetched on demand and kept while it is usable."""

    _KEY = "access_token"

    def __init__(self, fetch: Callable[[], Awaitable[AccessToken]], *, clock: Clock) -> None:
        self._fetch = fetch
        self._cache: TLRUCache[str, AccessToken] = TLRUCache(
            maxsize=1,
            ttu=lambda _key, token, now: now + token.usable_for_s,
            timer=lambda: clock().timestamp(),
        )
        self._lock = asyncio.Lock()
        #: How many tokens were fetched (observability and tests).
        self.fetches = 0

    async def get(self) -> str:
        token = self._cache.get(self._KEY)
        if token is not None:
            return token.value
        async with self._lock:  # concurrent callers share one fetch
            token = self._cache.get(self._KEY)
            if token is not None:
                return token.value
            token = await self._fetch()
            self.fetches += 1
            if token.usable_for_s > 0:
                self._cache[self._KEY] = token
            return token.value

    def invalidate(self, value: str) -> None:
        """Forget `value` if it is still the cached token (a refresh by a concurrent caller
        is kept)."""
        current = self._cache.get(self._KEY)
        if current is not None and current.value == value:
            self._cache.pop(self._KEY, None)


class BearerAuth(httpx.Auth):
    """httpx auth flow: the cached token on every request; on a 401, one refresh and one
    retry. A second 401 is returned to the caller (→ PROVIDER_REJECTED)."""

    requires_request_body = True  # the retry re-sends the body

    def __init__(self, tokens: TokenCache) -> None:
        self._tokens = tokens

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("the uqudo adapter is async only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._tokens.get()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._tokens.invalidate(token)
            token = await self._tokens.get()
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


# -- webhook caller authentication (docs/vendors/uqudo.md, Webhooks and signature) -----------------
@dataclass(frozen=True)
class CallerAuth:
    """How uqudo authenticates itself when it calls our webhook: the portal offers "None /
    Basic authentication / API key-custom header" (docs/vendors/uqudo.md, Webhooks and
    signature). There is no body signature — the JWS inside is what proves the content; this
    only proves the caller.

    Options: `webhook_auth_header` + `webhook_auth_value` (the header's exact value, e.g.
    `Bearer …` for an Authorization header; the gateway's webhook secret is the default value,
    `x-api-key` the default header), `webhook_basic_user` + `webhook_basic_password`. Every
    configured method must pass; none configured = no caller check.
    """

    header: str | None = None
    value: str | None = None
    basic_user: str | None = None
    basic_password: str | None = None

    @classmethod
    def from_config(cls, config: AdapterConfig) -> CallerAuth:
        options = config.options
        value = options.get("webhook_auth_value") or config.webhook_secret or None
        header = options.get("webhook_auth_header") or inferred.DEFAULT_WEBHOOK_AUTH_HEADER
        user = options.get("webhook_basic_user") or None
        password = options.get("webhook_basic_password") or None
        if (user is None) != (password is None):
            raise ValueError("set both webhook_basic_user and webhook_basic_password")
        return cls(
            header=header.strip().lower() if value else None,
            value=value,
            basic_user=user,
            basic_password=password,
        )

    @property
    def configured(self) -> bool:
        return self.value is not None or self.basic_user is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.value, self.basic_password) if s)

    def check(self, headers: Mapping[str, str]) -> None:
        """Raise WebhookRejected(SIGNATURE) unless every configured method passes."""
        lowered = {k.lower(): v for k, v in headers.items()}
        if self.value is not None and self.header is not None:
            given = lowered.get(self.header)
            if given is None or not _same(given.strip(), self.value):
                raise WebhookRejected(
                    WebhookRejectReason.SIGNATURE, f"missing or wrong '{self.header}' header"
                )
        if self.basic_user is not None and self.basic_password is not None:
            if not _basic_matches(
                lowered.get("authorization"), self.basic_user, self.basic_password
            ):
                raise WebhookRejected(
                    WebhookRejectReason.SIGNATURE, "missing or wrong basic authentication"
                )


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _basic_matches(header: str | None, user: str, password: str) -> bool:
    if not header:
        return False
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return False
    given_user, sep, given_password = decoded.partition(":")
    user_ok = _same(given_user, user)
    password_ok = _same(given_password, password)  # both compared: no early exit
    return bool(sep) and user_ok and password_ok
