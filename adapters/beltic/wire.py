"""Beltic's JSON:API shapes, both ways (docs/vendors/beltic.md, Endpoints we call).

Every body is a JSON:API envelope `{"data": {"type", "id", "attributes", "relationships"}}`.
Requests are strict (`extra="forbid"` catches typos in the adapter); responses and webhooks
are lenient: unknown fields are kept and every optional block may be missing or null.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import field_validator

from adapters.common.wire import LenientModel, RequestModel


# -- shared -------------------------------------------------------------------------------------
class ResourceIdentifier(RequestModel):
    type: str
    id: str


class ToOne(RequestModel):
    data: ResourceIdentifier


# -- accounts (POST /v1/identity/accounts, https://docs.beltic.com/guides/identity/accounts) ---
class PersonName(RequestModel):
    first: str | None = None
    last: str | None = None


class Person(RequestModel):
    name: PersonName | None = None
    birth_date: str | None = None  # YYYY-MM-DD, as in the session resource


class ContactDetails(RequestModel):
    email: str | None = None
    phone: str | None = None


class AccountAttributes(RequestModel):
    external_id: str | None = None
    entity_type: Literal["person", "business"]
    person: Person | None = None
    contact: ContactDetails | None = None


class NewAccount(RequestModel):
    type: Literal["account"] = "account"
    attributes: AccountAttributes


class CreateAccountBody(RequestModel):
    data: NewAccount


# -- sessions ---------------------------------------------------------------------------------
class NewSessionAttributes(RequestModel):
    entity_type: Literal["person", "business"]


class NewSessionRelationships(RequestModel):
    account: ToOne


class NewSession(RequestModel):
    type: Literal["session"] = "session"
    attributes: NewSessionAttributes
    relationships: NewSessionRelationships


class CreateSessionBody(RequestModel):
    data: NewSession


# -- responses ----------------------------------------------------------------------------------
def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 vendor time as an aware datetime; None when missing or unreadable (a bad
    timestamp must not make a whole session unreadable)."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Linkage(LenientModel):
    type: str | None = None
    id: str | None = None


class Relationship(LenientModel):
    data: Linkage | list[Linkage] | None = None

    def one_id(self) -> str | None:
        return self.data.id if isinstance(self.data, Linkage) else None


class Resource(LenientModel):
    id: str
    type: str
    attributes: dict[str, Any] | None = None
    relationships: dict[str, Relationship | None] | None = None

    def attribute(self, name: str) -> Any:
        return (self.attributes or {}).get(name)

    def related_id(self, name: str) -> str | None:
        relation = (self.relationships or {}).get(name)
        return relation.one_id() if relation is not None else None


class SessionResource(Resource):
    attributes: dict[str, Any]

    @field_validator("attributes")
    @classmethod
    def _has_status(cls, value: dict[str, Any]) -> dict[str, Any]:
        status = value.get("status")
        if not isinstance(status, str) or not status:
            raise ValueError("a session needs a non-empty string status")
        return value

    @property
    def status(self) -> str:
        return str(self.attributes["status"])

    def time(self, name: str) -> datetime | None:
        return parse_time(self.attribute(name))


class Links(LenientModel):
    next: str | None = None

    @field_validator("next", mode="before")
    @classmethod
    def _href(cls, value: Any) -> Any:
        # JSON:API allows a link object {"href": …}.
        if isinstance(value, dict):
            return value.get("href")
        return value


class SessionDocument(LenientModel):
    data: SessionResource
    included: list[Resource] | None = None


class SessionListDocument(LenientModel):
    data: list[SessionResource]
    included: list[Resource] | None = None
    links: Links | None = None


class ResourceListDocument(LenientModel):
    """A list of resources (the verifications list, identity-verifications-list)."""

    data: list[Resource]
    links: Links | None = None


class AccountDocument(LenientModel):
    data: Resource


class AccountListDocument(LenientModel):
    data: list[Resource]
    links: Links | None = None


# -- verifications (documented attributes; as JSON:API `included` resources: inferred) ----
class Check(LenientModel):
    name: str | None = None
    status: str | None = None
    reasons: list[Any] | None = None
    requirement: str | None = None


class VerificationAttributes(LenientModel):
    status: str | None = None
    checks: list[Check] | None = None


# -- errors (JSON:API error objects: inferred, docs/vendors/beltic.md, Errors) -------------------
class ErrorSource(LenientModel):
    pointer: str | None = None
    parameter: str | None = None


class ErrorObject(LenientModel):
    status: str | int | None = None
    code: str | None = None
    title: str | None = None
    detail: str | None = None
    source: ErrorSource | None = None


class ErrorDocument(LenientModel):
    errors: list[ErrorObject]


# -- webhooks (a JSON:API document resource, docs/vendors/beltic.md, Webhooks) -----------------
class WebhookDocument(LenientModel):
    data: Resource
    meta: dict[str, Any] | None = None
