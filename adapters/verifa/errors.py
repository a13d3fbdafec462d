"""Verifa error responses → `ProviderError` (providers/verifa.md §3.5).

Verifa answers `{"error": code, "detail": text, "status_code": n}`. The machine code becomes
`provider_code`, the text the message (scrubbed, capped): design §4 wants the vendor's own
words on a refusal, e.g. why a completed session cannot be expired. A field error on
something the integrator sent maps to BAD_USER_INPUT on the normalized input path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from adapters.base import ErrorCode, ProviderError
from adapters.verifa import inferred

INPUT = "input"
VENDOR = "Verifa"
MAX_MESSAGE_LENGTH = 500
MAX_CODE_LENGTH = 64
IDEMPOTENCY_MISMATCH = "idempotency_mismatch"
IDEMPOTENCY_FIELD = (INPUT, "idempotencyKey")
DOCUMENT_COUNTRY_FIELD = (INPUT, "expectedPerson", "documentCountry")

#: Verifa request field path → normalized GraphQL input path; the longest prefix wins.
FIELD_PATHS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("external_ref",): (INPUT, "clientReference"),
    ("metadata",): (INPUT, "metadata"),
    ("redirect_url",): (INPUT, "returnUrl"),
    ("workflow_id",): (INPUT, "workflowId"),
    ("country",): DOCUMENT_COUNTRY_FIELD,
    ("fields",): (INPUT, "providerOptions", "fields"),
    ("fields", "first_name"): (INPUT, "expectedPerson", "firstName"),
    ("fields", "last_name"): (INPUT, "expectedPerson", "lastName"),
    ("fields", "date_of_birth"): (INPUT, "expectedPerson", "dateOfBirth"),
    ("fields", "nationality"): (INPUT, "expectedPerson", "nationality"),
    ("fields", "email"): (INPUT, "contact", "email"),
    ("fields", "phone"): (INPUT, "contact", "phone"),
    ("checks",): (INPUT, "providerOptions", "checks"),
    ("send_email",): (INPUT, "providerOptions", "send_email"),
    ("expires_in_minutes",): (INPUT, "expiresIn"),
}

#: Default provider codes when the body has none.
DEFAULT_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    409: "conflict",
    422: "unprocessable_entity",
    429: "rate_limited",
}


def normalized_field(path: tuple[str, ...]) -> tuple[str, ...] | None:
    """Normalized input path for a Verifa field path, or None when it is not ours."""
    for end in range(len(path), 0, -1):
        hit = FIELD_PATHS.get(path[:end])
        if hit is not None:
            return hit
    return None


def _body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return str(value)


def _field_errors(body: dict[str, Any]) -> list[tuple[tuple[str, ...], str]]:
    """[(Verifa field path, message)] from every shape in `inferred.FIELD_ERROR_*`."""
    out: list[tuple[tuple[str, ...], str]] = []
    detail = body.get("detail")
    if isinstance(detail, list):  # FastAPI: [{"loc": ["body", "external_ref"], "msg": "…"}]
        for item in detail:
            if not isinstance(item, dict) or not isinstance(item.get("loc"), list):
                continue
            loc = [str(p) for p in item["loc"]]
            if loc and loc[0] in inferred.FIELD_ERROR_LOC_ROOTS:
                loc = loc[1:]
            out.append((tuple(loc), _text(item.get("msg"))))
    for key in inferred.FIELD_ERROR_KEYS:
        errors = body.get(key)
        if isinstance(errors, dict):
            for name, message in errors.items():
                text = "; ".join(map(_text, message)) if isinstance(message, list) else message
                out.append((tuple(str(name).split(".")), _text(text)))
    if isinstance(body.get("field"), str):
        out.append((tuple(body["field"].split(".")), _text(body.get("detail"))))
    return out


def _message(body: Any, fields: list[tuple[tuple[str, ...], str]], status: int) -> str:
    if isinstance(body, dict):
        detail = body.get("detail")
        if isinstance(detail, str) and detail:
            return detail
        if fields:
            return "; ".join(f"{'.'.join(p)}: {m}" if p else m for p, m in fields)
        error = body.get("error")
        if isinstance(error, str) and error:
            return error
    return f"{VENDOR} answered HTTP {status}"


def retry_after(response: httpx.Response, message: str, now: datetime) -> int | None:
    """Seconds to wait: `Retry-After` (seconds or HTTP date), else `X-RateLimit-Reset`, else
    the documented "Retry after N seconds" text."""
    header = response.headers.get("retry-after", "").strip()
    if header.isdigit():
        return int(header)
    if header:
        try:
            when = parsedate_to_datetime(header)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(0, int((when - now).total_seconds()))
    reset = response.headers.get("x-ratelimit-reset", "").strip()
    if reset.isdigit():
        value = int(reset)
        if value >= inferred.RATE_LIMIT_RESET_UNIX_THRESHOLD:
            return max(0, value - int(now.timestamp()))
        return value
    match = inferred.RETRY_AFTER_IN_MESSAGE.search(message)
    return int(match.group(1)) if match else None


def map_error(
    response: httpx.Response,
    scrub: Callable[[str], str],
    *,
    now: datetime | None = None,
) -> ProviderError:
    """Translate one non-success Verifa response. Never includes the request body."""
    status = response.status_code
    body = _body(response)
    fields = _field_errors(body) if isinstance(body, dict) else []
    code = body.get("error") if isinstance(body, dict) else None
    provider_code = scrub(code)[:MAX_CODE_LENGTH] if isinstance(code, str) and code else None
    text = _message(body, fields, status)
    message = scrub(text)[:MAX_MESSAGE_LENGTH]

    def error(kind: ErrorCode, **extra: Any) -> ProviderError:
        return ProviderError(
            kind,
            message,
            provider_code=provider_code or DEFAULT_CODES.get(status, f"http_{status}"),
            http_status=status,
            **extra,
        )

    if status in (400, 422):
        if provider_code == IDEMPOTENCY_MISMATCH:
            return error(ErrorCode.BAD_USER_INPUT, field=IDEMPOTENCY_FIELD)
        for path, _ in fields:
            mapped = normalized_field(path)
            if mapped is not None:
                return error(ErrorCode.BAD_USER_INPUT, field=mapped)
        # No field of ours: the vendor refuses (a retired version, a state rule, …).
        return error(ErrorCode.PROVIDER_REJECTED)
    if status in (401, 403):
        return error(ErrorCode.PROVIDER_REJECTED)
    if status == 404:
        return error(ErrorCode.NOT_FOUND)
    if status == 409:
        return error(ErrorCode.PROVIDER_REJECTED)
    if status == 429:
        wait = retry_after(response, text, now or datetime.now(UTC))
        return error(ErrorCode.RATE_LIMITED, retry_after=wait)
    if status >= 500:
        return error(ErrorCode.PROVIDER_UNAVAILABLE)
    return error(ErrorCode.PROVIDER_REJECTED)
