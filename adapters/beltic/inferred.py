"""Every Beltic fact the adapter relies on that the docs do not state (providers/beltic.md
marks them [I], [V~] or "not found"), plus the choices we made where the doc is silent. One
named constant each, citing the section, so a correction is a one-line change here.
"""

from __future__ import annotations

from adapters.base import DecidedBy

# -- endpoints (§2.1, §2.2) -------------------------------------------------------------------
# §2.1 [V] "same for both environments"; kept here because the key prefix, not the host,
# selects staging vs production.
DEFAULT_BASE_URL = "https://api.beltic.com/v1"
# §2.1 [V] the documented base URL ends in the API version; paths below are the documented
# ones (`/v1/identity/...`), so the adapter requests them from the base URL minus this suffix.
# A base URL without it (a proxy, the sandbox at `http://beltic.sandbox`) works the same.
API_VERSION_PREFIX = "/v1"
# §2.2 [V] create / list / retrieve.
SESSIONS_PATH = "/v1/identity/sessions"
SESSION_PATH = "/v1/identity/sessions/{id}"
# §2.2 [V] "Decline a session and mark it as decisioned".
DECLINE_PATH = "/v1/identity/sessions/{id}/decline"
# §2.2 [I] "symmetric with decline".
APPROVE_PATH = "/v1/identity/sessions/{id}/approve"
# §2.2 [I] "If a session is no longer needed … you can expire it".
EXPIRE_PATH = "/v1/identity/sessions/{id}/expire"
# §2.2 [I] "POST …/redact (possibly DELETE)".
REDACT_METHOD = "POST"
REDACT_PATH = "/v1/identity/sessions/{id}/redact"
# §2.2 [I] "Update the session directly with applicant details" — PATCH of the session.
UPDATE_METHOD = "PATCH"
UPDATE_PATH = SESSION_PATH
# §2.2 [V] accounts are created with POST /v1/identity/accounts; listing them with a filter
# on `external_id` is [I] (no account list reference was available).
ACCOUNTS_PATH = "/v1/identity/accounts"

# -- success codes (§2.2 "All action endpoints return the full session document [V for
# decline, I for others]") -----------------------------------------------------------------
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})
# An action answered without a body (202/204) is followed by a GET of the session.
ACTION_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201, 202, 204})
REDACT_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 202, 204})
# §2.2 decline "no body shown": approve/decline/expire/redact are sent without a body, so
# the gateway's decision `reason` is not forwarded to Beltic (it stays in the gateway).

# -- update (§2.2 [I]) ---------------------------------------------------------------------------
# "PATCH … with data.attributes (person/address/contact/identity_numbers)": the only session
# fields an integrator can set. Beltic sessions have no free-form metadata.
UPDATABLE_ATTRIBUTES: frozenset[str] = frozenset(
    {"person", "address", "contact", "identity_numbers"}
)

# -- list (§2.2 "List") -------------------------------------------------------------------------
# Parameter names marked [I name] follow GET /v1/identity/verifications.
PAGE_SIZE_PARAM = "page[size]"  # [I name]
MAX_PAGE_SIZE = 100  # [I] the verifications list allows 1-100
FILTER_STATUS_PARAM = "filter[status]"  # [I name]
FILTER_ACCOUNT_PARAM = "filter[account]"  # [V name]
# [I] how accounts are looked up by our client reference (account `external_id`, design §3.3).
FILTER_EXTERNAL_ID_PARAM = "filter[external_id]"
# [I] the order: the cursor example is over `created_at`; the adapter sorts what it read
# newest first itself, but which `limit` sessions it reads is Beltic's order.
# Our guard: never follow more pages than this in one call, whatever `links.next` says.
MAX_LIST_PAGES = 50

# -- accounts and safe creates (§2.2 create, §2.6) ----------------------------------------------
# §2.2 [V] `entity_type`: person | business. Our default when the request does not say.
DEFAULT_ENTITY_TYPE = "person"
ENTITY_TYPES: frozenset[str] = frozenset({"person", "business"})
# §2.6 "Idempotency-Key: not found … make creates safe by checking account + list before
# retrying". Our choice: an existing account's newest session in one of these statuses, not
# past its `expires_at`, is returned instead of creating another. Only `created` (nobody has
# opened it, so nobody has its link yet) — a started or finished session is never reused.
REUSABLE_SESSION_STATUSES: frozenset[str] = frozenset({"created"})
# Our choice for a create without a client reference: a new account with this `external_id`
# (None: an "anonymous" account without one). Nothing can be looked up for it, so no reuse
# check is made; every such create makes one more account.
ANONYMOUS_ACCOUNT_EXTERNAL_ID: str | None = None
# [I] a concurrent create of the same `external_id` is refused with one of these (or with a
# 400/422 whose pointer is `/data/attributes/external_id`): the account is then looked up
# once more instead of failing the create.
ACCOUNT_CONFLICT_STATUSES: frozenset[int] = frozenset({409})

