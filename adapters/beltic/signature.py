"""Beltic webhook verification (docs/vendors/beltic.md, Webhooks and signature). Verification
only: no signing helper lives here, so a bug cannot hide behind the same bug in a shared signer.

`X-Webhook-Signature` = HMAC-SHA256 of the raw request body with the webhook secret
(documented); the encoding is inferred (hex; base64 and a `sha256=` prefix are tolerated, see
`inferred`). There is no timestamp, hence no replay window: the gateway's dedupe key is the
only replay guard. `X-Webhook-Token` is compared too when a token is configured. The steps and
their order are the shared template's (`adapters/common/webhook_verify.py`): everything is
checked on the raw bytes before the body is parsed, so nothing unsigned is ever read.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterable, Mapping
from typing import Any

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.beltic import inferred
from adapters.common.webhook_verify import Claim, WebhookScheme, header_value


def canonical_json(body: Any) -> bytes:
    """Sorted keys, compact separators, ASCII: the same content always hashes the same."""
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class BelticScheme(WebhookScheme):
    """The raw bytes, no timestamp; `X-Webhook-Token` must match when a token is configured
    (checked on the headers, before any signature work)."""

    accept_base64 = inferred.ACCEPT_BASE64_SIGNATURE
    signature_prefixes = inferred.SIGNATURE_PREFIXES

    def __init__(self, *, token: str | None) -> None:
        self.token = token

    def claim(self, headers: Mapping[str, str]) -> Claim:
        if self.token:
            given = headers.get(inferred.TOKEN_HEADER, "").strip()
            if not hmac.compare_digest(
                given.encode("utf-8", "replace"), self.token.strip().encode("utf-8", "replace")
            ):
                raise WebhookRejected(WebhookRejectReason.SIGNATURE, "X-Webhook-Token mismatch")
        signature = header_value(headers, inferred.SIGNATURE_HEADER)
        if signature is None:
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "missing X-Webhook-Signature")
        return Claim({"raw": (signature,)})

    def signed_messages(self, kind: str, raw: bytes, claim: Claim) -> Iterable[bytes]:
        yield raw
