"""uqudo error responses → `ProviderError` (docs/vendors/uqudo.md, Documented vs inferred).

uqudo documents status codes only ("Error body format: [NOT FOUND]"). We read what is there:
an OAuth error (`{"error", "error_description"}`, RFC 6749 section 5.2, from the token endpoint), a
Spring-style body (`{"status", "error", "message", "path"}`), or plain text. A 401 reaching
this mapper has already survived one token refresh (see `auth.BearerAuth`). Messages are kept
(they help) but always scrubbed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters.base import ErrorCode, ProviderError
from adapters.common import errors as common
from adapters.uqudo import inferred

VENDOR = "uqudo"
INPUT = "input"
_MESSAGE_KEYS = ("error_description", "message", "detail", "error")
_CODE_KEYS = ("code", "error")
_CODE_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,63}")

#: HTTP status → (normalized code, our provider code when the body names none).
STATUS_CODES: dict[int, tuple[ErrorCode, str]] = {
    400: (ErrorCode.PROVIDER_REJECTED, "bad_request"),
    401: (ErrorCode.PROVIDER_REJECTED, "unauthorized"),
    403: (ErrorCode.PROVIDER_REJECTED, "forbidden"),
    404: (ErrorCode.NOT_FOUND, "not_found"),
    409: (ErrorCode.PROVIDER_REJECTED, "conflict"),
    413: (ErrorCode.PROVIDER_REJECTED, "payload_too_large"),
    415: (ErrorCode.PROVIDER_REJECTED, "unsupported_media_type"),
    429: (ErrorCode.RATE_LIMITED, "rate_limited"),
}


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        text = response.text.strip()
        return text or None


def _provider_code(body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    for key in _CODE_KEYS:
        value = body.get(key)
        if isinstance(value, str) and _CODE_LIKE.fullmatch(value):
            return value
    return None


def _message(body: Any) -> str | None:
    if isinstance(body, dict):
        for key in _MESSAGE_KEYS:
            value = body.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return None
    if isinstance(body, str):
        return body
    return None


def retry_after(response: httpx.Response, now: datetime) -> int:
    """Seconds to wait: `Retry-After` (seconds or HTTP date), else our default (no limits are
    published, so no other hint exists; docs/vendors/uqudo.md, Documented vs inferred)."""
    header = response.headers.get("retry-after", "").strip()
    if header.isdigit():
        return max(1, int(header))
    if header:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(1, int((when - now).total_seconds()))
    return inferred.DEFAULT_RETRY_AFTER_S


def map_error(
    response: httpx.Response,
    scrub: Callable[[str], str],
    *,
    now: datetime | None = None,
) -> ProviderError:
    """Translate one non-success uqudo response. Never includes the request."""
    status = response.status_code
    body = _body(response)
    text = _message(body) or f"{VENDOR} answered HTTP {status}"
    message = common.scrubbed_message(text, scrub)
    if status in STATUS_CODES:
        code, default_code = STATUS_CODES[status]
    elif status >= 500:
        code, default_code = ErrorCode.PROVIDER_UNAVAILABLE, "server_error"
    elif 300 <= status < 400:
        # A redirect would drop the bearer token (docs/model.md, Pitfalls): reported, not followed.
        code, default_code = ErrorCode.PROVIDER_REJECTED, "redirect"
    else:
        code, default_code = ErrorCode.PROVIDER_REJECTED, "rejected"
    provider_code = _provider_code(body)
    return ProviderError(
        code,
        message,
        provider_code=scrub(provider_code) if provider_code else default_code,
        http_status=status,
        retry_after=retry_after(response, now or datetime.now(UTC)) if status == 429 else None,
    )


def bad_input(message: str, *field: str) -> ProviderError:
    return ProviderError(ErrorCode.BAD_USER_INPUT, message, field=(INPUT, *field))


def unavailable(message: str, *, http_status: int | None = None) -> ProviderError:
    return ProviderError(ErrorCode.PROVIDER_UNAVAILABLE, message, http_status=http_status)
