"""Checks on normalized input that hold for every vendor. Vendor-specific limits are the
adapter's (e.g. Didit's 2000-byte vendor_data); these run first and name the field."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from adapters.base import CreateSessionRequest, ErrorCode
from gateway.errors import FieldProblem
from gateway.settings import Settings

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_ISO3 = re.compile(r"^[A-Z]{3}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")


@dataclass(frozen=True)
class Limits:
    max_metadata_bytes: int
    min_expires_in_s: int
    max_expires_in_s: int
    max_client_reference_chars: int = 1024
    max_idempotency_key_chars: int = 255

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            max_metadata_bytes=settings.max_metadata_bytes,
            min_expires_in_s=settings.min_expires_in_s,
            max_expires_in_s=settings.max_expires_in_s,
        )


def _bad(message: str, *field: str) -> FieldProblem:
    return FieldProblem(ErrorCode.BAD_USER_INPUT, message, ("input", *field))


def validate_metadata(
    metadata: object, limits: Limits, field: tuple[str, ...]
) -> list[FieldProblem]:
    if not isinstance(metadata, dict):
        return [FieldProblem(ErrorCode.BAD_USER_INPUT, "metadata must be a JSON object", field)]
    size = len(json.dumps(metadata, separators=(",", ":")).encode())
    if size > limits.max_metadata_bytes:
        return [
            FieldProblem(
                ErrorCode.BAD_USER_INPUT,
                f"metadata is {size} bytes; the limit is {limits.max_metadata_bytes}",
                field,
            )
        ]
    return []


def validate_create(request: CreateSessionRequest, limits: Limits) -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    if request.metadata is not None:
        problems += validate_metadata(request.metadata, limits, ("input", "metadata"))
    if request.expires_in is not None and not (
        limits.min_expires_in_s <= request.expires_in <= limits.max_expires_in_s
    ):
        problems.append(
            _bad(
                f"expiresIn must be between {limits.min_expires_in_s} and "
                f"{limits.max_expires_in_s} seconds",
                "expiresIn",
            )
        )
    ref = request.client_reference
    if ref is not None and (not ref.strip() or len(ref) > limits.max_client_reference_chars):
        problems.append(
            _bad(
                f"clientReference must be 1 to {limits.max_client_reference_chars} characters",
                "clientReference",
            )
        )
    if request.return_url is not None:
        parts = urlsplit(request.return_url)
        if not parts.scheme or not (parts.netloc or parts.scheme not in ("http", "https")):
            problems.append(_bad("returnUrl must be an absolute URL", "returnUrl"))
    if request.language is not None and not _LANGUAGE.match(request.language):
        problems.append(_bad("language must be an ISO 639-1 code such as 'en'", "language"))
    if request.contact is not None:
        if request.contact.email is not None and not _EMAIL.match(request.contact.email):
            problems.append(_bad("contact.email is not an e-mail address", "contact", "email"))
        if request.contact.phone is not None and not _E164.match(request.contact.phone):
            problems.append(
                _bad("contact.phone must be in E.164 form, e.g. +14155550100", "contact", "phone")
            )
    person = request.expected_person
    if person is not None:
        for name, value in (
            ("nationality", person.nationality),
            ("documentCountry", person.document_country),
        ):
            if value is not None and not _ISO3.match(value):
                problems.append(
                    _bad(
                        f"{name} must be an ISO 3166-1 alpha-3 code such as 'ESP'",
                        "expectedPerson",
                        name,
                    )
                )
    key = request.idempotency_key
    if key is not None and (not key.strip() or len(key) > limits.max_idempotency_key_chars):
        problems.append(
            _bad(
                f"idempotencyKey must be 1 to {limits.max_idempotency_key_chars} characters",
                "idempotencyKey",
            )
        )
    return problems
