"""What the Didit adapter does with each `createSession` field (docs/vendors/didit.md, Input
support). Didit's create takes `workflow_id`, `vendor_data`, `callback`, `callback_method`,
`metadata`, `language`, `contact_details`, `expected_details`, `portrait_image` and (KYB)
`vendor_business_id` (https://docs.didit.me/sessions-api/create-session); no per-session
expiry and no idempotency header.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import InputDeclaration, ignored, mapped, refused, sent

INPUT_SUPPORT: Mapping[str, InputDeclaration] = MappingProxyType(
    {
        "client_reference": mapped("sent as vendor_data (at most 2000 bytes), echoed back"),
        "metadata": sent("stored with the session, echoed on webhooks and reads"),
        "return_url": mapped("sent as callback: the browser is redirected there after the flow"),
        "expires_in": ignored(
            "Didit takes no per-session expiry: the workflow's session expiration time applies"
        ),
        "language": mapped("sent as language in Didit's spelling (pt-br → pt-BR)"),
        "contact.email": mapped("sent as contact_details.email"),
        "contact.phone": mapped("sent as contact_details.phone (E.164)"),
        "expected_person.first_name": mapped("sent as expected_details.first_name"),
        "expected_person.last_name": mapped("sent as expected_details.last_name"),
        "expected_person.date_of_birth": mapped(
            "sent as expected_details.date_of_birth (YYYY-MM-DD)"
        ),
        "expected_person.nationality": mapped("sent as expected_details.nationality"),
        "expected_person.document_country": mapped("sent as expected_details.id_country"),
        "expected_person.document_types": mapped(
            "sent as expected_details.expected_document_types codes (P, ID, DL, RP, VISA, OTHER)"
        ),
        "workflow_id": sent("required: this or the configured default workflow"),
        "provider_options": mapped(
            "callback_method, portrait_image, vendor_business_id as they are; "
            "send_notification_emails, email_lang into contact_details; any other key refused"
        ),
        "idempotency_key": mapped("deduplicated by the gateway; Didit takes no key"),
        "steps": refused("Didit's steps are its workflow's, chosen by workflowId"),
    }
)
