"""What the Beltic adapter does with each `createSession` field (docs/vendors/beltic.md, Input
support). Beltic's session create takes `entity_type` and an `account` relationship
(https://docs.beltic.com/guides/identity/sessions); the account takes `external_id`,
`entity_type`, `person`, `contact` (https://docs.beltic.com/guides/identity/accounts). Nothing
else a caller may set has a documented place at Beltic.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import InputDeclaration, ignored, mapped, refused

_ON_NEW_ACCOUNT = "sent on the account made for this clientReference (an existing one is kept)"
_NO_FIELD = "Beltic's accounts and sessions have no field for it"

INPUT_SUPPORT: Mapping[str, InputDeclaration] = MappingProxyType(
    {
        "client_reference": mapped(
            "the account's external_id: the account is found, or made, and the session is "
            "created on it"
        ),
        "metadata": mapped("kept by the gateway only: a Beltic session has no metadata field"),
        "return_url": ignored("Beltic has no hosted page to return from"),
        "expires_in": ignored("Beltic's create takes no expiry: Beltic sets expires_at itself"),
        "language": ignored("Beltic has no hosted page, hence no language setting"),
        "contact.email": mapped(f"contact.email, {_ON_NEW_ACCOUNT}"),
        "contact.phone": mapped(f"contact.phone, {_ON_NEW_ACCOUNT}"),
        "expected_person.first_name": mapped(
            f"person.name.first (entity_type person only), {_ON_NEW_ACCOUNT}"
        ),
        "expected_person.last_name": mapped(
            f"person.name.last (entity_type person only), {_ON_NEW_ACCOUNT}"
        ),
        "expected_person.date_of_birth": mapped(
            f"person.birth_date (entity_type person only), {_ON_NEW_ACCOUNT}"
        ),
        "expected_person.nationality": ignored(_NO_FIELD),
        "expected_person.document_country": ignored(_NO_FIELD),
        "expected_person.document_types": ignored(
            "your integration chooses the documents it uploads to the session"
        ),
        "workflow_id": ignored("Beltic's identity sessions have no workflow"),
        "provider_options": mapped(
            "entity_type (person or business) and account_id (an existing Beltic account) as "
            "they are; any other key refused"
        ),
        "idempotency_key": mapped(
            "deduplicated by the gateway; Beltic takes no key, and a create is never retried"
        ),
        "steps": refused("Beltic has no steps: your integration adds documents and verifications"),
    }
)
