"""Beltic webhook verification (docs/vendors/beltic.md, Webhooks and signature). Verification
only: no signing helper lives here, so a bug cannot hide behind the same bug in a shared signer.

`X-Webhook-Signature` = HMAC-SHA256 of the raw request body with the webhook secret
(documented); the encoding is inferred (hex; base64 and a `sha256=` prefix are tolerated, see
`inferred`). There is no timestamp, hence no replay window: the gateway's dedupe key is the
only replay guard. `X-Webhook-Token` is compared too when a token is configured. Everything is
checked on the raw bytes before the body is parsed: nothing unsigned is ever read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.beltic import inferred
from adapters.common.validation import json_object_or_none


def parse_object(raw: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None (not JSON, not an object, NaN, too deep)."""
    return json_object_or_none(raw)


def canonical_json(body: Any) -> bytes:
    """Sorted keys, compact separators, ASCII: the same content always hashes the same."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _decode_signature(value: str) -> list[bytes]:
    """Candidate digests from a header value: hex first, then (optionally) base64."""
    text = value.strip()
    for prefix in inferred.SIGNATURE_PREFIXES:
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].strip()
            break
    candidates: list[bytes] = []
    try:
        candidates.append(bytes.fromhex(text))
    except ValueError:
        pass
    if inferred.ACCEPT_BASE64_SIGNATURE:
        try:
            candidates.append(base64.b64decode(text.encode("ascii"), validate=True))
        except (binascii.Error, UnicodeEncodeError, ValueError):
            pass
    return [c for c in candidates if len(c) == hashlib.sha256().digest_size]


def matches_signature(secret: str, raw: bytes, header: str) -> bool:
    expected = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).digest()
    return any(hmac.compare_digest(expected, given) for given in _decode_signature(header))


def verify_webhook(
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    token: str | None = None,
) -> dict[str, Any]:
    """Return the parsed body if the delivery is authentic, else raise `WebhookRejected`:
    SIGNATURE first (on the raw bytes), then MALFORMED for a signed body that is not a JSON
    object."""
    lower = {k.lower(): v for k, v in headers.items()}
    if not secret:  # an empty key would let anyone sign
        raise WebhookRejected(WebhookRejectReason.SIGNATURE, "no webhook secret configured")
    if token:
        given = lower.get(inferred.TOKEN_HEADER, "").strip()
        if not hmac.compare_digest(
            given.encode("utf-8", "replace"), token.strip().encode("utf-8", "replace")
        ):
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "X-Webhook-Token mismatch")
    signature = lower.get(inferred.SIGNATURE_HEADER)
    if not signature or not signature.strip():
        raise WebhookRejected(WebhookRejectReason.SIGNATURE, "missing X-Webhook-Signature")
    if not matches_signature(secret, raw, signature):
        raise WebhookRejected(WebhookRejectReason.SIGNATURE, "signature mismatch")
    body = parse_object(raw)
    if body is None:
        raise WebhookRejected(WebhookRejectReason.MALFORMED, "body is not a JSON object")
    return body
