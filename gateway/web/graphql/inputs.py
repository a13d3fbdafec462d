"""Input types and their translation to the normalized request."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from adapters import base
from adapters.base import ErrorCode
from gateway.errors import FieldProblem, ServiceError
from gateway.web.graphql.enums import DocumentType, SessionStatus, StepType


@strawberry.input
class ContactInput:
    email: str | None = None
    phone: str | None = None


@strawberry.input
class ExpectedPersonInput:
    first_name: str | None = None
    last_name: str | None = None
    date_of_birth: date | None = None
    nationality: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-3")
    document_country: str | None = strawberry.field(default=None, description="ISO 3166-1 alpha-3")
    document_types: list[DocumentType] | None = None


@strawberry.input
class StepInput:
    type: StepType
    params: JSON | None = strawberry.field(default=None, description="Step parameters.")
    gate: bool = strawberry.field(
        default=False,
        description="Pause after this step until continueSession or cancelSession.",
    )
    document: Upload | None = strawberry.field(
        default=None,
        description="The document a SIGN step signs, sent as a file with the GraphQL "
        "multipart request spec (the request needs a GraphQL-Require-Preflight header).",
    )


@strawberry.input
class CreateSessionInput:
    provider: str | None = strawberry.field(
        default=None, description="Vendor name; omitted = the gateway's default provider."
    )
    client_reference: str | None = None
    metadata: JSON | None = None
    return_url: str | None = None
    expires_in: int | None = strawberry.field(default=None, description="Seconds.")
    language: str | None = None
    contact: ContactInput | None = None
    expected_person: ExpectedPersonInput | None = None
    workflow_id: str | None = None
    provider_options: JSON | None = strawberry.field(
        default=None, description="Vendor-only fields, passed to the provider's adapter."
    )
    idempotency_key: str | None = None
    steps: list[StepInput] | None = strawberry.field(
        default=None,
        description="Ordered verification steps, for vendors with the STEPS capability.",
    )

    async def to_request(self) -> base.CreateSessionRequest:
        problems = []
        for name, value in (
            ("metadata", self.metadata),
            ("providerOptions", self.provider_options),
            *((f"steps.{i}.params", step.params) for i, step in enumerate(self.steps or ())),
        ):
            if value is not None and not isinstance(value, dict):
                problems.append(
                    FieldProblem(
                        ErrorCode.BAD_USER_INPUT,
                        f"{name} must be a JSON object",
                        ("input", *name.split(".")),
                    )
                )
        for i, step in enumerate(self.steps or ()):
            if step.document is not None and step.type is not base.StepType.SIGN:
                problems.append(
                    FieldProblem(
                        ErrorCode.BAD_USER_INPUT,
                        "only a SIGN step takes a document",
                        ("input", "steps", str(i), "document"),
                    )
                )
        if problems:
            raise ServiceError(*problems)
        documents = [await _document(step.document) for step in self.steps or ()]
        person = self.expected_person
        return base.CreateSessionRequest(
            client_reference=self.client_reference,
            metadata=self.metadata,
            return_url=self.return_url,
            expires_in=self.expires_in,
            language=self.language,
            contact=base.Contact(self.contact.email, self.contact.phone) if self.contact else None,
            expected_person=base.ExpectedPerson(
                first_name=person.first_name,
                last_name=person.last_name,
                date_of_birth=person.date_of_birth,
                nationality=person.nationality,
                document_country=person.document_country,
                document_types=tuple(person.document_types or ()),
            )
            if person
            else None,
            workflow_id=self.workflow_id,
            provider_options=dict(self.provider_options or {}),
            idempotency_key=self.idempotency_key,
            steps=tuple(
                base.StepRequest(
                    type=step.type,
                    params=dict(step.params or {}),
                    gate=step.gate,
                    document=document,
                )
                for step, document in zip(self.steps or (), documents, strict=True)
            ),
        )


async def _document(upload: Any) -> base.StepDocument | None:
    """An uploaded file (a Starlette `UploadFile`) as the normalized step document."""
    if upload is None:
        return None
    return base.StepDocument(
        filename=upload.filename or "document",
        content_type=upload.content_type or "application/octet-stream",
        content=await upload.read(),
    )


@strawberry.input
class SessionFilterInput:
    provider: str | None = None
    status: SessionStatus | None = None
    client_reference: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None

    def __post_init__(self) -> None:
        """Times compare with stored UTC times: one without a zone (or outside the datetime
        range once in UTC) is the caller's mistake, not a crash in the query (`sessions`
        names this argument `filter`)."""
        self.created_after = _utc(self.created_after, "createdAfter")
        self.created_before = _utc(self.created_before, "createdBefore")


def _utc(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        if value.utcoffset() is None:
            raise ValueError
        return value.astimezone(UTC)
    except (ValueError, OverflowError):
        raise GraphQLError(
            f"{name} needs a time zone and a UTC time within years 1 to 9999, "
            "e.g. 2024-01-01T00:00:00Z",
            extensions={"code": ErrorCode.BAD_USER_INPUT.value, "field": ["filter", name]},
        ) from None
