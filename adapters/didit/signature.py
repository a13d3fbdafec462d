"""Didit webhook verification (docs/vendors/didit.md, Webhooks and signature). Verification
only: the sandbox signs on its own, so a bug here cannot be hidden by the same bug in a shared
signer.

Accepted: `X-Signature` (HMAC over the raw bytes, checked before anything is parsed) or
`X-Signature-V2` (HMAC over canonical JSON, tried with unescaped and with ASCII-escaped
Unicode because Didit's pages disagree). `X-Signature-Simple` alone is refused: it does not
cover `decision`. The replay window is judged on signed data: X-Timestamp is not signed, so
the body's own `timestamp` must equal it. The steps and their order are the shared template's
(`adapters/common/webhook_verify.py`); V2 is its documented exception: its message is built
from the parsed body, so the body is parsed to check it (after size, secret and freshness).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.common.validation import json_object_or_none
from adapters.common.webhook_verify import Claim, WebhookScheme, header_value, unix_seconds
from adapters.didit.inferred import SIGNED_TIMESTAMP_KEY

TIMESTAMP_HEADER = "x-timestamp"
SIGNATURE_HEADER = "x-signature"
SIGNATURE_V2_HEADER = "x-signature-v2"
SIGNATURE_SIMPLE_HEADER = "x-signature-simple"

_RAW = "raw"
_V2 = "v2"


def shorten_floats(value: Any) -> Any:
    """Whole floats become ints (2.0 → 2), recursively, as Didit does before signing."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [shorten_floats(v) for v in value]
    if isinstance(value, dict):
        return {k: shorten_floats(v) for k, v in value.items()}
    return value


def canonical_json(body: Any, *, ensure_ascii: bool) -> bytes:
    """sort_keys + compact separators + shortened floats, UTF-8 encoded."""
    text = json.dumps(
        shorten_floats(body), sort_keys=True, separators=(",", ":"), ensure_ascii=ensure_ascii
    )
    return text.encode("utf-8")


class DiditScheme(WebhookScheme):
    """X-Signature (raw bytes) or X-Signature-V2 (canonical JSON); the signed body must repeat
    the unsigned X-Timestamp."""

    def claim(self, headers: Mapping[str, str]) -> Claim:
        """X-Timestamp first (a cheap filter, never trusted on its own: the signed body must
        repeat it), then the signatures: X-Signature and X-Signature-V2, either may verify."""
        timestamp = unix_seconds(headers.get(TIMESTAMP_HEADER), "X-Timestamp")
        signatures = {
            kind: (value,)
            for kind, header in ((_RAW, SIGNATURE_HEADER), (_V2, SIGNATURE_V2_HEADER))
            if (value := header_value(headers, header)) is not None
        }
        if not signatures:
            detail = (
                "X-Signature-Simple alone is not accepted (it does not cover the decision)"
                if headers.get(SIGNATURE_SIMPLE_HEADER)
                else "missing signature"
            )
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, detail)
        return Claim(signatures, timestamp, "X-Timestamp")

    def signed_messages(self, kind: str, raw: bytes, claim: Claim) -> Iterable[bytes]:
        if kind == _RAW:
            yield raw
            return
        # V2 covers the parsed body (docs/vendors/didit.md, Webhooks and signature), so it has
        # to be parsed to be checked; nothing of it is used unless the signature matches.
        parsed = json_object_or_none(raw)
        if parsed is not None:
            for ensure_ascii in (False, True):
                yield canonical_json(parsed, ensure_ascii=ensure_ascii)

    def check_signed(self, body: dict[str, Any], claim: Claim) -> None:
        """The body's `timestamp` (signed) must be the header's: a captured body re-sent later
        with a fresh X-Timestamp is a replay, whatever the header says."""
        signed = body.get(SIGNED_TIMESTAMP_KEY)
        if isinstance(signed, bool) or not isinstance(signed, int):
            raise WebhookRejected(
                WebhookRejectReason.TIMESTAMP, "the signed body carries no unix-seconds timestamp"
            )
        if signed != claim.timestamp:
            raise WebhookRejected(
                WebhookRejectReason.TIMESTAMP, "X-Timestamp differs from the signed timestamp"
            )
