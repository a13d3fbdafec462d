"""Beltic error responses → `ProviderError` (docs/vendors/beltic.md, Errors).

Beltic publishes no error format; we read JSON:API error documents,
`{"errors": [{"status", "code", "title", "detail", "source": {"pointer": "/data/attributes/x"}}]}`.
Only a pointer into something the integrator sent makes a 400/422 the caller's fault
(BAD_USER_INPUT on the normalized input path); any other refusal, such as a state transition
Beltic will not make, is PROVIDER_REJECTED with Beltic's words. Messages are always scrubbed
and capped. Other bodies (`{"message": …}`, HTML) still map by HTTP status.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import ValidationError

from adapters.base import ErrorCode, ProviderError
from adapters.beltic.wire import ErrorDocument, ErrorObject
from adapters.common import errors as common

INPUT = "input"
VENDOR = "Beltic"


class ErrorContext(enum.Enum):
    """What the failed request carried, which decides what a pointer refers to."""

    CREATE = "create"  # account or session create: fields of CreateSessionRequest
    OTHER = "other"  # reads and bodiless actions: nothing of the integrator's


#: JSON:API pointer (after `/data`) → normalized input path, for creates. The longest
#: matching prefix wins, so `/data/attributes/person/name/first` → `expectedPerson.firstName`.
CREATE_POINTERS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("attributes", "external_id"): (INPUT, "clientReference"),
    ("attributes", "entity_type"): (INPUT, "providerOptions", "entity_type"),
    ("attributes", "contact"): (INPUT, "contact"),
    ("attributes", "contact", "email"): (INPUT, "contact", "email"),
    ("attributes", "contact", "phone"): (INPUT, "contact", "phone"),
    ("attributes", "person"): (INPUT, "expectedPerson"),
    ("attributes", "person", "name", "first"): (INPUT, "expectedPerson", "firstName"),
    ("attributes", "person", "name", "last"): (INPUT, "expectedPerson", "lastName"),
    ("attributes", "person", "birth_date"): (INPUT, "expectedPerson", "dateOfBirth"),
    ("relationships", "account"): (INPUT, "providerOptions", "account_id"),
}

_DEFAULT_CODES = {**common.HTTP_STATUS_CODES, 429: "too_many_requests"}
_MESSAGE_KEYS = ("detail", "message", "error", "title")


def parse_pointer(pointer: str) -> tuple[str, ...] | None:
    """RFC 6901 pointer → parts (`~1` → `/`, `~0` → `~`); None if it is not a pointer."""
    if not pointer.startswith("/"):
        return None
    return tuple(p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/"))


def normalized_field(pointer: str | None, context: ErrorContext) -> tuple[str, ...] | None:
    """The normalized input path a pointer refers to, or None when it is not the caller's."""
    parts = parse_pointer(pointer) if pointer else None
    if not parts or parts[0] != "data" or len(parts) < 2:
        return None
    if context is ErrorContext.CREATE:
        return common.longest_prefix(CREATE_POINTERS, parts[1:])
    return None


def error_objects(body: Any) -> list[ErrorObject]:
    """The JSON:API error objects of a body, or [] when it is not an error document."""
    if not isinstance(body, dict) or "errors" not in body:
        return []
    try:
        return ErrorDocument.model_validate(body).errors
    except ValidationError:
        return []


def _describe(error: ErrorObject) -> str:
    title = (error.title or "").strip()
    detail = (error.detail or "").strip()
    if title and detail and title.lower() not in detail.lower():
        return f"{title}: {detail}"
    return detail or title


def _fallback_message(body: Any) -> str:
    if isinstance(body, dict):
        for key in _MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def retry_after_seconds(response: httpx.Response, now: datetime) -> int | None:
    """`Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset` (unix seconds)."""
    return common.wait_seconds(response, now)


def map_error(
    response: httpx.Response,
    scrub: Callable[[str], str],
    *,
    context: ErrorContext = ErrorContext.OTHER,
    now: datetime | None = None,
) -> ProviderError:
    """Translate one non-success Beltic response. Never includes the request body."""
    status = response.status_code
    body = common.response_json(response)
    errors = error_objects(body)

    texts = [t for t in (_describe(e) for e in errors) if t] or [_fallback_message(body)]
    text = "; ".join(t for t in texts if t) or f"{VENDOR} answered HTTP {status}"
    message = common.scrubbed_message(text, scrub)

    vendor_code = next((e.code for e in errors if e.code), None)
    provider_code = common.scrubbed_code(vendor_code, scrub)
    field = next(
        (
            mapped
            for e in errors
            if e.source is not None
            and (mapped := normalized_field(e.source.pointer, context)) is not None
        ),
        None,
    )

    default = _DEFAULT_CODES.get(status, "server_error" if status >= 500 else "rejected")
    error = common.Refusal(status, message, provider_code or default).error

    if status in (400, 422) and field is not None:
        return error(ErrorCode.BAD_USER_INPUT, field=field)
    if status in (400, 422):
        # Beltic refused something that is not a field of ours: a state transition it will
        # not make (inferred.TRANSITION_REFUSED_STATUS), or a request it reads otherwise.
        return error(ErrorCode.PROVIDER_REJECTED)
    if status == 429:
        retry_after = retry_after_seconds(response, now or datetime.now(UTC))
        return error(ErrorCode.RATE_LIMITED, retry_after=retry_after)
    return error(common.error_code_for_status(status))
