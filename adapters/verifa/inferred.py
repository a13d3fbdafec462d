"""Every Verifa fact the adapter relies on that Verifa's pages leave open, or that is our
reading of an ambiguity (docs/vendors/verifa.md, Documented vs inferred). One named constant
each, so a correction found against Verifa's real API is a one-line change here.
"""

from __future__ import annotations

import re

from adapters.base import PollPolicy

# The reference gives the base as `https://api.withverifa.com/api/v1`; the official demo splits
# it into host + `/api/v1`. We keep the host as the base and the version prefix on each path,
# so that the sandbox (served at its root) sees the same paths as the real API.
DEFAULT_BASE_URL = "https://api.withverifa.com"
API_PREFIX = "/api/v1"

# Path segments the reference pages name but do not spell out ("Expire a session", "Reprocess a
# session", "Redact session data", "Submit external gate decision").
EXPIRE_SEGMENT = "expire"
REPROCESS_SEGMENT = "reprocess"
REDACT_SEGMENT = "data"
EXTERNAL_DECISION_SEGMENT = "external-decision"

# Review cases: `POST /api/v1/cases/{id}/claim` is shown; approve and reject are "POST" pages
# whose paths are cut from the excerpts. We follow the claim/release pattern.
CASES_PATH = "cases"
CASE_CLAIM_SEGMENT = "claim"
CASE_APPROVE_SEGMENT = "approve"
CASE_REJECT_SEGMENT = "reject"
# "Claiming and reviewing cases" comes before "Making decisions": we claim the case for our
# reviewer first. A 409 on the claim (already claimed, e.g. by us on an earlier try) does not
# stop us: the decision call gives Verifa's real answer.
CLAIM_BEFORE_DECIDING = True
CLAIM_CONFLICT_STATUSES: frozenset[int] = frozenset({409})

# Success status codes the pages do not state. Create: the examples show a body only (201
# assumed, 200 tolerated for an idempotent replay). External decision: "Decision accepted"
# (200, 202 tolerated). Redact: a JSON body is documented (200; 204 tolerated).
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})
EXTERNAL_DECISION_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 202})
REDACT_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 204})
# Reprocess "Returns 202 Accepted" (documented); 200 tolerated.
REPROCESS_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 202})

# Idempotency: a 409 on *our own retry* (same key, same body) means the first attempt is still
# being processed at Verifa (only the 422 mismatch is documented).
IDEMPOTENCY_IN_PROGRESS_STATUSES: frozenset[int] = frozenset({409})

# The one-time link response's `status` is the link's own ("Current status of the link"), not
# the session's: we re-read the session after issuing a link and take only `capture_url`,
# `qr_code_data_url` and `expires_at` from the link.
REREAD_SESSION_AFTER_LINK = True
# A session whose person holds a one-time link expires when that link does (the session
# `expired` status is "the capture token expired"): `expiresAt` is the link's `expires_at`.
LINK_EXPIRY_IS_SESSION_EXPIRY = True

# Create `fields` "pre-fill applicant data" — its keys are not documented. We use the result's
# `extracted_data` spelling for the person, and `email` / `phone` for contact.
PREFILL_KEYS: dict[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "date_of_birth": "date_of_birth",  # YYYY-MM-DD, as in the result example
    "nationality": "nationality",  # sent as ISO alpha-3, the normalized form
    "email": "email",
    "phone": "phone",
}

# List: `GET /sessions` does not document its order (list-sessions names none; the identity's
# session list is "sorted by creation date (newest first)"). We assume newest first, what
# `list_page` promises the import (a page wholly older than `--since` ends its walk), and do
# not re-sort across pages.
LIST_NEWEST_FIRST = True

# A session whose case ended `approved` / `rejected` was decided by a human reviewer. That the
# session resource's `case_status` uses these final case values is our reading.
REVIEW_CASE_DECIDED_STATUSES: frozenset[str] = frozenset({"approved", "rejected"})

