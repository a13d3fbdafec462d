"""Request validation of the Beltic emulator, answering with JSON:API error documents.

Every problem found is reported (one error object each) with a JSON pointer into the request
document, e.g. `/data/attributes/entity_type` or
`/data/relationships/account`. Structural problems follow the JSON:API spec: 400 for a
malformed document, 409 for a resource type the endpoint does not take.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from adapters.beltic.sandbox.jsonapi import ApiError, api_error, error_object
from adapters.beltic.sandbox.model import ENTITY_TYPES, TIMESTAMP_ATTRIBUTES, parse_iso

JSON = dict[str, Any]

MEDIA_TYPES = frozenset({"application/json", "application/vnd.api+json"})
MAX_STRING = 1000

_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ().-]{5,24}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")  # the doc's `country_code: "US"` (ISO 3166-1 alpha-2)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

# -- attribute schemas (the documented session resource and account create) ------------------
# A spec is a type name, a dict (object with those keys) or ("list", spec).
NAME: JSON = {"first": "str", "middle": "str", "last": "str"}
PERSON: JSON = {"name": NAME, "birth_date": "date"}
SHAREHOLDER: JSON = {
    "name": "str",
    "shareholder_type": "str",
    "date_of_birth": "date",
    "id_type": "str",
    "id_number": "str",
    "number_of_share": "number",
    "percentage_of_share": "number",
}
BUSINESS: JSON = {
    "legal_name": "str",
    "registration_date": "date",
    "shareholders": ("list", SHAREHOLDER),
}
IDENTITY_NUMBER: JSON = {"number": "str", "issuing_country_code": "country", "class": "str"}
CONTACT: JSON = {"email": "email", "phone": "phone"}
ADDRESS: JSON = {
    "line1": "str",
    "line2": "str",
    "sublocality": "str",
    "locality": "str",
    "administrative_area": "str",
    "postal_code": "str",
    "country_code": "country",
}
APPLICANT_DATA: JSON = {
    "person": PERSON,
    "business": BUSINESS,
    "identity_numbers": IDENTITY_NUMBER,
    "contact": CONTACT,
    "address": ADDRESS,
}
SESSION_CREATE: JSON = {"entity_type": "entity_type", "expires_at": "datetime", **APPLICANT_DATA}
SESSION_UPDATE: JSON = dict(APPLICANT_DATA)
#: What a PATCH may not set: the status, who made the session, and every timestamp but the
#: expiry (which it may move).
SESSION_READ_ONLY = frozenset(
    {"status", "creator_type", "creator_id", "behavior_analysis"}
    | (set(TIMESTAMP_ATTRIBUTES) - {"expires_at"})
)
ACCOUNT_CREATE: JSON = {
    "external_id": "str",
    "entity_type": "entity_type",
    "person": PERSON,
    "business": BUSINESS,
    "contact": CONTACT,
    "address": ADDRESS,
    "identity_numbers": ("list", IDENTITY_NUMBER),
}
ACCOUNT_READ_ONLY = frozenset({"status", "created_at", "updated_at"})


# -- the request document -----------------------------------------------------------------


def read_body(raw: bytes, content_type: str | None, *, required: bool) -> Any:
    """The parsed JSON body; None when it is empty and not required."""
    if not raw.strip():
        if required:
            raise api_error(400, "invalid_document", "A JSON:API document is required.", pointer="")
        return None
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media not in MEDIA_TYPES:
        raise api_error(
            415,
            "unsupported_media_type",
            f"Content-Type '{media}' is not supported; send application/json.",
        )
    try:
        return json.loads(raw)
    except ValueError:
        raise api_error(400, "invalid_json", "The request body is not valid JSON.") from None


def primary_data(
    document: Any, expected_type: str, *, path_id: str | None = None
) -> tuple[JSON, JSON]:
    """(attributes, relationships) of the request's resource object."""
    if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
        raise api_error(
            400,
            "invalid_document",
            "The document must have a top-level `data` resource object.",
            pointer="/data",
        )
    data = document["data"]
    kind = data.get("type")
    if not isinstance(kind, str) or not kind:
        raise api_error(400, "invalid_document", "`type` is required.", pointer="/data/type")
    if kind != expected_type:
        raise api_error(
            409,
            "type_conflict",
            f"This endpoint takes resources of type '{expected_type}', not '{kind}'.",
            pointer="/data/type",
        )
    if "id" in data:
        if path_id is None:
            raise api_error(
                403,
                "client_generated_id",
                "Client-generated ids are not supported.",
                pointer="/data/id",
            )
        if data["id"] != path_id:
            raise api_error(409, "id_conflict", "`id` does not match the URL.", pointer="/data/id")
    attributes = data.get("attributes", {})
    if not isinstance(attributes, dict):
        raise api_error(
            400, "invalid_document", "`attributes` must be an object.", pointer="/data/attributes"
        )
    relationships = data.get("relationships", {})
    if not isinstance(relationships, dict):
        raise api_error(
            400,
            "invalid_document",
            "`relationships` must be an object.",
            pointer="/data/relationships",
        )
    return attributes, relationships