# -- status times (§2.2 session resource, field names [V]) -----------------------------------
# Which attribute dates which status. `pending` has no timestamp of its own; approved and
# declined share `decisioned_at`. The pairing is our reading of the field names.
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
# §2.3 [V] flow "pending → completed", "pending → failed": a session with one of these times
# went through `pending`, whose own start time Beltic does not give. The timeline then carries
# `pending` at the earliest of these times (the latest moment it can have begun; the status
# rank orders it before what followed). Empty this to stop inferring the entry.
PENDING_ENDED_BY: tuple[str, ...] = ("completed_at", "failed_at")

# -- hosted flow (§5 "session-device/hosted-flow details" not found) ------------------------
# No verification link is documented; these attributes are read if Beltic ever sends one.
VERIFICATION_URL_ATTRIBUTES: tuple[str, ...] = ("verification_url", "url")

# -- decisions (§2.3) ------------------------------------------------------------------------------
# "approved: A reviewer has approved the session": a decision read by polling is credited to
# a reviewer; one made through decide_session is the integrator's (INTEGRATOR).
DEFAULT_DECIDED_BY = DecidedBy.REVIEWER
# §2.3 [V] verification statuses `initiated, passed, failed, requires_retry, canceled` and
# `checks[] {name, status, reasons[], …}`. That verifications may arrive as JSON:API
# `included` resources of a session is [I]; the check statuses that explain a decline are ours.
VERIFICATION_TYPE_PREFIX = "verification"
FAILED_CHECK_STATUSES: frozenset[str] = frozenset({"failed"})
RETRY_CHECK_STATUSES: frozenset[str] = frozenset({"requires_retry"})
# §2.1 [S/V] the permission approve/decline needs (used in the 403 message).
DECIDE_PERMISSION = "sessions:decide"
# §2.3 [V] flow: a decision is taken on `completed` or `marked_for_review` only.
DECIDE_ALLOWED_FROM: frozenset[str] = frozenset({"completed", "marked_for_review"})
# §2.3 [I] "expired is reachable from any pre-completion state"; the gateway offers expire on
# every non-final status and lets Beltic refuse (409/422) where it disagrees.
EXPIRE_ALLOWED_FROM: frozenset[str] = frozenset(
    {"created", "started", "pending", "completed", "marked_for_review"}
)
# Our reading: applicant data is only worth updating before the session is final.
UPDATE_ALLOWED_FROM: frozenset[str] = EXPIRE_ALLOWED_FROM

# -- rate limits (§2.6 "Rate limits: not found") --------------------------------------------
REQUESTS_PER_MINUTE = 60.0
POLL_INTERVAL_S = 15.0
POLL_MAX_INTERVAL_S = 300.0
# [I] a 429 may carry the standard `Retry-After` / `X-RateLimit-Reset` (unix seconds) headers
# (none documented); `adapters.common.errors.wait_seconds` reads them.

# -- webhooks (§2.5) -------------------------------------------------------------------------------
# [V] headers; only document-status events exist, used as "poll this session now" hints.
SIGNATURE_HEADER = "x-webhook-signature"
TOKEN_HEADER = "x-webhook-token"
# [I] "hex of raw body, no timestamp". Base64 and a `sha256=` prefix are also accepted: they
# encode the same HMAC, so accepting them costs no security if the guess is wrong.
SIGNATURE_PREFIXES: tuple[str, ...] = ("sha256=",)
ACCEPT_BASE64_SIGNATURE = True
# Our option name for the static `X-Webhook-Token` (checked only when configured).
WEBHOOK_TOKEN_OPTION = "webhook_token"
# [I] payload: a JSON:API document resource whose `relationships.session` names the session.
WEBHOOK_SESSION_RELATIONSHIP = "session"
# [I] no event id is documented; if one appears under `meta`, it is the dedupe key, else a
# hash of the canonical body (a redelivery is byte-identical in content).
WEBHOOK_EVENT_ID_META_KEYS: tuple[str, ...] = ("event_id", "id")

# §2.6: no published rate limit [NOT FOUND]: a conservative assumption.
RATE_LIMIT_PER_MINUTE = 120.0
