"""API keys and client tokens for the access-control tests (test-only values)."""

from __future__ import annotations

import json
import time

import jwt

from gateway.web.auth import TOKEN_AUDIENCE, TOKEN_ISSUER, TOKEN_PREFIX, hash_key

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


def expired_token(session_id: str) -> str:
    now = int(time.time())
    return TOKEN_PREFIX + jwt.encode(
        {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": session_id,
            "iat": now - 600,
            "exp": now - 300,
        },
        TOKEN_SECRET,
        algorithm="HS256",
    )


def forged_token(session_id: str) -> str:
    now = int(time.time())
    return TOKEN_PREFIX + jwt.encode(
        {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": session_id,
            "iat": now,
            "exp": now + 300,
        },
        "not-the-secret-but-long-enough-0000000",
        algorithm="HS256",
    )