def clean_attributes(
    attributes: JSON,
    schema: JSON,
    *,
    read_only: frozenset[str] = frozenset(),
    required: tuple[str, ...] = (),
    errors: list[JSON] | None = None,
) -> JSON:
    """Validated attributes (only the ones sent); raises 422 listing every problem."""
    problems: list[JSON] = [] if errors is None else errors
    clean: JSON = {}
    for name in required:
        if attributes.get(name) is None:
            problems.append(
                error_object(
                    422,
                    "required",
                    f"`{name}` is required.",
                    pointer=f"/data/attributes/{name}",
                )
            )
    for name, value in attributes.items():
        pointer = f"/data/attributes/{_escape(name)}"
        if name in read_only:
            problems.append(
                error_object(422, "read_only", f"`{name}` is read-only.", pointer=pointer)
            )
        elif name not in schema:
            problems.append(
                error_object(
                    422, "unknown_attribute", f"Unknown attribute `{name}`.", pointer=pointer
                )
            )
        elif not (name in required and value is None):
            clean[name] = _check(value, schema[name], pointer, problems)
    if problems and errors is None:
        raise ApiError(422, problems)
    return clean


def _check(value: Any, spec: Any, pointer: str, problems: list[JSON]) -> Any:
    if value is None:
        return None
    if isinstance(spec, dict):
        if not isinstance(value, dict):
            problems.append(_invalid(pointer, "must be an object"))
            return None
        out: JSON = {}
        for key, item in value.items():
            sub = f"{pointer}/{_escape(key)}"
            if key not in spec:
                problems.append(
                    error_object(422, "unknown_attribute", f"Unknown field `{key}`.", pointer=sub)
                )
            else:
                out[key] = _check(item, spec[key], sub, problems)
        return out
    if isinstance(spec, tuple):
        if not isinstance(value, list):
            problems.append(_invalid(pointer, "must be an array"))
            return None
        return [_check(item, spec[1], f"{pointer}/{i}", problems) for i, item in enumerate(value)]
    return _scalar(value, spec, pointer, problems)


def _scalar(value: Any, kind: str, pointer: str, problems: list[JSON]) -> Any:
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(_invalid(pointer, "must be a number"))
            return None
        return value
    if not isinstance(value, str):
        problems.append(_invalid(pointer, "must be a string"))
        return None
    if len(value) > MAX_STRING:
        problems.append(_invalid(pointer, f"must be at most {MAX_STRING} characters"))
        return None
    ok = {
        "str": lambda v: True,
        "entity_type": lambda v: v in ENTITY_TYPES,
        "email": lambda v: bool(_EMAIL.match(v)),
        "phone": lambda v: bool(_PHONE.match(v)),
        "country": lambda v: bool(_COUNTRY.match(v)),
        "date": _is_date,
        "datetime": _is_datetime,
    }[kind](value)
    if not ok:
        problems.append(_invalid(pointer, _EXPECTED[kind]))
        return None
    return value


_EXPECTED = {
    "entity_type": "must be one of: " + ", ".join(ENTITY_TYPES),
    "email": "must be an email address",
    "phone": "must be a phone number",
    "country": "must be an ISO 3166-1 alpha-2 country code",
    "date": "must be a date (YYYY-MM-DD)",
    "datetime": "must be an ISO 8601 date-time",
}


def _invalid(pointer: str, message: str) -> JSON:
    name = pointer.rsplit("/", 1)[-1]
    return error_object(422, "invalid_attribute", f"`{name}` {message}.", pointer=pointer)


def _escape(key: str) -> str:
    """A JSON pointer reference token (RFC 6901)."""
    return str(key).replace("~", "~0").replace("/", "~1")


def _is_date(text: str) -> bool:
    if not _DATE.match(text):
        return False
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _is_datetime(text: str) -> bool:
    try:
        parse_iso(text)
    except ValueError:
        return False
    return "T" in text


# -- relationships ---------------------------------------------------------------------------


def to_one(relationships: JSON, name: str, kind: str, *, required: bool) -> str | None:
    """The id of a to-one relationship `name` of type `kind`."""
    pointer = f"/data/relationships/{name}"
    if name not in relationships or relationships[name] is None:
        if required:
            raise api_error(
                422, "required", f"The `{name}` relationship is required.", pointer=pointer
            )
        return None
    value = relationships[name]
    if not isinstance(value, dict) or "data" not in value:
        raise api_error(
            422, "invalid_relationship", "A relationship needs a `data` member.", pointer=pointer
        )
    data = value["data"]
    if data is None:
        if required:
            raise api_error(
                422,
                "required",
                f"The `{name}` relationship is required.",
                pointer=f"{pointer}/data",
            )
        return None
    if not isinstance(data, dict):
        raise api_error(
            422,
            "invalid_relationship",
            "Relationship `data` must be a resource identifier.",
            pointer=f"{pointer}/data",
        )
    if data.get("type") != kind:
        raise api_error(
            422,
            "invalid_relationship",
            f"The `{name}` relationship takes type '{kind}'.",
            pointer=f"{pointer}/data/type",
        )
    ident = data.get("id")
    if not isinstance(ident, str) or not ident:
        raise api_error(
            422, "required", "A resource identifier needs an `id`.", pointer=f"{pointer}/data/id"
        )
    return ident


def no_other_relationships(relationships: JSON, allowed: frozenset[str]) -> None:
    for name in relationships:
        if name not in allowed:
            raise api_error(
                422,
                "unknown_relationship",
                f"Unknown or read-only relationship `{name}`.",
                pointer=f"/data/relationships/{_escape(name)}",
            )
