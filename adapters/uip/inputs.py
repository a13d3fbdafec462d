"""What the UIP adapter does with each `createSession` field (docs/vendors/uip.md, Input
support). UIP's create takes `steps`, `client_reference_id`, `metadata`, `return_url`,
`expires_in` and an `Idempotency-Key` header (https://docs.uip.digital/api-reference/sessions/create);
nothing else a caller may set reaches UIP.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import InputDeclaration, grouped, ignored, mapped, sent

_NO_CONTACT = "UIP never contacts the person: you hand them the session link"
_NO_MATCHING = "UIP does not compare the credential with expected data; ask identify for it"

INPUT_SUPPORT: Mapping[str, InputDeclaration] = MappingProxyType(
    {
        "client_reference": mapped("sent as client_reference_id, echoed on every webhook"),
        "metadata": sent("up to 50 string-valued keys, echoed on webhooks and reads"),
        "return_url": sent("an https URL: a button on UIP's page after the flow, no redirect"),
        "expires_in": sent("the session TTL, 60 to 86400 seconds"),
        "language": ignored("UIP's hosted page has no language setting"),
        **grouped("contact", ignored(_NO_CONTACT)),
        **grouped(
            "expected_person",
            ignored(_NO_MATCHING),
            document_types=ignored(
                "UIP reads the wallet's mobile driving licence; no document choice"
            ),
        ),
        "workflow_id": ignored("UIP has no workflows: the steps are the flow"),
        # Not IGNORED: a key the caller means for UIP must not vanish; UIP defines none.
        "provider_options": mapped("UIP defines no create options: any key is BAD_USER_INPUT"),
        "idempotency_key": mapped("turned into a UUID sent as the Idempotency-Key header"),
        "steps": mapped(
            "each step becomes {primitive, params, gate}; a SIGN step's document goes as a "
            "multipart file"
        ),
    }
)
