"""Every Didit fact the adapter relies on that no source states (providers/didit.md marks
them [INFERRED] or [NOT FOUND]). One named constant each, so a correction found in the
vendor's sandbox is a one-line change here.
"""

from __future__ import annotations

# didit.md §A1 lists the base as [DOC]; it is kept here because the default is an assumption
# about *which* host every environment uses (sandbox = same host, separate app/key, §A1).
DEFAULT_BASE_URL = "https://verification.didit.me"

# §A2.1 "Whether HTTP code is 200 or 201 in that case — [NOT FOUND]; treat both as success."
# (an unfinished session with the same vendor_data may be returned instead of a new one)
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})

# §A2.5 "Older docs: 204 No Content … Accept 200 and 204." (response-code drift, §A7)
DELETE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 204})

# §A2.4 "Current status must be one of Approved, Declined, In Review, Kyc Expired, Abandoned,
# Resubmitted, else 400." The doc states the rule; that it is the *complete* list (and that
# the 400 is the only effect) is our reading, used to narrow per-session capabilities.
UPDATE_STATUS_ALLOWED_FROM: frozenset[str] = frozenset(
    {"Approved", "Declined", "In Review", "Kyc Expired", "Abandoned", "Resubmitted"}
)
# §A2.4 "Resubmitted → Resubmitted: 400" — so resubmission is not offered from Resubmitted.
RESUBMIT_ALLOWED_FROM: frozenset[str] = UPDATE_STATUS_ALLOWED_FROM - {"Resubmitted"}

# §A4.1 "fallback compound key session_id + webhook_type + timestamp" — the separator and
# order are ours.
DEDUPE_FALLBACK_FORMAT = "{session_id}:{webhook_type}:{timestamp}"

# §A1 sandbox page / §A4.4: webhooks carry "environment": "sandbox" | "live". That the
# decision endpoint carries the same field with the same values is [INFERRED] from the
# doc example ("environment": "live").
ENVIRONMENT_SANDBOX_VALUE = "sandbox"
ENVIRONMENT_LIVE_VALUE = "live"

# §A2.2 lists the plural feature blocks; §A2.4 needs `{"node_id", "feature"}` to resubmit.
# The feature names for the first nine come from the decision example's `features` list;
# EMAIL, DOCUMENT_AI and QUESTIONNAIRE are [INFERRED] by analogy.
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
# §A2.4: a node is resubmitted when its block status is anything but this (our reading of
# "resubmit the failed steps"; approved steps are preserved per the older skill doc).
FEATURE_PASSED_STATUS = "Approved"

# §A2.7 reviews: `actor_type: "API_KEY" | "CONSOLE_USER"`. That a CONSOLE_USER status change
# means a human reviewer decided, and API_KEY means the integrator did, is [INFERRED].
REVIEW_ACTOR_REVIEWER = "CONSOLE_USER"
REVIEW_ACTOR_INTEGRATOR = "API_KEY"

# §A5: writes 300/min and reads 600/min per key: stay at 80 % of the lower one.
RATE_LIMIT_PER_MINUTE = 240.0
