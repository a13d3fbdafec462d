"""API keys and client tokens for the access-control tests (test-only values)."""

from __future__ import annotations

import json
import time

import httpx
import jwt

from gateway.auth import TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_PREFIX, hash_key

TOKEN_SECRET = "test-only-client-token-secret-0123456789"
KEYS = {
    "reader": ["sessions:read"],
    "writer": ["sessions:read", "sessions:write"],
    "decider": ["sessions:read", "sessions:decide"],
    "pii": ["sessions:read", "pii:read"],
    "admin": ["sessions:read", "sessions:write", "sessions:decide", "pii:read", "stats:read"],
    "stats": ["stats:read"],
    "sandbox": ["sandbox:control"],
    "write_only": ["sessions:write"],
    "operator": ["sessions:read", "sessions:write", "sessions:decide", "sandbox:control"],
    "decide_only": ["sessions:decide"],
    "webhooks": ["webhooks:manage"],
}


def key(name: str) -> str:
    return f"kgw_test_{name}_key_000000000000"


def env() -> dict[str, str]:
    return {
        "KYCGW_API_KEYS": json.dumps(
            [{"name": n, "sha256": hash_key(key(n)), "scopes": s} for n, s in KEYS.items()]
        ),
        "KYCGW_CLIENT_TOKEN_SECRET": TOKEN_SECRET,
        # Keyed deployments mount sandboxes only when told to (issue 14).
        "KYCGW_SANDBOXES": '["*"]',
    }


def client_token(
    session_id: str,
    ttl_s: int = 300,
    *,
    secret: str = TOKEN_SECRET,
    issued_ago_s: int = 0,
    now: int | None = None,
) -> str:
    """A client token as the gateway makes them (its claims), living `ttl_s` seconds from
    `now`; another `secret` forges one, a negative `ttl_s` makes an expired one."""
    now = int(time.time()) if now is None else now
    claims = {"iss": TOKEN_ISSUER, "aud": TOKEN_AUDIENCE, "sub": session_id}
    claims |= {"iat": now - issued_ago_s, "exp": now + ttl_s}
    return TOKEN_PREFIX + jwt.encode(claims, secret, algorithm="HS256")


def expired_token(session_id: str) -> str:
    return client_token(session_id, -300, issued_ago_s=600)


def forged_token(session_id: str) -> str:
    return client_token(session_id, secret="not-the-secret-but-long-enough-0000000")


def create_sessions(base: str, refs: list[str], provider: str | None = None) -> list[str]:
    """Sessions made with a writer key (one per client reference): a keyed server's fixture."""
    vendor = f", provider: {json.dumps(provider)}" if provider else ""
    query = (
        "mutation($r: String!) { createSession(input: {clientReference: $r"
        + vendor
        + "}) { session { id } } }"
    )
    ids = []
    with httpx.Client(base_url=base, timeout=20) as client:
        for ref in refs:
            r = client.post(
                "/graphql",
                headers={"authorization": f"Bearer {key('writer')}"},
                json={"query": query, "variables": {"r": ref}},
            )
            ids.append(r.json()["data"]["createSession"]["session"]["id"])
    return ids


def graphql_as(
    base: str, credential: str | None, query: str, variables: dict | None = None
) -> httpx.Response:
    """One GraphQL POST with `credential` as a bearer (none: anonymous)."""
    headers = {"authorization": f"Bearer {credential}"} if credential else {}
    return httpx.post(
        f"{base}/graphql",
        headers=headers,
        json={"query": query, "variables": variables or {}},
        timeout=20,
    )


def issue_token(base: str, session_id: str, ttl: int | None = None) -> str:
    """A client token for `session_id` from `issueClientToken` (a writer key asks)."""
    lifetime = f", ttl: {ttl}" if ttl is not None else ""
    query = f"mutation($s: ID!) {{ issueClientToken(sessionId: $s{lifetime}) {{ token }} }}"
    body = graphql_as(base, key("writer"), query, {"s": session_id}).json()
    return body["data"]["issueClientToken"]["token"]


def session_field_as(base: str, credential: str | None, session_id: str, field: str) -> object:
    """One field of one session as `credential` reads it (a scalar field)."""
    query = f"query($id: ID!) {{ session(id: $id) {{ {field} }} }}"
    r = graphql_as(base, credential, query, {"id": session_id})
    assert r.status_code == 200, r.text
    return r.json()["data"]["session"][field]


def simulate_as(
    base: str, credential: str | None, provider: str, psid: str, action: str
) -> httpx.Response:
    """A sandbox `simulate` call with `credential` as a bearer (none: anonymous); a keyed
    deployment opens it to the `sandbox:control` scope only."""
    headers = {"authorization": f"Bearer {credential}"} if credential else {}
    return httpx.post(
        f"{base}/sandbox/{provider}/sessions/{psid}/simulate",
        headers=headers,
        json={"action": action},
        timeout=10,
    )
