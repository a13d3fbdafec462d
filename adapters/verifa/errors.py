"""Verifa error responses → `ProviderError` (docs/vendors/verifa.md, Errors, rate limits and
idempotency).

Verifa answers `{"error": code, "detail": text, "status_code": n}`. The machine code becomes
`provider_code`, the text the message (scrubbed, capped): docs/model.md (Errors) wants the
vendor's own words on a refusal, e.g. why a completed session cannot be expired. A field error
on something the integrator sent maps to BAD_USER_INPUT on the normalized input path.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.base import ErrorCode, ProviderError
from adapters.common import errors as common
from adapters.verifa import inferred

INPUT = "input"
VENDOR = "Verifa"
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
DEFAULT_CODES: dict[int, str] = {**common.HTTP_STATUS_CODES, 429: "rate_limited"}


def normalized_field(path: tuple[str, ...]) -> tuple[str, ...] | None:
    """Normalized input path for a Verifa field path, or None when it is not ours."""
    return common.longest_prefix(FIELD_PATHS, path)


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
    return common.wait_seconds(
        response,
        now,
        message=message,
        pattern=inferred.RETRY_AFTER_IN_MESSAGE,
        reset_unix_from=inferred.RATE_LIMIT_RESET_UNIX_THRESHOLD,
    )


def map_error(
    response: httpx.Response,
    scrub: Callable[[str], str],
    *,
    now: datetime | None = None,
) -> ProviderError:
    """Translate one non-success Verifa response. Never includes the request body."""
    status = response.status_code
    body = common.response_json(response)
    fields = _field_errors(body) if isinstance(body, dict) else []
    code = body.get("error") if isinstance(body, dict) else None
    provider_code = common.scrubbed_code(code, scrub)
    text = _message(body, fields, status)
    message = common.scrubbed_message(text, scrub)

    default_code = DEFAULT_CODES.get(status, f"http_{status}")
    error = common.Refusal(status, message, provider_code or default_code).error

    if status in (400, 422):
        if provider_code == IDEMPOTENCY_MISMATCH:
            return error(ErrorCode.BAD_USER_INPUT, field=IDEMPOTENCY_FIELD)
        for path, _ in fields:
            mapped = normalized_field(path)
            if mapped is not None:
                return error(ErrorCode.BAD_USER_INPUT, field=mapped)
    if status == 429:
        wait = retry_after(response, text, now or datetime.now(UTC))
        return error(ErrorCode.RATE_LIMITED, retry_after=wait)
    # A 400 / 422 without a field of ours is the vendor refusing (a retired version, a state
    # rule, …), like any other status but 404, 429 and 5xx.
    return error(common.error_code_for_status(status))
