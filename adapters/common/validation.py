"""Vendor data in, typed wire models out; the integrator's mistakes out as BAD_USER_INPUT.

What a vendor answers is validated against that vendor's wire model: an answer that does not
fit is the vendor misbehaving (PROVIDER_UNAVAILABLE), a webhook that does not fit is refused
(MALFORMED). Error messages name the model and the count of bad fields, never their values.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from adapters.base import ErrorCode, ProviderError, WebhookRejected, WebhookRejectReason
from adapters.common.webhook_body import parse_json_object

#: The root of the normalized input path a field error points at (the GraphQL `input`).
INPUT = "input"

ModelT = TypeVar("ModelT", bound=BaseModel)


def bad_input(message: str, *field: str) -> ProviderError:
    """BAD_USER_INPUT on `input.<field…>`."""
    return ProviderError(ErrorCode.BAD_USER_INPUT, message, field=(INPUT, *field))


def parse_answer(vendor: str, model: type[ModelT], data: Any) -> ModelT:
    """`data` (a vendor's answer) as `model`, or PROVIDER_UNAVAILABLE."""
    return _validated(
        model,
        data,
        lambda count: ProviderError(
            ErrorCode.PROVIDER_UNAVAILABLE,
            f"{vendor} answered an unexpected {model.__name__} ({count} fields)",
        ),
    )


def json_object_or_none(raw: bytes) -> dict[str, Any] | None:
    """A webhook body as a JSON object, or None (not JSON, not an object, NaN, too deep)."""
    try:
        return parse_json_object(raw)
    except WebhookRejected:
        return None


def parse_webhook_body(what: str, model: type[ModelT], data: Any) -> ModelT:
    """`data` (a verified webhook body) as `model`, or MALFORMED: "not <what> (n invalid
    fields)"."""
    return _validated(
        model,
        data,
        lambda count: WebhookRejected(
            WebhookRejectReason.MALFORMED, f"not {what} ({count} invalid fields)"
        ),
    )


def _validated(model: type[ModelT], data: Any, error: Callable[[int], Exception]) -> ModelT:
    """`model.model_validate(data)`; a failure raises `error(number of bad fields)`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error(exc.error_count()) from exc