# Result `rejection_reason`: its format is not documented (the case API has "a structured
# rejection reason code"). Only code-like values become reason codes; free text stays in raw.
REJECTION_REASON_CODE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}", re.IGNORECASE)

# No event is documented for capturing → processing, nor for → failed: sessions in these states
# can move without a webhook, so the reconciler polls them. `awaiting_external` is entered with
# `session.awaiting_external` but may be left by another caller of the external-decision
# endpoint, so it is polled too, as is a session sent back to capture (its next `processing`
# has no event either). `completed` is polled while its result is not out.
POLLED_SESSION_STATUSES: frozenset[str] = frozenset(
    {"capturing", "processing", "awaiting_external", "resubmission_required"}
)

# Which session status each documented event means is our reading of its description.
# `session.approved` / `session.declined` name the outcome (see OUTCOME_EVENTS).
STATE_EVENTS: dict[str, str] = {
    "session.created": "pending",
    "session.started": "capturing",
    "session.expired": "expired",
    "session.requires-review": "under_review",
    "session.awaiting_external": "awaiting_external",
}
OUTCOME_EVENTS: dict[str, str] = {
    "session.approved": "approved",
    "session.declined": "declined",
}
# `session.resubmission-required`: the person must capture again (our reading of the name; no
# payload is shown). Whatever `status` it carries, the event itself is the news.
EVENT_ONLY_STATES: dict[str, str] = {"session.resubmission-required": "resubmission_required"}
# Not documented; a `completed` event without the outcome is read as "completed while the
# result is not out": treated as completed, the result read at once.
COMPLETION_EVENTS: frozenset[str] = frozenset({"session.completed"})
# Documented session events that say nothing about the session's state.
NON_STATE_EVENTS: frozenset[str] = frozenset(
    {"session.redacted", "session.retention-expired", "session.link_generated"}
)

# Nested shape: the top-level `created_at` is the event time (the example has it five minutes
# after `data.created_at`, the session's creation). The flat shape's example is cut before any
# time; a flat `created_at` could be either time, and a session's creation time taken for the
# event's would make the event look older than it is (and lose to a poll), so it is not used.
FLAT_SHAPE_HAS_EVENT_TIME = False

# The legacy bare-hex signature is accepted "during the deprecation window", whose end is not
# documented. Operators can turn it off with the `legacy_signatures=false` option.
LEGACY_SIGNATURES_ACCEPTED = True

# "422 has field-level validation" (shape not shown). We read the FastAPI shape
# (`detail: [{"loc": [...], "msg": ...}]`, the `{error, detail, status_code}` envelope suggests
# FastAPI) and a `{"errors"|"fields": {name: message}}` map, plus a single `field` key.
FIELD_ERROR_KEYS: tuple[str, ...] = ("errors", "fields")
FIELD_ERROR_LOC_ROOTS: frozenset[str] = frozenset({"body", "query", "path"})

# `X-RateLimit-Reset` is named but its unit is not: values this large are unix seconds, smaller
# ones are seconds to wait.
RATE_LIMIT_RESET_UNIX_THRESHOLD = 1_000_000_000
# The documented 429 text: "Rate limit exceeded. Retry after 12 seconds."
RETRY_AFTER_IN_MESSAGE = re.compile(r"retry after (\d+) seconds?", re.IGNORECASE)

# Rate limits per plan: 300 / 600 / 1,000 / 1,000 req/min. We assume the lowest plan and let
# polling use half of it (session + result reads count one each), leaving the rest for
# creates, refreshes and actions.
LOWEST_PLAN_REQUESTS_PER_MINUTE = 300
POLL_BUDGET_SHARE = 0.5
POLL_POLICY = PollPolicy(
    interval_s=30.0,
    max_interval_s=600.0,
    requests_per_minute=LOWEST_PLAN_REQUESTS_PER_MINUTE * POLL_BUDGET_SHARE,
)

# The lowest plan allows 300 req/min: stay at 80 % of it.
RATE_LIMIT_PER_MINUTE = 240.0

