"""UIP webhook verification (docs/vendors/uip.md, Webhooks and signature). Verification only:
the sandbox signs on its own, so a bug here cannot be hidden by the same bug in a shared signer.

`X-UIP-Signature` = hex(HMAC-SHA256(webhook_secret, "{X-UIP-Timestamp}.{raw_body}")), the
timestamp in unix seconds and within the tolerance (past or future). The steps and their order
are the shared template's (`adapters/common/webhook_verify.py`); this module names the headers
and the signed message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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
    """One signature header, one timestamp header; the message is `{timestamp}.{raw}`."""

    def claim(self, headers: Mapping[str, str]) -> Claim:
        signature = header_value(headers, SIGNATURE_HEADER)
        if signature is None:
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "missing X-UIP-Signature")
        timestamp = unix_seconds(headers.get(TIMESTAMP_HEADER), "X-UIP-Timestamp")
        return Claim({"timestamped": (signature,)}, timestamp, "X-UIP-Timestamp")

    def signed_messages(self, kind: str, raw: bytes, claim: Claim) -> Iterable[bytes]:
        yield f"{claim.timestamp}.".encode("ascii") + raw
