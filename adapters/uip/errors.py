"""UIP error responses → `ProviderError` (docs/vendors/uip.md, Endpoints we call; the per-endpoint
errors of https://docs.uip.digital/api-reference/sessions/create and the v1 error page).

The v2 error body is not documented; the v1 one is `{"error": text, "code": "area/name"}`. We
read it tolerantly (`inferred.ERROR_*_KEYS`), keep the HTTP status, and make the vendor's own
words the message (scrubbed, capped): docs/model.md (Errors) wants the reason of a refusal,
e.g. why a session cannot be continued. What a status means depends on the call
(`Operation`): a 400 on create is about our input, on continue / stop it means "not at a gate".
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from adapters.base import ErrorCode, ProviderError
from adapters.common import errors as common
from adapters.common.retry_after import retry_after_header
from adapters.uip import inferred

INPUT = "input"
VENDOR = "UIP"
STEPS_FIELD = (INPUT, "steps")
METADATA_FIELD = (INPUT, "metadata")
EXPIRES_IN_FIELD = (INPUT, "expiresIn")
IDEMPOTENCY_FIELD = (INPUT, "idempotencyKey")

#: continue / stop outside a gate: "409/400 if the session isn't at a gate"
#: (api-reference/sessions/continue).
GATE_REFUSAL_STATUSES: frozenset[int] = frozenset({400, 409})

#: Provider codes when the body has none (the v1 code names, core-concepts/error-handling).
DEFAULT_CODES: dict[int, str] = {
    400: "request/invalid-payload",
    401: "auth/invalid-api-key",
    402: "payment/insufficient-funds",
    403: "auth/unauthorized",
    404: "resource/not-found",
    409: "conflict",
    422: "request/webhook-missing",
    429: "rate-limited",
}


class Operation(enum.StrEnum):
    CREATE = "create"
    READ = "read"
    GATE = "gate"  # continue / stop


def _first_text(body: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = body.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _parts(body: Any) -> tuple[str | None, str | None]:
    """(code, message) from `{code, error|message}`, or the same nested under `error`."""
    if not isinstance(body, dict):
        return None, None
    nested = body.get("error")
    if isinstance(nested, dict):
        body = {**{k: v for k, v in body.items() if k != "error"}, **nested}
    return _first_text(body, inferred.ERROR_CODE_KEYS), _first_text(
        body, inferred.ERROR_MESSAGE_KEYS
    )


def create_field(message: str) -> tuple[str, ...]:
    """The create input a 400 is about: the first of our field names in the message, else
    `steps` (every documented create 400 is about `steps[]`)."""
    hits = [
        (match.start(), name)
        for pattern, name in inferred.CREATE_FIELD_PATTERNS
        if (match := pattern.search(message)) is not None
    ]
    return (INPUT, min(hits)[1]) if hits else STEPS_FIELD


def map_error(
    response: httpx.Response,
    scrub: Callable[[str], str],
    *,
    operation: Operation,
    now: datetime | None = None,
) -> ProviderError:
    """Translate one non-success UIP response. Never includes the request body."""
    status = response.status_code
    code, text = _parts(common.response_json(response))
    provider_code = common.scrubbed_code(code, scrub)
    raw_message = text or f"{VENDOR} answered HTTP {status}"
    message = common.scrubbed_message(raw_message, scrub)

    default_code = DEFAULT_CODES.get(status, f"http_{status}")
    error = common.Refusal(status, message, provider_code or default_code).error

    if operation is Operation.GATE and status in GATE_REFUSAL_STATUSES:
        return error(ErrorCode.PROVIDER_REJECTED)  # not at a gate
    if status == 400:
        if operation is Operation.CREATE:
            return error(ErrorCode.BAD_USER_INPUT, field=create_field(raw_message))
        return error(ErrorCode.PROVIDER_REJECTED)
    if status == 404:
        return error(ErrorCode.NOT_FOUND)
    if status == 409 and operation is Operation.CREATE:
        # "idempotency conflict": the same key with another body.
        return error(ErrorCode.PROVIDER_REJECTED, field=IDEMPOTENCY_FIELD)
    if status == 429:
        return error(
            ErrorCode.RATE_LIMITED, retry_after=retry_after_header(response, now or _now())
        )
    if status >= 500:
        return error(ErrorCode.PROVIDER_UNAVAILABLE)
    # 401 / 403 (key), 402 (balance), 409, 422 (no webhook configured), anything else.
    return error(ErrorCode.PROVIDER_REJECTED)


def _now() -> datetime:
    return datetime.now(UTC)
