"""Every Verifa fact the adapter relies on that providers/verifa.md marks [I] / [V~], leaves
open, or that is our reading of an ambiguity. One named constant each, so a correction found
in the vendor's sandbox is a one-line change here.
"""

from __future__ import annotations

import re

from adapters.base import PollPolicy

# §3.1 gives the base as `https://api.withverifa.com/api/v1`; the official demo splits it into
# host + `/api/v1` (§3.6). We keep the host as the base and the version prefix on each path,
# so that the sandbox (served at its root) sees the same paths as the real API.
DEFAULT_BASE_URL = "https://api.withverifa.com"
API_PREFIX = "/api/v1"

# §3.2 "Expire … path segment [I]" and "Reprocess … path segment [I]".
EXPIRE_SEGMENT = "expire"
REPROCESS_SEGMENT = "reprocess"
# §3.2 "Redact `DELETE /api/v1/sessions/{id}/data` [V~]".
REDACT_SEGMENT = "data"

# §3.2 Create: the status code is not stated (the examples show a body only). 201 is what
# `create_session_201` assumes; 200 is tolerated for an idempotent replay.
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})
# §3.2 Reprocess "→ 202 Accepted" [V~]; 200 tolerated.
REPROCESS_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 202})
# §3.2 Redact: a JSON body is documented (so 200); 204 tolerated.
REDACT_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 204})

# §3.2 One-time link: the response's `status` is not said to be the *session's* status (it
# may be the link's). We therefore re-read the session after issuing a link and only take
# `capture_url` / `qr_code_data_url` from the link response.
REREAD_SESSION_AFTER_LINK = True

# §3.2 Create `fields` "pre-fill applicant data" — its keys are not documented. We use the
# result's `extracted_data` spelling [V] for the person, and `email` / `phone` [I] for contact.
PREFILL_KEYS: dict[str, str] = {
    "first_name": "first_name",
    "last_name": "last_name",
    "date_of_birth": "date_of_birth",  # YYYY-MM-DD, as in the result example
    "nationality": "nationality",  # sent as ISO alpha-3, the normalized form
    "email": "email",
    "phone": "phone",
}

# §3.2 List: the sort order is not documented; we assume newest first (what the contract
# promises) and do not re-sort across pages.
LIST_NEWEST_FIRST = True

# §3.3 Review cases: a session whose case ended `approved` / `rejected` was decided by a human
# reviewer. That the session resource's `case_status` uses these final case values is [I].
REVIEW_CASE_DECIDED_STATUSES: frozenset[str] = frozenset({"approved", "rejected"})

# §3.2 Result `rejection_reason`: its format is not documented (the case API has "a structured
# rejection reason code"). Only code-like values become reason codes; free text stays in raw.
REJECTION_REASON_CODE = re.compile(r"[a-z][a-z0-9_.\-]{0,63}", re.IGNORECASE)

# §3.4 "No event for capturing→processing, awaiting_external or failed was found": sessions
# in these states can move (to `processing`, `awaiting_external`, `failed`) without a webhook,
# so the reconciler polls them. `completed` is also polled while its result is not out.
POLLED_SESSION_STATUSES: frozenset[str] = frozenset(
    {"capturing", "processing", "awaiting_external"}
)

# §3.4 documents event *names*; which session status each one means is our reading.
# `session.approved` / `session.declined` name the outcome (see OUTCOME_EVENTS).
STATE_EVENTS: dict[str, str] = {
    "session.created": "pending",
    "session.started": "capturing",
    "session.expired": "expired",
    "session.requires-review": "under_review",
}
OUTCOME_EVENTS: dict[str, str] = {
    "session.approved": "approved",
    "session.declined": "declined",
}
# Not documented; a `completed` event without the outcome is what design §3.2 anticipates
# ("completed while the result is not out"): treated as completed, result read at once.
COMPLETION_EVENTS: frozenset[str] = frozenset({"session.completed"})
# Documented session events that say nothing about the session's state (§3.4, §3.2 link).
NON_STATE_EVENTS: frozenset[str] = frozenset(
    {"session.redacted", "session.retention-expired", "session.link_generated"}
)

# §3.4 nested shape: the top-level `created_at` is the event time (the example has it five
# minutes after `data.created_at`, the session's creation). The flat shape's example is cut
# before any time; a flat `created_at` could be either time, and a session's creation time
# taken for the event's would make the event look older than it is (and lose to a poll), so
# it is not used.
FLAT_SHAPE_HAS_EVENT_TIME = False

# §3.4 dedupe: `idempotency_key` first [V], then the `X-Verifa-Delivery-Id` header (demo only,
# [V repo]); without either (the older nested shape), this compound key — its format is ours.
DEDUPE_FALLBACK_FORMAT = "{session_id}:{event}:{created_at}"

# §3.4 The legacy bare-hex signature is accepted "during the deprecation window", whose end is
# not documented. Operators can turn it off with the `legacy_signatures=false` option.
LEGACY_SIGNATURES_ACCEPTED = True

# §3.5 "422 has field-level validation (shape not captured)". We read the FastAPI shape
# (`detail: [{"loc": [...], "msg": ...}]`, the `{error, detail, status_code}` envelope suggests
# FastAPI) and a `{"errors"|"fields": {name: message}}` map, plus a single `field` key.
FIELD_ERROR_KEYS: tuple[str, ...] = ("errors", "fields")
FIELD_ERROR_LOC_ROOTS: frozenset[str] = frozenset({"body", "query", "path"})

# §3.5 `X-RateLimit-Reset` is named but its unit is not: values this large are unix seconds,
# smaller ones are seconds to wait.
RATE_LIMIT_RESET_UNIX_THRESHOLD = 1_000_000_000
# §3.5 the documented 429 text: "Rate limit exceeded. Retry after 12 seconds."
RETRY_AFTER_IN_MESSAGE = re.compile(r"retry after (\d+) seconds?", re.IGNORECASE)

# §3.5 rate limits per plan: 300 / 600 / 1,000 / 1,000 req/min. We assume the lowest plan and
# let polling use half of it (session + result reads count one each), leaving the rest for
# creates, refreshes and actions.
LOWEST_PLAN_REQUESTS_PER_MINUTE = 300
POLL_BUDGET_SHARE = 0.5
POLL_POLICY = PollPolicy(
    interval_s=30.0,
    max_interval_s=600.0,
    requests_per_minute=LOWEST_PLAN_REQUESTS_PER_MINUTE * POLL_BUDGET_SHARE,
)

# §3.5: the lowest plan allows 300 req/min: stay at 80 % of it.
RATE_LIMIT_PER_MINUTE = 240.0
