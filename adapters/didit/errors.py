"""Didit error responses → `ProviderError` (docs/vendors/didit.md, Errors and rate limits).

Didit is Django REST Framework: `{"detail": "..."}`, field errors `{"field": ["msg"]}`
(nested for objects), bare arrays `["msg"]`, `{"error": "..."}`, sometimes a `code`. A field
error on something the integrator sent maps to BAD_USER_INPUT on the normalized input path;
anything else is the vendor refusing. Messages are kept (they help) but always scrubbed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.base import ErrorCode, ProviderError
from adapters.common import errors as common

INPUT = "input"
VENDOR = "Didit"

#: Didit request field path → normalized GraphQL input path. The longest matching prefix
#: wins, so `expected_details.expected_document_types.0` → `expectedPerson.documentTypes`.
FIELD_PATHS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("workflow_id",): (INPUT, "workflowId"),
    ("vendor_data",): (INPUT, "clientReference"),
    ("callback",): (INPUT, "returnUrl"),
    ("metadata",): (INPUT, "metadata"),
    ("language",): (INPUT, "language"),
    ("contact_details",): (INPUT, "contact"),
    ("contact_details", "email"): (INPUT, "contact", "email"),
    ("contact_details", "phone"): (INPUT, "contact", "phone"),
    ("contact_details", "send_notification_emails"): (
        INPUT,
        "providerOptions",
        "send_notification_emails",
    ),
    ("contact_details", "email_lang"): (INPUT, "providerOptions", "email_lang"),
    ("expected_details",): (INPUT, "expectedPerson"),
    ("expected_details", "first_name"): (INPUT, "expectedPerson", "firstName"),
    ("expected_details", "last_name"): (INPUT, "expectedPerson", "lastName"),
    ("expected_details", "date_of_birth"): (INPUT, "expectedPerson", "dateOfBirth"),
    ("expected_details", "nationality"): (INPUT, "expectedPerson", "nationality"),
    ("expected_details", "id_country"): (INPUT, "expectedPerson", "documentCountry"),
    ("expected_details", "expected_document_types"): (INPUT, "expectedPerson", "documentTypes"),
    ("callback_method",): (INPUT, "providerOptions", "callback_method"),
    ("portrait_image",): (INPUT, "providerOptions", "portrait_image"),
    ("vendor_business_id",): (INPUT, "providerOptions", "vendor_business_id"),
}

#: Keys of a DRF error object that carry a message, not a field.
_MESSAGE_KEYS = ("detail", "error", "message", "non_field_errors")
_THROTTLE_SECONDS = re.compile(r"available in (\d+) seconds?")
#: Provider codes when the body has none. Didit answers 403 for missing, revoked or
#: wrong-environment keys.
DEFAULT_CODES: dict[int, str] = {
    400: "invalid",
    401: "permission_denied",
    403: "permission_denied",
    404: "not_found",
    409: "conflict",
    429: "throttled",
}


def normalized_field(didit_path: tuple[str, ...]) -> tuple[str, ...] | None:
    """Normalized input path for a Didit field path, or None when it is not ours."""
    return common.longest_prefix(FIELD_PATHS, didit_path)


def _flatten(value: Any, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], str]]:
    """DRF error structure → [(field path, message)]; list indexes become path parts."""
    if isinstance(value, str):
        return [(prefix, value)]
    if isinstance(value, list):
        out: list[tuple[tuple[str, ...], str]] = []
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                out.extend(_flatten(item, (*prefix, str(index))))
            else:
                out.extend(_flatten(item, prefix))
        return out
    if isinstance(value, dict):
        out = []
        for key, item in value.items():
            out.extend(_flatten(item, (*prefix, str(key))))
        return out
    return [] if value is None else [(prefix, str(value))]


def _default_code(status: int) -> str:
    if status in DEFAULT_CODES:
        return DEFAULT_CODES[status]
    if status >= 500:
        return "server_error"
    if 300 <= status < 400:
        # A redirect means a path without its trailing slash: our bug, reported as a refusal.
        return "redirect"
    return "rejected"


def _describe(entries: list[tuple[tuple[str, ...], str]]) -> str:
    return "; ".join(f"{'.'.join(path)}: {msg}" if path else msg for path, msg in entries)


def map_error(
    response: httpx.Response,
    scrub: Callable[[str], str],
    *,
    now: datetime | None = None,
) -> ProviderError:
    """Translate one non-success Didit response. Never includes the request body."""
    status = response.status_code
    body = common.response_json(response)
    provider_code: str | None = None
    field_entries: list[tuple[tuple[str, ...], str]] = []
    message_entries: list[tuple[tuple[str, ...], str]] = []
    if isinstance(body, dict):
        code = body.get("code")
        provider_code = common.scrubbed_code(code, scrub)
        for key, value in body.items():
            if key == "code":
                continue
            if key in _MESSAGE_KEYS:
                message_entries.extend(_flatten(value))
            else:
                field_entries.extend(_flatten(value, (str(key),)))
    elif body is not None:
        message_entries = _flatten(body)

    text = _describe(message_entries + field_entries) or f"{VENDOR} answered HTTP {status}"
    message = common.scrubbed_message(text, scrub)

    error = common.Refusal(status, message, provider_code or _default_code(status)).error

    if status == 400:
        for path, _ in field_entries:
            mapped = normalized_field(path)
            if mapped is not None:
                return error(ErrorCode.BAD_USER_INPUT, field=mapped)
    if status == 429:
        wait = common.wait_seconds(
            response, now or datetime.now(UTC), message=text, pattern=_THROTTLE_SECONDS
        )
        return error(ErrorCode.RATE_LIMITED, retry_after=wait)
    return error(common.error_code_for_status(status))
