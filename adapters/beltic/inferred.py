"""Every Beltic fact the adapter relies on that Beltic's pages do not state, plus the choices
we made where they are silent. One named constant each, listed with its reasoning in
docs/vendors/beltic.md ("Documented vs inferred"), so a correction is a one-line change here.
"""

from __future__ import annotations

from adapters.base import DecidedBy, DocumentType
from adapters.results import CheckKind, CheckOutcome

# -- endpoints (docs/vendors/beltic.md, Endpoints we call) ------------------------------------
# Documented base URL, "same for both environments": the key prefix selects staging.
DEFAULT_BASE_URL = "https://api.beltic.com/v1"
# The documented base ends in the API version and the documented paths start with it
# (`/v1/identity/...`), so requests go to the base URL minus this suffix. A base URL without it
# (a proxy, the sandbox at `http://beltic.sandbox`) works the same.
API_VERSION_PREFIX = "/v1"
# Documented: create, list, retrieve, decline.
SESSIONS_PATH = "/v1/identity/sessions"
SESSION_PATH = "/v1/identity/sessions/{id}"
DECLINE_PATH = "/v1/identity/sessions/{id}/decline"
# Inferred: approve, expire and redact have no reference page; named like decline.
APPROVE_PATH = "/v1/identity/sessions/{id}/approve"
EXPIRE_PATH = "/v1/identity/sessions/{id}/expire"
REDACT_METHOD = "POST"
REDACT_PATH = "/v1/identity/sessions/{id}/redact"
# Documented: accounts are created with POST; how they are listed is inferred (below).
ACCOUNTS_PATH = "/v1/identity/accounts"

# -- success codes -----------------------------------------------------------------------------
# Decline answers the session document (documented); the others are assumed to as well. An
# action answered without a body (202/204) is followed by a GET of the session.
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})
ACTION_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201, 202, 204})
REDACT_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 202, 204})
# Decline is documented without a body: approve/decline/expire/redact are sent without one,
# so the gateway's decision `reason` stays in the gateway.

# -- refusals (docs/vendors/beltic.md, Errors) ---------------------------------------------------
# Beltic publishes no error format and no status for a state transition it will not make
# (declining a decided session, expiring a final one). Our reading: a JSON:API 422 without a
# pointer into the request. The adapter treats 400, 409 and 422 alike (PROVIDER_REJECTED
# unless a pointer names the caller's field); the sandbox answers this status.
TRANSITION_REFUSED_STATUS = 422

# -- list (docs/vendors/beltic.md, Endpoints we call) --------------------------------------------
# `filter[account]` is documented; the page parameter's literal name follows the documented
# verifications list.
PAGE_SIZE_PARAM = "page[size]"
MAX_PAGE_SIZE = 100  # the verifications list allows 1-100
FILTER_ACCOUNT_PARAM = "filter[account]"
# How accounts are looked up by our client reference (the account's `external_id`).
FILTER_EXTERNAL_ID_PARAM = "filter[external_id]"
# Our guard: never follow more pages than this in one call, whatever `links.next` says.
MAX_LIST_PAGES = 50

# -- list (import) (docs/vendors/beltic.md, Importing history) -----------------------------------
# The sessions list reference does not say in which order it lists. Its cursors are keyed on
# the creation time (the documented example cursor is base64 of
# `{"values":{"created_at":…},"id":…}`), so the list is ordered by creation; that it is newest
# first is our reading. `kyc-gateway import --since` relies on it (a page wholly older than
# --since ends the walk); `list_page` logs a warning for a page that contradicts it, and
# `list_sessions` sorts what it gathers either way.
LIST_NEWEST_FIRST = True
# The parameter a next page is asked with ("Cursor for fetching items after this point"; the
# name, like `page[size]`, follows the verifications list): every `list_page` cursor has it.
LIST_CURSOR_PARAM = "page[after]"
# The list's documented query parameters (by the same bracket names): a `list_page` cursor
# carries no other, so a cursor can only ever ask for a page of this list.
LIST_QUERY_PARAMS: frozenset[str] = frozenset(
    {
        PAGE_SIZE_PARAM,
        LIST_CURSOR_PARAM,
        "page[before]",
        "page[total]",
        "filter[status]",
        "filter[entity_type]",
        FILTER_ACCOUNT_PARAM,
        "filter[session_device]",
    }
)

