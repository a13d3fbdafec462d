"""A webhook body as a JSON object, strictly: only after its signature has been checked.

Vendor-neutral: every vendor posts a JSON object. `NaN` / `Infinity` (which Python's json
accepts) are refused, like anything that is not an object.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from adapters.base import WebhookRejected, WebhookRejectReason


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or `WebhookRejected(MALFORMED)`."""
    try:
        body = json.loads(raw, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise WebhookRejected(WebhookRejectReason.MALFORMED, "body is not JSON") from exc
    if not isinstance(body, dict):
        raise WebhookRejected(WebhookRejectReason.MALFORMED, "body is not a JSON object")
    return body


def signed_body_key(raw: bytes) -> str:
    """A dedupe key from the signed bytes themselves: a captured delivery replayed with a new
    (unsigned) delivery-id header is still recognised as the same event."""
    return "sha256:" + hashlib.sha256(raw).hexdigest()
