"""Browser sign-in for `/insights` in a keyed deployment (docs/security.md).

A browser cannot send `Authorization`, so the page offers a form that exchanges an API key
with stats:read for a short-lived cookie. The cookie is a JWT signed with a key derived from
the client-token secret (shared by every replica), never the API key itself; it names the key
and a keyed fingerprint of its hash, so removing or rotating the key ends every session made
with it. HttpOnly (no script reads it), SameSite=Strict and scoped to `/insights`; the
sign-in and sign-out POSTs must come from this origin (Origin, else Sec-Fetch-Site).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from html import escape
from urllib.parse import parse_qs, urlsplit

import jwt
from starlette.requests import Request
from starlette.responses import Response

from gateway.auth import ApiKeyConfig, Authenticator, PrincipalKind, Scope

COOKIE = "kycgw_insights"
COOKIE_PATH = "/insights"
TTL_S = 3600
AUDIENCE = "kyc-gateway-insights"
ISSUER = "kyc-gateway"
MAX_FORM_BYTES = 4096


class InsightsSignIn:
    def __init__(
        self,
        auth: Authenticator,
        api_keys: list[ApiKeyConfig],
        secret: str | None,
        public_url: str | None = None,
    ) -> None:
        self.auth = auth
        # Its own key: a cookie is no client token and a client token no cookie.
        base = secret.encode() if secret else secrets.token_bytes(32)
        self._key = hmac.new(base, b"kyc-gateway insights cookie", hashlib.sha256).digest()
        self._keys = {k.name: k for k in api_keys}
        self.https = bool(public_url and public_url.startswith("https://"))
        self.ttl_s = TTL_S

    def _fingerprint(self, key: ApiKeyConfig) -> str:
        return hmac.new(self._key, key.sha256.encode(), hashlib.sha256).hexdigest()[:32]

    # -- the cookie -------------------------------------------------------------------------
    def issue(self, key_name: str) -> str:
        now = self.auth.now()
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": key_name,
            "kfp": self._fingerprint(self._keys[key_name]),
            "iat": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl_s)).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    def signed_in(self, request: Request) -> str | None:
        """The name of the key a valid cookie was made with, while it still has stats:read."""
        value = request.cookies.get(COOKIE)
        if not value:
            return None
        try:
            claims = jwt.decode(
                value,
                self._key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "kfp"], "verify_exp": False},
            )
        except jwt.PyJWTError:
            return None
        if claims["exp"] <= self.auth.now().timestamp():
            return None
        key = self._keys.get(str(claims["sub"]))
        if key is None or Scope.STATS_READ not in key.scopes:
            return None
        if not hmac.compare_digest(self._fingerprint(key), str(claims["kfp"])):
            return None
        return key.name

    def set_cookie(self, response: Response, request: Request, key_name: str) -> None:
        response.set_cookie(
            COOKIE,
            self.issue(key_name),
            max_age=self.ttl_s,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self.https or request.url.scheme == "https",
        )

    def clear_cookie(self, response: Response, request: Request) -> None:
        response.delete_cookie(
            COOKIE,
            path=COOKIE_PATH,
            httponly=True,
            samesite="strict",
            secure=self.https or request.url.scheme == "https",
        )

    # -- the form ---------------------------------------------------------------------------
    async def key_from_form(self, request: Request) -> str:
        """The `key` field of an urlencoded form (a tiny body; nothing else is read)."""
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_FORM_BYTES:
                raise ValueError("form too large")
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
        return (fields.get("key") or [""])[0].strip()

    def check_key(self, key: str) -> tuple[str | None, int, str]:
        """(key name, status, error): a key name only for an API key with stats:read."""
        principal = self.auth.from_credential(key) if key else None
        if principal is None or principal.kind is not PrincipalKind.API_KEY:
            return None, 401, "That is not a valid API key."
        if not principal.has(Scope.STATS_READ):
            return None, 403, "That API key lacks the stats:read scope."
        return principal.name, 200, ""


def same_origin(request: Request) -> bool:
    """A POST from a page of this origin: `Origin` names our host, or, where a browser sends
    no Origin, it says `Sec-Fetch-Site: same-origin` (neither can be set by a page)."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc.lower() == request.headers.get("host", "").lower()
    return request.headers.get("sec-fetch-site") == "same-origin"


def sign_in_page(error: str = "") -> str:
    alert = f'<p id="sign-in-error" class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kyc-gateway insights: sign in</title><link rel="stylesheet" href="/static/pages.css"></head>
<body><header><h1>kyc-gateway insights</h1><nav><a href="/console">Console</a>
<a href="/insights">Insights</a> <a href="/graphql">GraphiQL</a></nav></header>
<main><section class="card sign-in"><h2>Sign in</h2>
<p>This gateway needs an API key with the <code>stats:read</code> scope. It is exchanged for
a cookie valid for {TTL_S // 60} minutes; the browser does not keep the key.</p>
<form id="sign-in" method="post" action="/insights/sign-in">
<label>API key <input id="key" name="key" type="password" autocomplete="off" required></label>
<button type="submit">Sign in</button></form>{alert}</section></main></body></html>
"""


def sign_out_form() -> str:
    return (
        '<form id="sign-out" method="post" action="/insights/sign-out">'
        '<button type="submit">Sign out</button></form>'
    )
