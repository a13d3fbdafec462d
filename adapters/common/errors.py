"""Building blocks of the vendors' error mappers (each vendor's `errors.py` keeps its own
body shapes, field tables and provider codes).

Vendor-neutral: reading an error body, capping and scrubbing what is kept of it, the longest
matching prefix of a field table, how long a 429 says to wait, and the `ErrorCode` an HTTP
status means when the body says nothing more specific.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from adapters.base import ErrorCode, ProviderError
from adapters.common.retry_after import retry_after_header

#: What is kept of a vendor's error message and of its machine code (after scrubbing).
MAX_MESSAGE_LENGTH = 500
MAX_CODE_LENGTH = 64
RATE_LIMIT_RESET_HEADER = "x-ratelimit-reset"

T = TypeVar("T")


#: Provider codes named after the HTTP status, for a vendor whose body gave none.
HTTP_STATUS_CODES: Mapping[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "unprocessable_entity",
}


@dataclass(frozen=True)
class Refusal:
    """What a vendor's error mapper keeps of one non-success answer, whatever `ErrorCode` it
    then decides: the HTTP status, the scrubbed message and the provider code."""

    status: int
    message: str
    provider_code: str

    def error(self, code: ErrorCode, **extra: Any) -> ProviderError:
        return ProviderError(
            code, self.message, provider_code=self.provider_code, http_status=self.status, **extra
        )


def response_json(response: httpx.Response) -> Any:
    """The body as JSON, or None when it is not JSON (an HTML error page, nothing)."""
    try:
        return response.json()
    except ValueError:
        return None


def scrubbed_message(text: str, scrub: Callable[[str], str]) -> str:
    return scrub(text)[:MAX_MESSAGE_LENGTH]


def scrubbed_code(value: Any, scrub: Callable[[str], str]) -> str | None:
    """A vendor's machine code, scrubbed and capped; None unless a non-empty string."""
    return scrub(value)[:MAX_CODE_LENGTH] if isinstance(value, str) and value else None


def longest_prefix(table: Mapping[tuple[str, ...], T], path: tuple[str, ...]) -> T | None:
    """The entry of the longest prefix of `path` that `table` has, or None."""
    for end in range(len(path), 0, -1):
        hit = table.get(path[:end])
        if hit is not None:
            return hit
    return None


def reset_seconds(
    response: httpx.Response,
    now: datetime,
    *,
    header: str = RATE_LIMIT_RESET_HEADER,
    unix_from: int = 0,
) -> int | None:
    """Seconds until the rate-limit window resets: the header's value is a unix time when it
    is at least `unix_from`, else already a number of seconds."""
    reset = response.headers.get(header, "").strip()
    if not reset.isdigit():
        return None
    value = int(reset)
    if value >= unix_from:
        return max(0, value - int(now.timestamp()))
    return value


def seconds_in_text(pattern: re.Pattern[str], text: str) -> int | None:
    """The wait a message spells out ("… in 12 seconds"): `pattern`'s first group."""
    match = pattern.search(text)
    return int(match.group(1)) if match else None


def wait_seconds(
    response: httpx.Response,
    now: datetime,
    *,
    message: str = "",
    pattern: re.Pattern[str] | None = None,
    reset_unix_from: int = 0,
) -> int | None:
    """How long a 429 says to wait: `Retry-After`, else the rate-limit reset header, else
    (given a `pattern`) a wait written in the message."""
    for wait in (
        retry_after_header(response, now),
        reset_seconds(response, now, unix_from=reset_unix_from),
    ):
        if wait is not None:
            return wait
    return seconds_in_text(pattern, message) if pattern is not None else None


def error_code_for_status(status: int) -> ErrorCode:
    """What a non-success HTTP status means by itself (a 400 / 422 with a field of ours is
    BAD_USER_INPUT: that needs the body, so it is the vendor mapper's call)."""
    if status == 404:
        return ErrorCode.NOT_FOUND
    if status == 429:
        return ErrorCode.RATE_LIMITED
    if status >= 500:
        return ErrorCode.PROVIDER_UNAVAILABLE
    return ErrorCode.PROVIDER_REJECTED  # 3xx, 400, 401, 403, 409, 422, other 4xx
