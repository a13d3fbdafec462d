"""What the Verifa adapter does with each `createSession` field (docs/vendors/verifa.md, Input
support). Verifa's create takes `external_ref`, `country`, `workflow_id`, `checks`, `metadata`,
`redirect_url`, `fields` and `send_email`, plus an `Idempotency-Key` header
(https://docs.withverifa.com/core-concepts/sessions); the one-time link takes
`expires_in_minutes` (https://docs.withverifa.com/api-reference/sessions/generate-session-link).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import InputDeclaration, ignored, mapped, refused, sent

_PREFILL = "pre-fills the capture as fields.{key} (it does not skip capture)"

INPUT_SUPPORT: Mapping[str, InputDeclaration] = MappingProxyType(
    {
        "client_reference": mapped("sent as external_ref: links the session to an identity"),
        "metadata": sent("stored with the session, echoed on reads"),
        "return_url": mapped("sent as redirect_url: the person is redirected there afterwards"),
        "expires_in": mapped(
            "the capture link is a one-time link with expires_in_minutes = expiresIn rounded up "
            "to whole minutes; expiresAt is that link's expiry"
        ),
        "language": ignored("Verifa's create has no language: the capture page chooses"),
        "contact.email": mapped(_PREFILL.format(key="email")),
        "contact.phone": mapped(_PREFILL.format(key="phone")),
        "expected_person.first_name": mapped(_PREFILL.format(key="first_name")),
        "expected_person.last_name": mapped(_PREFILL.format(key="last_name")),
        "expected_person.date_of_birth": mapped(_PREFILL.format(key="date_of_birth")),
        "expected_person.nationality": mapped(_PREFILL.format(key="nationality")),
        "expected_person.document_country": mapped("sent as country (ISO 3166-1 alpha-2)"),
        "expected_person.document_types": ignored(
            "Verifa takes no document types per session: the page offers those of the country"
        ),
        "workflow_id": sent("the org's default workflow (or the configured one) when absent"),
        "provider_options": mapped(
            "country, checks, send_email and fields go as they are; any other key is refused"
        ),
        "idempotency_key": mapped(
            "turned into a UUID sent as Idempotency-Key (kept 24 h); retries reuse it"
        ),
        "steps": refused("Verifa's steps are its workflow's, chosen by workflowId"),
    }
)
