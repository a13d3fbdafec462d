"""A normalized create request as UIP's create body, validated before any call
(https://docs.uip.digital/api-reference/sessions/create; docs/vendors/uip.md, Endpoints we call).

A create with a sign step is `multipart/form-data` with the step's document as a file part
(inferred.SIGN_FILE_PART); every other create is JSON.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlparse

from adapters.base import (
    JSON,
    CreateSessionRequest,
    ErrorCode,
    ProviderError,
    StepDocument,
    StepRequest,
    StepType,
)
from adapters.common.validation import bad_input
from adapters.uip import inferred
from adapters.uip.errors import (
    EXPIRES_IN_FIELD,
    IDEMPOTENCY_FIELD,
    METADATA_FIELD,
    STEPS_FIELD,
)
from adapters.uip.http import FilePart
from adapters.uip.wire import (
    EXPIRES_IN_MAX,
    EXPIRES_IN_MIN,
    METADATA_MAX_KEYS,
    MIN_AGE_RANGE,
    PRIMITIVES,
    SIGN_MAX_BYTES,
    CreateSessionBody,
    step_json,
)

DOCUMENT = "document"


def create_body(request: CreateSessionRequest) -> tuple[CreateSessionBody, list[FilePart]]:
    """The body and the file parts (empty: send JSON). Fields declared IGNORED in inputs.py
    are not read here: they are neither sent nor refused."""
    for key in request.provider_options or {}:
        raise bad_input(f"unknown UIP option '{key}'", "providerOptions", str(key))
    body = CreateSessionBody(
        steps=_steps(request.steps),
        client_reference_id=_client_reference(request.client_reference),
        metadata=_metadata(request.metadata),
        return_url=_return_url(request.return_url),
        expires_in=_expires_in(request.expires_in),
    )
    return body, _files(request.steps)


def caller_key(value: str | None) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT,
            "idempotency key must be a non-empty string",
            field=IDEMPOTENCY_FIELD,
        )
    return value


def _bad_step(index: int, message: str, *more: str) -> ProviderError:
    return ProviderError(ErrorCode.BAD_USER_INPUT, message, field=(*STEPS_FIELD, str(index), *more))


def _steps(steps: Sequence[StepRequest]) -> list[JSON]:
    if not steps:
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT, "UIP needs at least one step", field=STEPS_FIELD
        )
    out: list[JSON] = []
    for index, step in enumerate(steps):
        if not isinstance(step, StepRequest) or step.type not in PRIMITIVES:
            raise _bad_step(index, f"steps[{index}]: unknown step type")
        if not isinstance(step.gate, bool):
            raise _bad_step(index, f"steps[{index}].gate must be a boolean")
        _check_params(index, step)
        _check_document(index, step)
        out.append(step_json(step))
    return out


def _check_params(index: int, step: StepRequest) -> None:
    """The documented parameters (core-concepts/primitives); anything else is left to UIP."""
    params = step.params
    prefix = f"steps[{index}].params"

    def bad(message: str) -> ProviderError:
        return _bad_step(index, f"{prefix}{message}")

    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise bad(" must be an object")
    if step.type is StepType.AGE_VERIFY and "min_age" in params:
        min_age = params["min_age"]
        low, high = MIN_AGE_RANGE
        if isinstance(min_age, bool) or not isinstance(min_age, int) or not low <= min_age <= high:
            raise bad(f".min_age must be an integer from {low} to {high}")
    if step.type is StepType.IDENTIFY and "blocks" in params:
        blocks = params["blocks"]
        if (
            not isinstance(blocks, list)
            or not blocks
            or not all(isinstance(b, str) and b for b in blocks)
        ):
            raise bad(".blocks must be a non-empty list of block names")
    if step.type is StepType.LIGHT_SIGN:
        text = params.get(inferred.LIGHT_SIGN_TEXT_PARAM)
        if not isinstance(text, str) or not text.strip():
            raise bad(f".{inferred.LIGHT_SIGN_TEXT_PARAM}: the terms to sign are required")


def _check_document(index: int, step: StepRequest) -> None:
    """sign "carries files" (api-reference/introduction): its document is required; no other
    primitive takes one. "Up to 50 files, 50 MB combined" (core-concepts/primitives)."""
    document = step.document
    if step.type is not StepType.SIGN:
        if document is not None:
            raise _bad_step(index, f"steps[{index}]: only a SIGN step takes a document", DOCUMENT)
        return
    if not isinstance(document, StepDocument):
        raise _bad_step(index, f"steps[{index}]: a SIGN step needs the document to sign", DOCUMENT)
    if not isinstance(document.content, bytes | bytearray):
        raise _bad_step(index, f"steps[{index}].document: unreadable file", DOCUMENT)
    if len(document.content) > SIGN_MAX_BYTES:
        raise _bad_step(
            index, f"steps[{index}].document: UIP takes at most 50 MB to sign", DOCUMENT
        )


def _files(steps: Sequence[StepRequest]) -> list[FilePart]:
    parts: list[FilePart] = []
    for index, step in enumerate(steps):
        document = step.document
        if step.type is StepType.SIGN and document is not None:
            part = inferred.SIGN_FILE_PART.format(stage=index)
            filename = document.filename or DOCUMENT
            content_type = document.content_type or "application/octet-stream"
            parts.append((part, (filename, bytes(document.content), content_type)))
    return parts


def _client_reference(value: str | None) -> str | None:
    if value is not None and not (isinstance(value, str) and value):
        raise bad_input("clientReference must be a non-empty string", "clientReference")
    return value


def _metadata(value: JSON | None) -> dict[str, str] | None:
    """ "Up to 50 string-valued keys"."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT, "metadata must be an object", field=METADATA_FIELD
        )
    if len(value) > METADATA_MAX_KEYS:
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT,
            f"UIP accepts at most {METADATA_MAX_KEYS} metadata keys",
            field=METADATA_FIELD,
        )
    for key, item in value.items():
        if not isinstance(key, str) or not key or not isinstance(item, str):
            raise ProviderError(
                ErrorCode.BAD_USER_INPUT,
                "UIP metadata values must be strings (with non-empty keys)",
                field=METADATA_FIELD,
            )
    return dict(value)


def _return_url(value: str | None) -> str | None:
    """`return_url` is "an https URL"."""
    if value is None:
        return None
    try:
        parts = urlparse(value) if isinstance(value, str) else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.netloc:
        raise bad_input("returnUrl must be an absolute https URL for UIP", "returnUrl")
    return value


def _expires_in(value: int | None) -> int | None:
    """`expires_in`: "Session TTL in seconds (60-86400)"."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not EXPIRES_IN_MIN <= value <= EXPIRES_IN_MAX
    ):
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT,
            f"expiresIn must be {EXPIRES_IN_MIN}-{EXPIRES_IN_MAX} seconds for UIP",
            field=EXPIRES_IN_FIELD,
        )
    return value