# -- accounts (docs/vendors/beltic.md, Creating a session) ---------------------------------------
# Documented `entity_type`: person | business. Our default when the request does not say.
DEFAULT_ENTITY_TYPE = "person"
ENTITY_TYPES: frozenset[str] = frozenset({"person", "business"})
# Our choice for a create without a client reference: a new account with this `external_id`
# (None: an account without one). Every such create makes one more account.
ANONYMOUS_ACCOUNT_EXTERNAL_ID: str | None = None
# A concurrent create of the same `external_id` is refused with one of these (or with a
# 400/422 whose pointer is `/data/attributes/external_id`): the account is then looked up
# once more instead of failing the create.
ACCOUNT_CONFLICT_STATUSES: frozenset[int] = frozenset({409})

# -- status times (docs/vendors/beltic.md, Status vocabulary) ------------------------------------
# Which documented attribute dates which status: our reading of the field names. `pending` has
# no timestamp of its own; approved and declined share `decisioned_at`.
STATUS_TIMESTAMPS: dict[str, str] = {
    "created": "created_at",
    "started": "started_at",
    "completed": "completed_at",
    "marked_for_review": "marked_for_review_at",
    "approved": "decisioned_at",
    "declined": "decisioned_at",
    "expired": "expired_at",
    "failed": "failed_at",
}
# The time used for a status without its own timestamp (`pending`, unknown statuses).
OCCURRED_AT_FALLBACK = "updated_at"
# The documented flow goes `pending → completed` and `pending → failed`: a session with one of
# these times went through `pending`, whose start Beltic does not give. The timeline carries
# `pending` at the earliest of them (the status rank orders it before what followed). Empty
# this to stop inferring the entry.
PENDING_ENDED_BY: tuple[str, ...] = ("completed_at", "failed_at")

# -- decisions (docs/vendors/beltic.md, Status vocabulary) ---------------------------------------
# "approved: A reviewer has approved the session": a decision read by polling is credited to
# a reviewer; one made through decide_session is the integrator's.
DEFAULT_DECIDED_BY = DecidedBy.REVIEWER
# Documented verification statuses and `checks[]`; that verifications may arrive as JSON:API
# `included` resources of a session is inferred, and which check statuses explain a decline is
# ours.
VERIFICATION_TYPE_PREFIX = "verification"
FAILED_CHECK_STATUSES: frozenset[str] = frozenset({"failed"})
RETRY_CHECK_STATUSES: frozenset[str] = frozenset({"requires_retry"})
# Documented: approve/decline need this permission (used in the 403 message).
DECIDE_PERMISSION = "sessions:decide"
# The documented flow: a decision is taken on `completed` or `marked_for_review` only.
DECIDE_ALLOWED_FROM: frozenset[str] = frozenset({"completed", "marked_for_review"})
# "expired before completion" and "If a session is no longer needed ... you can expire it": the
# gateway offers expire on every non-final status and lets Beltic refuse where it disagrees.
EXPIRE_ALLOWED_FROM: frozenset[str] = frozenset(
    {"created", "started", "pending", "completed", "marked_for_review"}
)

# -- rate limits (none published) ------------------------------------------------------------------
REQUESTS_PER_MINUTE = 60.0
POLL_INTERVAL_S = 15.0
POLL_MAX_INTERVAL_S = 300.0
# A 429 may carry the standard `Retry-After` / `X-RateLimit-Reset` headers (none documented);
# `adapters.common.errors.wait_seconds` reads them.
RATE_LIMIT_PER_MINUTE = 120.0

