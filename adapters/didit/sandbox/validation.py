"""Request validation of the Didit emulator, answering like Django REST Framework does.

Didit is a DRF API: field errors come back as `{"field": ["message", ...]}`, nested objects
nest the same way, list items are keyed by their index. Messages reuse DRF's stock wording
where Didit's own is not documented.
"""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

from adapters.didit.sandbox.model import (
    CALLBACK_METHODS,
    DOCUMENT_TYPES,
    LANGUAGES,
    NODE_FEATURES,
    SANDBOX_WORKFLOW_ID,
    UPDATE_STATUS_TO,
    Status,
)

JSON = dict[str, Any]
Errors = dict[str, Any]

VENDOR_DATA_MAX_BYTES = 2000
PORTRAIT_MAX_BYTES = 2 * 1024 * 1024 * 4 // 3 + 4  # 2 MB of image, base64-encoded

REQUIRED = "This field is required."
NOT_STRING = "Not a valid string."
NOT_BOOL = "Must be a valid boolean."
BAD_EMAIL = "Enter a valid email address."
BAD_URL = "Enter a valid URL."

_EMAIL = re.compile(r"^[^@\s]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")  # custom schemes (myapp://) allowed
_ALPHA3 = re.compile(r"^[A-Z]{3}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class FieldErrors(Exception):
    """A DRF-style 400 body."""

    def __init__(self, errors: Errors) -> None:
        super().__init__(errors)
        self.errors = errors


def not_a_dict(value: Any) -> list[str]:
    return [f"Invalid data. Expected a dictionary, but got {type(value).__name__}."]


def invalid_choice(value: Any) -> list[str]:
    return [f'"{value}" is not a valid choice.']


def validate_create(data: Any) -> JSON:
    """Clean a create-session body (docs/vendors/didit.md, Input support) or raise
    FieldErrors."""
    if not isinstance(data, dict):
        raise FieldErrors({"non_field_errors": not_a_dict(data)})
    errors: Errors = {}
    clean: JSON = {"metadata": data.get("metadata")}

    workflow_id = data.get("workflow_id")
    if workflow_id in (None, ""):
        errors["workflow_id"] = [REQUIRED]
    elif not _is_uuid(workflow_id):
        errors["workflow_id"] = ["Must be a valid UUID."]
    elif str(uuid.UUID(str(workflow_id))) != SANDBOX_WORKFLOW_ID:
        # Didit's wording for an unknown workflow is not documented (ours).
        errors["workflow_id"] = ["Workflow not found for this application."]
    else:
        clean["workflow_id"] = SANDBOX_WORKFLOW_ID

    vendor_data = _optional_string(data, "vendor_data", errors)
    if vendor_data is not None and len(vendor_data.encode("utf-8")) > VENDOR_DATA_MAX_BYTES:
        errors["vendor_data"] = [
            f"Ensure this field has no more than {VENDOR_DATA_MAX_BYTES} bytes (UTF-8)."
        ]
    clean["vendor_data"] = vendor_data

    callback = _optional_string(data, "callback", errors)
    if callback is not None and not _URL.match(callback):
        errors["callback"] = [BAD_URL]
    clean["callback"] = callback

    method = data.get("callback_method") or "initiator"
    if method not in CALLBACK_METHODS:
        errors["callback_method"] = invalid_choice(method)
    clean["callback_method"] = method

    language = data.get("language")
    if language is not None and language not in LANGUAGES:
        errors["language"] = invalid_choice(language)
    clean["language"] = language

    portrait = data.get("portrait_image")
    if portrait is not None and (
        not isinstance(portrait, str) or len(portrait) > PORTRAIT_MAX_BYTES
    ):
        errors["portrait_image"] = ["Invalid image: expected base64, at most 2 MB."]

    clean["contact_details"] = _nested(data, "contact_details", _contact_details, errors)
    clean["expected_details"] = _nested(data, "expected_details", _expected_details, errors)
    if errors:
        raise FieldErrors(errors)
    return clean


def validate_update_status(data: Any) -> JSON:
    """Clean an update-status body (docs/vendors/didit.md, Endpoints we call) or raise
    FieldErrors."""
    if not isinstance(data, dict):
        raise FieldErrors({"non_field_errors": not_a_dict(data)})
    errors: Errors = {}
    new_status = data.get("new_status")
    if new_status in (None, ""):
        errors["new_status"] = [REQUIRED]
    elif new_status not in UPDATE_STATUS_TO:
        errors["new_status"] = invalid_choice(new_status)
    comment = _optional_string(data, "comment", errors)
    send_email = data.get("send_email", False)
    if not isinstance(send_email, bool):
        errors["send_email"] = [NOT_BOOL]
    email = _optional_string(data, "email_address", errors)
    if send_email is True and not email:
        errors["email_address"] = ["This field is required when send_email is true."]
    elif email and not _EMAIL.match(email):
        errors["email_address"] = [BAD_EMAIL]
    nodes = data.get("nodes_to_resubmit")
    if new_status == Status.RESUBMITTED:
        node_errors = _nodes_errors(nodes)
        if node_errors:
            errors["nodes_to_resubmit"] = node_errors
    if errors:
        raise FieldErrors(errors)
    return {
        "new_status": Status(new_status),
        "comment": comment,
        "nodes_to_resubmit": nodes if new_status == Status.RESUBMITTED else None,
    }


# -- helpers -----------------------------------------------------------------------------


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _optional_string(data: JSON, key: str, errors: Errors) -> str | None:
    """DRF CharField semantics: numbers are coerced, other types rejected."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        errors[key] = [NOT_STRING]
        return None
    return str(value)


def _nested(data: JSON, key: str, check: Any, errors: Errors) -> JSON | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, dict):
        errors[key] = {"non_field_errors": not_a_dict(value)}
        return None
    sub_errors: Errors = {}
    clean = check(value, sub_errors)
    if sub_errors:
        errors[key] = sub_errors
    return clean


def _contact_details(value: JSON, errors: Errors) -> JSON:
    email = _optional_string(value, "email", errors)
    if email is not None and not _EMAIL.match(email):
        errors["email"] = [BAD_EMAIL]
    notify = value.get("send_notification_emails", False)
    if not isinstance(notify, bool):
        errors["send_notification_emails"] = [NOT_BOOL]
    email_lang = value.get("email_lang")
    if email_lang is not None and email_lang not in LANGUAGES:
        errors["email_lang"] = invalid_choice(email_lang)
    phone = _optional_string(value, "phone", errors)
    if phone is not None and not _E164.match(phone):
        errors["phone"] = ["Enter a valid phone number."]
    return {
        "email": email,
        "email_lang": email_lang,
        "send_notification_emails": notify,
        "phone": phone,
    }


def _expected_details(value: JSON, errors: Errors) -> JSON:
    clean: JSON = {}
    for key in ("first_name", "last_name", "gender"):
        if key in value:
            clean[key] = _optional_string(value, key, errors)
    if value.get("date_of_birth") is not None:
        dob = value["date_of_birth"]
        if not isinstance(dob, str) or not _DATE.match(dob) or not _valid_date(dob):
            errors["date_of_birth"] = [
                "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
            ]
        clean["date_of_birth"] = dob
    for key in ("nationality", "id_country"):
        if value.get(key) is not None:
            if not isinstance(value[key], str) or not _ALPHA3.match(value[key]):
                errors[key] = ["Enter a valid ISO 3166-1 alpha-3 country code."]
            clean[key] = value[key]
    types = value.get("expected_document_types")
    if types is not None:
        if not isinstance(types, list):
            errors["expected_document_types"] = [
                f'Expected a list of items but got type "{type(types).__name__}".'
            ]
        else:
            bad = {
                str(i): invalid_choice(t) for i, t in enumerate(types) if t not in DOCUMENT_TYPES
            }
            if bad:
                errors["expected_document_types"] = bad
        clean["expected_document_types"] = types
    return clean


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _nodes_errors(nodes: Any) -> Any:
    """nodes_to_resubmit: required for Resubmitted, items `{node_id, feature}` of the workflow."""
    if nodes is None or nodes == []:
        return ["This field is required when new_status is Resubmitted."]
    if not isinstance(nodes, list):
        return [f'Expected a list of items but got type "{type(nodes).__name__}".']
    bad: Errors = {}
    for index, node in enumerate(nodes):
        if not isinstance(node, dict):
            bad[str(index)] = {"non_field_errors": not_a_dict(node)}
            continue
        node_id, feature = node.get("node_id"), node.get("feature")
        if node_id not in NODE_FEATURES:
            bad[str(index)] = {"node_id": [f'Node "{node_id}" is not part of this workflow.']}
        elif feature is not None and feature != NODE_FEATURES[node_id]:
            bad[str(index)] = {"feature": [f'Node "{node_id}" is a {NODE_FEATURES[node_id]} node.']}
    return bad or None
