"""Every Didit fact the adapter relies on that Didit's pages do not state: one named constant
each, listed in docs/vendors/didit.md (Documented vs inferred), so a correction found against
Didit itself is a one-line change here.
"""

from __future__ import annotations

# The verification API host is documented; that live and sandbox applications share it (only
# the key differs) is our reading of the sandbox page (docs/vendors/didit.md, Endpoints we call).
DEFAULT_BASE_URL = "https://verification.didit.me"

# Create answers 201, also when it hands back an unfinished session with the same vendor_data
# ("still 201"); 200 is tolerated in case an older deployment answers so.
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})

# Delete moved from 204 No Content to 200 with a JSON body; both are accepted.
DELETE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 204})

# update-status: "current status must be one of" these, else 400. That this is the complete
# list (and the 400 its only effect) is our reading, used to narrow per-session capabilities.
UPDATE_STATUS_ALLOWED_FROM: frozenset[str] = frozenset(
    {"Approved", "Declined", "In Review", "Kyc Expired", "Abandoned", "Resubmitted"}
)
# "Resubmitted → Resubmitted: 400", so resubmission is not offered from Resubmitted.
RESUBMIT_ALLOWED_FROM: frozenset[str] = UPDATE_STATUS_ALLOWED_FROM - {"Resubmitted"}

# The dedupe key of a session event: Didit gives no id that survives a redelivery (event_id
# is per delivery attempt, `timestamp` is refreshed on each one), so the event is named by
# what stays the same in the signed body: whose status became what, and when it changed.
DEDUPE_KEY_FORMAT = "{session_id}:{webhook_type}:{status}:{created_at}"
# Body keys Didit changes on every delivery attempt; left out of the content hash that keys
# events without a session, status or `created_at`.
PER_ATTEMPT_KEYS: frozenset[str] = frozenset({"event_id", "timestamp"})

# The signed body's `timestamp` is the value Didit puts in X-Timestamp (a console test
# delivery shows them equal; the docs show `timestamp` as the dispatch time). The header
# alone is unsigned, so the replay window is judged on the body's copy.
SIGNED_TIMESTAMP_KEY = "timestamp"

# Webhooks carry "environment": "sandbox" | "live"; that the decision endpoint carries the
# same field with the same values is read from its example ("environment": "live").
ENVIRONMENT_SANDBOX_VALUE = "sandbox"
ENVIRONMENT_LIVE_VALUE = "live"

# The decision's plural feature blocks and the `feature` names update-status needs to
# resubmit a node. The first nine names come from the decision example's `features` list;
# EMAIL, DOCUMENT_AI and QUESTIONNAIRE are by analogy.
FEATURE_BLOCKS: dict[str, str] = {
    "id_verifications": "ID_VERIFICATION",
    "nfc_verifications": "NFC",
    "liveness_checks": "LIVENESS",
    "face_matches": "FACE_MATCH",
    "poa_verifications": "POA",
    "phone_verifications": "PHONE",
    "email_verifications": "EMAIL",
    "aml_screenings": "AML",
    "ip_analyses": "IP_ANALYSIS",
    "database_validations": "DATABASE_VALIDATION",
    "document_ai_documents": "DOCUMENT_AI",
    "questionnaire_responses": "QUESTIONNAIRE",
}
# A node is resubmitted when its block status is anything but this (our reading of
# "resubmit the failed steps").
FEATURE_PASSED_STATUS = "Approved"

# The decision's `reviews` items are `{user, new_status, comment, created_at}`; `user` is
# "typically" this for a review made with an API key (ours: update-status), and a console
# user's e-mail or display name otherwise. No review that set the current status means
# Didit's own workflow decided.
REVIEW_USER_API_CLIENT = "API Client"

# GET and write endpoints are each limited to 300/min per application: stay at 80 % of that.
# (The page's tighter 100/min decision scope names /v2 and unversioned paths, not /v3.)
RATE_LIMIT_PER_MINUTE = 240.0
#: `GET /v3/sessions/` page size: the list page documents limit/offset and a default of 50;
#: it gives no maximum, so we ask for at most 100 (docs/vendors/didit.md, inferred facts).
LIST_PAGE_MAX = 100

# -- results (docs/vendors/didit.md, Results) --------------------------------------------------
# The ID report's `parsed_address` is read with the fields the POA report documents for its
# `poa_parsed_address` (street_1, street_2, city, region, postal_code); `country` is taken
# when present. Our field → Didit's.
PARSED_ADDRESS_FIELDS: dict[str, str] = {
    "line1": "street_1",
    "line2": "street_2",
    "city": "city",
    "postal_code": "postal_code",
    "region": "region",
    "country": "country",
}
# A decision key we do not know whose items carry this field is a feature block of a newer
# feature (every documented block's items have a `node_id`): it becomes an OTHER check.
UNKNOWN_BLOCK_MARKER = "node_id"

# -- decision options (docs/vendors/didit.md, Resubmission options) ---------------------------
#: `notifyPerson` sends update-status `send_email: true` with `email_address` = the decision's
#: `contact_details.email` (given at create). One rendering of update-status says the address
#: is "Required when send_email is true", the preview-resubmission page that without it Didit
#: mails the person's own (verified, else contact_details) address: we send the one we know
#: and, without one, none.
NOTIFY_EMAIL_FIELD = ("contact_details", "email")
