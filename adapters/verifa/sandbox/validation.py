"""Request validation of the Verifa emulator.

Requests are snake_case; create also accepts camelCase / kebab-case aliases and a JSON:API
`{"data": {"attributes": {…}}}` envelope. Invalid input answers 422 in
Verifa's error body; the field-level part of it is not documented, so the sandbox adds an
`errors` list of `{field, message}` [INFERRED].
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from adapters.verifa.sandbox.model import (
    EXTERNAL_DECISIONS,
    LINK_DEFAULT_MINUTES,
    LINK_MAX_MINUTES,
)
from adapters.verifa.sandbox.payloads import error_body, to_snake

JSON = dict[str, Any]

CREATE_FIELDS = frozenset(
    {
        "external_ref",
        "country",
        "workflow_id",
        "checks",
        "metadata",
        "redirect_url",
        "fields",
        "send_email",
    }
)
UPDATE_FIELDS = frozenset({"external_ref", "metadata"})
_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_TEXT = 255
#: Reviewer notes and reasons [INFERRED limit].
MAX_NOTES = 5000


class ValidationFailed(Exception):
    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def body(self) -> JSON:
        first_field, first_message = self.errors[0]
        return error_body(
            422,
            "validation_error",
            f"{first_field}: {first_message}",
            errors=[{"field": f, "message": m} for f, m in self.errors],
        )


def _object(body: Any) -> JSON:
    if not isinstance(body, dict):
        raise ValidationFailed([("body", "Expected a JSON object.")])
    return body


def _text(errors: list[tuple[str, str]], name: str, value: Any, *, limit: int = MAX_TEXT) -> None:
    if value is not None and (not isinstance(value, str) or not value or len(value) > limit):
        errors.append((name, f"Must be a non-empty string of at most {limit} characters."))


def validate_create(body: Any) -> JSON:
    body = _object(body)
    data = body.get("data")
    if (
        set(body) == {"data"}
        and isinstance(data, dict)
        and isinstance(data.get("attributes"), dict)
    ):
        body = data["attributes"]  # JSON:API envelope
    clean: JSON = {}
    errors: list[tuple[str, str]] = []
    for key, value in body.items():
        name = to_snake(key)
        if name not in CREATE_FIELDS:
            errors.append((name, "Unknown field."))
        elif name in clean:
            errors.append((name, "Given more than once (in different spellings)."))
        else:
            clean[name] = value
    _text(errors, "external_ref", clean.get("external_ref"))
    _text(errors, "workflow_id", clean.get("workflow_id"))
    country = clean.get("country")
    if country is not None and not (isinstance(country, str) and _COUNTRY.match(country)):
        errors.append(("country", "Must be an ISO 3166-1 alpha-2 code, e.g. US."))
    checks = clean.get("checks")
    if checks is not None and not (
        isinstance(checks, list) and all(isinstance(c, str) and c for c in checks)
    ):
        errors.append(("checks", "Must be a list of check names."))
    for name in ("metadata", "fields"):
        if clean.get(name) is not None and not isinstance(clean[name], dict):
            errors.append((name, "Must be an object."))
    redirect = clean.get("redirect_url")
    if redirect is not None and not _is_url(redirect):
        errors.append(("redirect_url", "Must be an absolute http(s) URL."))
    if clean.get("send_email") is not None and not isinstance(clean["send_email"], bool):
        errors.append(("send_email", "Must be a boolean."))
    if errors:
        raise ValidationFailed(errors)
    return clean


def validate_update(body: Any) -> JSON:
    """PATCH: `external_ref`, `metadata` (merge; a key set to null is removed)."""
    body = _object(body)
    errors: list[tuple[str, str]] = [(k, "Unknown field.") for k in body if k not in UPDATE_FIELDS]
    _text(errors, "external_ref", body.get("external_ref"))
    if "metadata" in body and not isinstance(body["metadata"], dict):
        errors.append(("metadata", "Must be an object."))
    if not body:
        errors.append(("body", "Nothing to update: give external_ref and/or metadata."))
    if errors:
        raise ValidationFailed(errors)
    return dict(body)


def validate_link(body: Any) -> int:
    """One-time link: "This endpoint expects an object"; `expires_in_minutes` is an optional
    integer or null ("Defaults to the platform session expiry")."""
    body = _object(body)
    errors = [(k, "Unknown field.") for k in body if k != "expires_in_minutes"]
    minutes = body.get("expires_in_minutes")
    if minutes is None:
        minutes = LINK_DEFAULT_MINUTES
    elif isinstance(minutes, bool) or not isinstance(minutes, int):
        errors.append(("expires_in_minutes", "Must be an integer."))
    elif not 1 <= minutes <= LINK_MAX_MINUTES:
        errors.append(("expires_in_minutes", f"Must be between 1 and {LINK_MAX_MINUTES}."))
    if errors:
        raise ValidationFailed(errors)
    return int(minutes)


def validate_external_decision(body: Any) -> tuple[str, JSON | None]:
    """`decision` (required: continue | fail | reject), `metadata` (object or null)."""
    body = _object(body)
    errors = [(k, "Unknown field.") for k in body if k not in ("decision", "metadata")]
    decision = body.get("decision")
    if decision not in EXTERNAL_DECISIONS:
        errors.append(("decision", "Must be one of continue, fail, reject."))
    metadata = body.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        errors.append(("metadata", "Must be an object."))
    if errors:
        raise ValidationFailed(errors)
    return decision, metadata


def validate_case_claim(body: Any) -> str:
    """Claim a case: `reviewer_id` (required)."""
    body = _object(body)
    errors = [(k, "Unknown field.") for k in body if k != "reviewer_id"]
    _required_text(errors, "reviewer_id", body.get("reviewer_id"))
    if errors:
        raise ValidationFailed(errors)
    return str(body["reviewer_id"])


def validate_case_decision(body: Any) -> tuple[str, str | None]:
    """Approve / reject a case: `reviewer_id` (required), `notes`, `rejection_reason` (strings
    or null). The reject page's structured reason code and blocklist flag are not named in
    the pages we have, so the sandbox knows no such keys."""
    body = _object(body)
    known = ("reviewer_id", "notes", "rejection_reason")
    errors = [(k, "Unknown field.") for k in body if k not in known]
    _required_text(errors, "reviewer_id", body.get("reviewer_id"))
    for name in ("notes", "rejection_reason"):
        _text(errors, name, body.get(name), limit=MAX_NOTES)
    if errors:
        raise ValidationFailed(errors)
    return str(body["reviewer_id"]), body.get("rejection_reason")


def _required_text(errors: list[tuple[str, str]], name: str, value: Any) -> None:
    if value is None:
        errors.append((name, "Required."))
    else:
        _text(errors, name, value)


def _is_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
