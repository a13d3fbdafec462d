"""UIP webhook verification (docs/vendors/uip.md, Webhooks and signature). Verification only:
the sandbox signs on its own, so a bug here cannot be hidden by the same bug in a shared signer.

`X-UIP-Signature` = hex(HMAC-SHA256(webhook_secret, "{X-UIP-Timestamp}.{raw_body}")), the
timestamp in unix seconds and within the tolerance (past or future). The steps and their order
are the shared template's (`adapters/common/webhook_verify.py`); this module names the headers
and the signed message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.common.webhook_verify import (
    Claim,
    WebhookScheme,
    header_value,
    unix_seconds,
)

SIGNATURE_HEADER = "x-uip-signature"
TIMESTAMP_HEADER = "x-uip-timestamp"
EVENT_HEADER = "x-uip-event"
DELIVERY_ID_HEADER = "x-uip-delivery-id"


class UipScheme(WebhookScheme):
    def claim(self, headers: Mapping[str, str]) -> Claim:
        signature = header_value(headers, SIGNATURE_HEADER)
        if signature is None:
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "missing X-UIP-Signature")
        timestamp = unix_seconds(headers.get(TIMESTAMP_HEADER), "X-UIP-Timestamp")
        return Claim({"timestamped": (signature,)}, timestamp, "X-UIP-Timestamp")

    def signed_messages(self, kind: str, raw: bytes, claim: Claim) -> Iterable[bytes]:
        yield f"{claim.timestamp}.".encode("ascii") + raw


SCHEME = UipScheme()


def verify_delivery(
    raw: bytes,
    headers: Mapping[str, str],
    *,
    secret: str,
    now: datetime,
    tolerance_s: int,
    max_body_bytes: int | None = None,
) -> tuple[dict[str, Any], int]:
    """(parsed body, signed time) of an authentic, fresh delivery, else `WebhookRejected`:
    SIGNATURE / TIMESTAMP before MALFORMED, so unauthenticated bytes are never interpreted."""
    verified = SCHEME.verify(
        raw,
        headers,
        secret=secret,
        now=now,
        tolerance_s=tolerance_s,
        max_body_bytes=max_body_bytes,
    )
    assert verified.signed_at is not None  # UIP always signs a time
    return verified.body, verified.signed_at


def verify_signature(
    raw: bytes, headers: Mapping[str, str], *, secret: str, now: datetime, tolerance_s: int
) -> int:
    """Raise `WebhookRejected` unless the delivery is authentic and fresh; the signed time."""
    return verify_delivery(raw, headers, secret=secret, now=now, tolerance_s=tolerance_s)[1]


def verify_webhook(
    raw: bytes, headers: Mapping[str, str], *, secret: str, now: datetime, tolerance_s: int
) -> dict[str, Any]:
    """The parsed body of an authentic, fresh delivery."""
    return verify_delivery(raw, headers, secret=secret, now=now, tolerance_s=tolerance_s)[0]