# -- results (docs/vendors/verifa.md, Results) ----------------------------------------------------
# `check_results` holds "each check's result" (verifications-checks page); an entry's shape is
# not shown. The official demo reads `v.status ?? v.passed` or the value itself: we read the
# documented check status from `status`, else a boolean `passed`, else a bare string.
CHECK_RESULT_STATUS_KEY = "status"
CHECK_RESULT_PASSED_KEY = "passed"
# A check's own score, when its entry has one (face_match "Returns a similarity score").
CHECK_RESULT_SCORE_KEY = "score"
# The risk_assessment check produces "a composite risk score (0-100)", a risk level and the
# triggered signals; their field names inside its entry are not shown.
RISK_SCORE_KEY = "risk_score"
RISK_LEVEL_KEY = "risk_level"
RISK_SIGNALS_KEY = "signals"  # a list of signal names, or of {"name": …, "weight": …}
RISK_SIGNAL_NAME_KEY = "name"
# `age_check_passed` is the Age Verification check's outcome; the check's slug is not shown.
AGE_CHECK_NAME = "age_check"
# `rejection_reason_code` is a "stable enum"; the only value shown is `document_unreadable`
# (list-results example). The other values are our reading of the check list: the codes a
# failed check of each kind would give.
REJECTION_REASON_CODES: dict[str, str] = {
    "face_mismatch": "face_mismatch",
    "liveness_failed": "liveness_failed",
    "document_expired": "document_expired",
    "document_unsupported": "document_unsupported",
    "document_tampered": "document_not_authentic",
    "underage": "age_not_satisfied",
    "watchlist_match": "sanctions_hit",
    "pep_match": "pep_hit",
    "adverse_media_match": "adverse_media_hit",
    "duplicate_detected": "duplicate_identity",
    "blocklist_match": "blocklisted",
    "high_risk_score": "high_risk",
    "identity_mismatch": "expected_data_mismatch",
    "proof_of_address_failed": "address_not_verified",
}
# Which check each rejection reason code belongs to (the result names the reason, not the
# check). A code of no known check is reported on a check of this name (an OTHER check).
REASON_CODE_CHECKS: dict[str, str] = {
    "document_unreadable": "document_ocr",
    "face_mismatch": "face_match",
    "liveness_failed": "face_match",  # face_match "Includes liveness validation"
    "document_expired": "document_expiration",
    "document_unsupported": "id_document_filter",
    "document_tampered": "nfc_chip_auth",
    "underage": AGE_CHECK_NAME,
    "watchlist_match": "watchlist_screening",
    "pep_match": "aml_screening",
    "adverse_media_match": "aml_screening",
    "duplicate_detected": "duplicate_detection",
    "blocklist_match": "check_against_list",
    "high_risk_score": "risk_assessment",
    "identity_mismatch": "identity_crossref",
    "proof_of_address_failed": "proof_of_address_check",
}
UNPLACED_REASON_CHECK = "verification"
# A check that failed in a result that went to review (`needs_review`) did not decline the
# session: the workflow routed it to a person. We report it as REVIEW.
FAILED_CHECKS_OF_A_REVIEW_ARE_REVIEW = True
# `extracted_data.nationality` is not specified; Verifa's countries are ISO 3166-1 alpha-2
# (`country`, `country_used`), so a two-letter nationality is read as alpha-2 (alpha-3 kept).
NATIONALITY_IS_ALPHA2 = True
# The document's issuing country: `document_issuing_state` is a state ("CA" in the example),
# so the country is the result's `country_used` ("country code used for verification").
DOCUMENT_COUNTRY_FROM_COUNTRY_USED = True
# `extracted_data.document_type` values: `drivers_license` and `passport` are shown; the
# others are our reading.
DOCUMENT_TYPES: dict[str, str] = {
    "drivers_license": "DRIVERS_LICENSE",
    "passport": "PASSPORT",
    "id_card": "ID_CARD",
    "national_id": "ID_CARD",
    "residence_permit": "RESIDENCE_PERMIT",
    "visa": "VISA",
}
