"""Request validation of the Verifa emulator.

Requests are snake_case; create also accepts camelCase / kebab-case aliases and a JSON:API
`{"data": {"attributes": {…}}}` envelope (verifa.md §3.1). Invalid input answers 422 in
Verifa's error body; the field-level part of it is not documented, so the sandbox adds an
`errors` list of `{field, message}` [INFERRED].
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from adapters.verifa.sandbox_model import LINK_DEFAULT_MINUTES, LINK_MAX_MINUTES
from adapters.verifa.sandbox_payloads import error_body, to_snake

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
    """One-time link: optional `expires_in_minutes` (default 60)."""
    if body in (None, {}):
        return LINK_DEFAULT_MINUTES
    body = _object(body)
    unknown = [(k, "Unknown field.") for k in body if k != "expires_in_minutes"]
    minutes = body.get("expires_in_minutes", LINK_DEFAULT_MINUTES)
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        unknown.append(("expires_in_minutes", "Must be an integer."))
    elif not 1 <= minutes <= LINK_MAX_MINUTES:
        unknown.append(("expires_in_minutes", f"Must be between 1 and {LINK_MAX_MINUTES}."))
    if unknown:
        raise ValidationFailed(unknown)
    return int(minutes)


def _is_url(value: Any) -> bool:
    if not isinstance(value, str) or len(value) > 2048:
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
