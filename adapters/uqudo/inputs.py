"""What the uqudo adapter does with each `createSession` field (docs/vendors/uqudo.md, Input
support). A QR session's only input is `data`, the reader app's instructions
(https://docs.uqudo.com/docs/kyc/qr-code-app/create-a-session): documents to scan, reading,
face match, background check and one `userIdentifier`. Nothing else a caller may set can
reach uqudo; the QR session lives a fixed 30 minutes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import InputDeclaration, grouped, ignored, mapped, refused, sent

_NO_CONTACT = "uqudo never contacts the person: you show them the QR code"
_NO_MATCHING = "uqudo's QR session takes no expected personal data to compare"

INPUT_SUPPORT: Mapping[str, InputDeclaration] = MappingProxyType(
    {
        "client_reference": mapped(
            "sent as generalConfig.userIdentifier when it is a UUID; otherwise kept by the "
            "gateway only"
        ),
        "metadata": mapped("kept by the gateway only: a QR session has no metadata field"),
        "return_url": ignored("the QR flow runs in uqudo's app and returns nowhere"),
        "expires_in": ignored("a QR session always lives 30 minutes (uqudo's fixed TTL)"),
        "language": ignored("a QR session takes no language setting"),
        **grouped("contact", ignored(_NO_CONTACT)),
        **grouped(
            "expected_person",
            ignored(_NO_MATCHING),
            document_types=mapped(
                "PASSPORT becomes documents[].documentType PASSPORT; other types need "
                "providerOptions.document_types (uqudo's codes are per country)"
            ),
        ),
        "workflow_id": ignored("uqudo has no workflows: the QR session's data is the flow"),
        "provider_options": sent(
            "document_types, reading, face_recognition, background_check, "
            "background_check_type, expired_document_allowed, upload_enabled; others refused"
        ),
        "idempotency_key": mapped("deduplicated by the gateway; uqudo takes no key"),
        "steps": refused("uqudo has no steps: the QR session's data is the whole flow"),
    }
)