# -- webhooks (docs/vendors/beltic.md, Webhooks and signature) -----------------------------------
# Documented headers; only document-status events exist, used as "poll this session now" hints.
SIGNATURE_HEADER = "x-webhook-signature"
TOKEN_HEADER = "x-webhook-token"
# The signature's encoding is not shown (the Node example is cut off): hex is read, and base64
# and a `sha256=` prefix are also accepted. They encode the same HMAC, so accepting them costs
# no security if the guess is wrong.
SIGNATURE_PREFIXES: tuple[str, ...] = ("sha256=",)
ACCEPT_BASE64_SIGNATURE = True
# Our option name for the static `X-Webhook-Token` (checked only when configured).
WEBHOOK_TOKEN_OPTION = "webhook_token"
# The payload is "JSON:API formatted"; that the document's `relationships.session` names the
# session is inferred from the documented document resource.
WEBHOOK_SESSION_RELATIONSHIP = "session"

# -- results (docs/vendors/beltic.md, Results) -----------------------------------------------------
# Documented: `GET /v1/identity/verifications` with the `session_id` query parameter
# (identity-verifications-list). A session read whose `relationships.verifications` names
# verifications the document did not include is completed with this list (one page).
VERIFICATIONS_PATH = "/v1/identity/verifications"
VERIFICATIONS_SESSION_PARAM = "session_id"
# Check names: the verifications reference shows `name: "<string>"` and no list. The names
# below are our reading (the ones in our cassettes); any other name is an unrecognized OTHER.
CHECK_NAME_KINDS: dict[str, CheckKind] = {
    name: kind
    for kind, names in (
        (
            CheckKind.DOCUMENT,
            (
                "document_authenticity",
                "document_expiry",
                "document_type",
                "data_consistency",
                "image_quality",
            ),
        ),
        (CheckKind.FACE_MATCH, ("face_match", "portrait_quality")),
        (CheckKind.LIVENESS, ("liveness",)),
        (CheckKind.AML, ("watchlist",)),
        (CheckKind.AGE, ("age",)),
        (CheckKind.DATABASE, ("database",)),
    )
    for name in names
}
# Check statuses: the reference's only example is `not_applicable` (documented, mapped in
# adapters/beltic/results.py); "pass/fail results" (identity overview) and the verification
# statuses suggest these.
CHECK_STATUS_OUTCOMES: dict[str, CheckOutcome] = {
    "passed": CheckOutcome.PASSED,
    "failed": CheckOutcome.FAILED,
    "requires_retry": CheckOutcome.REVIEW,
}
# Check reasons: `reasons: ["<string>"]`, no vocabulary published. Ours, one each.
CHECK_REASON_CODES: dict[str, str] = {
    "document_expired": "document_expired",
    "tampering_detected": "document_not_authentic",
    "template_mismatch": "document_not_authentic",
    "blurry_image": "document_unreadable",
    "glare_detected": "document_unreadable",
    "unsupported_document_type": "document_unsupported",
    "mrz_mismatch": "document_data_inconsistent",
    "face_mismatch": "face_mismatch",
    "no_face_detected": "face_not_detected",
    "spoof_detected": "liveness_failed",
    "watchlist_match": "aml_hit",
    "pep_match": "pep_hit",
    "sanctions_match": "sanctions_hit",
    "adverse_media_match": "adverse_media_hit",
    "underage": "age_not_satisfied",
    "no_record_found": "database_no_match",
}
# A check's `metadata` is an open object (`{}` in the reference): a number under this key is
# read as the check's score; anything else leaves the score None.
CHECK_SCORE_METADATA_KEY = "score"
# `document_type` of a `document/idv` and `class` of `identity_numbers` are shown as
# "<string>" / "…": the values we read as DocumentType (anything else is OTHER).
DOCUMENT_TYPES: dict[str, DocumentType] = {
    "passport": DocumentType.PASSPORT,
    "national_id": DocumentType.ID_CARD,
    "id_card": DocumentType.ID_CARD,
    "drivers_license": DocumentType.DRIVERS_LICENSE,
    "driver_license": DocumentType.DRIVERS_LICENSE,
    "residence_permit": DocumentType.RESIDENCE_PERMIT,
    "visa": DocumentType.VISA,
}
