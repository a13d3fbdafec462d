"""Verifa webhook verification (docs/vendors/verifa.md, Webhooks and signature). Verification
only: the sandbox signs on its own, so a bug here cannot be hidden by the same bug in a shared
signer.

Accepted: `X-Verifa-Signature: t=<unix>,v1=<hex>` with v1 = HMAC-SHA256(secret, "{t}.{body}")
over the raw bytes, `t` within the tolerance; and, while allowed, the legacy form (the header
is the bare hex HMAC of the raw body, no timestamp). Several `v1=` values (a secret being
rotated) are each tried. The steps and their order are the shared template's
(`adapters/common/webhook_verify.py`); this module reads the header and names the messages.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.common.webhook_verify import (
    Claim,
    WebhookScheme,
    header_value,
    unix_seconds,
)

SIGNATURE_HEADER = "x-verifa-signature"
#: Sent with every delivery but not signed: never used to dedupe (a replay may change it).
DELIVERY_ID_HEADER = "x-verifa-delivery-id"
TIMESTAMP_KEY = "t"
SIGNATURE_KEY = "v1"

_TIMESTAMPED = "timestamped"
_LEGACY = "legacy"
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def _parts(header: str) -> tuple[str | None, list[str]]:
    """(`t` value, every `v1` value) of a `t=…,v1=…` header; unknown keys are ignored."""
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == TIMESTAMP_KEY:
            timestamp = value.strip()
        elif key == SIGNATURE_KEY:
            signatures.append(value.strip())
    return timestamp, signatures


class VerifaScheme(WebhookScheme):
    """`t=…,v1=…` (any `v1` may match), or the legacy bare hex while `accept_legacy` (the
    adapter's option) allows it: that form signs no time, so it has no replay window."""

    def __init__(self, *, accept_legacy: bool) -> None:
        self.accept_legacy = accept_legacy

    def claim(self, headers: Mapping[str, str]) -> Claim:
        header = header_value(headers, SIGNATURE_HEADER)
        if header is None:
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "missing X-Verifa-Signature")
        if _HEX_SHA256.fullmatch(header):
            if not self.accept_legacy:
                raise WebhookRejected(
                    WebhookRejectReason.SIGNATURE, "legacy signatures are not accepted"
                )
            return Claim({_LEGACY: (header,)})
        timestamp, signatures = _parts(header)
        if timestamp is None:
            if signatures:
                raise WebhookRejected(WebhookRejectReason.TIMESTAMP, "signature without t=")
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "malformed X-Verifa-Signature")
        signed_at = unix_seconds(timestamp, "signature timestamp")
        if not signatures:
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "signature without v1=")
        return Claim({_TIMESTAMPED: tuple(signatures)}, signed_at, "signature timestamp")

    def signed_messages(self, kind: str, raw: bytes, claim: Claim) -> Iterable[bytes]:
        if kind == _LEGACY:
            yield raw
        else:
            yield f"{claim.timestamp}.".encode("ascii") + raw
