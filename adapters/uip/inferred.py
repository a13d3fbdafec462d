"""Every UIP fact the adapter relies on that UIP's public pages leave open, or that is our
reading of an ambiguity (docs/vendors/uip.md, Documented vs inferred). One named constant each,
so a correction found against the real API is a one-line change here.
"""

from __future__ import annotations

import re

from adapters.base import DocumentType, PollPolicy, SessionStatus
from adapters.results import REASON_CODES, UNKNOWN_REASON

# Base URL `https://api.uip.digital/v1` (docs.uip.digital api-reference/introduction). The
# version prefix is kept on each path and dropped from the base when the configured base
# already ends with it, so the sandbox (served at its root) sees the same `/v1/...` paths as
# the real API. The split is ours.
DEFAULT_BASE_URL = "https://api.uip.digital/v1"
API_PREFIX = "/v1"

# Create: each step has an "optional gate"; its value is never shown. Read as a boolean on
# the step, `"gate": true` = pause in `awaiting_decision` after this step verifies. Sent only
# when set (the documented example steps have no `gate` key).
GATE_KEY = "gate"
GATE_ON_VALUE = True

# Primitives: light_sign takes "short inline terms text"; the parameter name is not shown.
LIGHT_SIGN_TEXT_PARAM = "text"

# A session with a sign step "is created as multipart/form-data" (api-reference/introduction),
# but no page shows the form. Our layout: every JSON field as a form field of the same name,
# these as JSON text, the others as plain text (`expires_in` in decimal), and each sign step's
# document as a file part named after its stage.
MULTIPART_JSON_FIELDS: tuple[str, ...] = ("steps", "metadata")
SIGN_FILE_PART = "files[{stage}]"

# Create: the success status is not stated (the example shows a body only). 201; 200 is
# tolerated (an idempotent replay of the same key).
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})

# "409 idempotency conflict" is documented. Our own retry (same key, same body) can only
# conflict with our earlier attempt still being processed, so a 409 on a *retry* is retried.
IDEMPOTENCY_CONFLICT_STATUSES: frozenset[int] = frozenset({409})
# The key's lifetime is not documented; a caller key is mapped to a UUID scoped to this
# vendor (adapters/common/idempotency.py), which fits any plausible length limit.
IDEMPOTENCY_SCOPE = "uip"

# Retrieve: Version A reports `current_step` as the *gated* step while paused (example:
# awaiting_decision, current_step 0, current_primitive identify, and stop answers stopped /
# current_step 0). Version B has current_step 1 in the same situation but lists the verified
# steps in `results`, which we then use instead. Without `results` (Version A), the step at
# `current_step` counts as verified while awaiting_decision / stopped.
GATED_STEP_IS_CURRENT_STEP = True

# Neither GET version carries the failure `reason` (only `session.failed` does). `failed` is
# "A step failed verification, or funds ran out" (core-concepts/sessions) and the person-facing
# case is the first: a read that says `failed` without a reason is DECLINED; the documented
# technical reasons (FAILED) arrive with the webhook, which then outranks the read.
FAILED_WITHOUT_REASON = SessionStatus.DECLINED
# Not documented: a `reason` on a read would be used like the webhook's.
READ_REASON_KEYS: tuple[str, ...] = ("reason",)

# No `session.awaiting_decision` event exists: a gate pause shows as the `step.completed` of a
# gated step, which does not say it was gated. If a delivery ever carries this key as a
# boolean it is used; otherwise the gateway is asked to read the session (refetch).
STEP_EVENT_GATE_KEY = "gate"

# Webhooks have no event time in the payload; `X-UIP-Timestamp` is when the delivery was
# signed (later than the event, and per attempt). Using it to order progress events would let
# a webhook outrank the read it triggers, so those snapshots carry no vendor time...
SIGNING_TIME_IS_EVENT_TIME = False
# ...except `session.failed`: "fired after the result is durable", so it is signed after the
# failure, and a failed session is terminal (nothing later to outrank). Its signing time
# orders it after a reason-less read of the same failure, which it refines.
FAILED_EVENT_TIME_IS_SIGNING_TIME = True

# "Reject stale timestamps to bound replay windows", with no number: 300 s, the
# `AdapterConfig.webhook_tolerance_s` default, which operators can change.
WEBHOOK_TOLERANCE_S = 300

# The v2 error body is not shown: parse tolerantly, `code` first, then `error` / `message`;
# the v1 shape (core-concepts/error-handling) is `{"error": "<text>", "code": "<area>/<name>"}`.
ERROR_CODE_KEYS: tuple[str, ...] = ("code", "error_code", "type")
ERROR_MESSAGE_KEYS: tuple[str, ...] = ("error", "message", "detail")
# A 400 on create names no field in any documented shape; the message is searched for our
# create field names (the documented causes are all about `steps[]`, the default).
CREATE_FIELD_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bsteps?\b|\bprimitives?\b|\bparams?\b|\bgate\b", re.I), "steps"),
    (re.compile(r"\bmetadata\b", re.I), "metadata"),
    (re.compile(r"\bexpires?_in\b", re.I), "expiresIn"),
    (re.compile(r"\breturn_url\b", re.I), "returnUrl"),
    (re.compile(r"\bclient_reference(_id)?\b", re.I), "clientReference"),
)

# `failed` reasons: "a verification error message" is free text. Only code-like reasons
# become decision reason codes; other text stays in the raw status and payload.
REASON_CODE = re.compile(r"[a-z][a-z0-9_.\-/]{0,63}", re.I)
# Our reason code for a verification failure whose reason is free text or unknown.
VERIFICATION_FAILED_CODE = "verification_failed"

# "Currently, no rate limits are enforced" (v1 error-handling page) and nothing for v2; the
# Version B Retrieve page says "use GET for one-off reconciliation, not as a polling loop".
# Expiry is only visible by GET (lazy) and the default TTL is ≤ 1 h (minimum 60 s), so polling
# is sparse: a first read after a minute, backing off to 15 minutes, with a small budget.
POLL_POLICY = PollPolicy(interval_s=60.0, max_interval_s=900.0, requests_per_minute=30.0)

# No published rate limit: a conservative assumption.
RATE_LIMIT_PER_MINUTE = 120.0

# -- results (docs/vendors/uip.md, Results) ---------------------------------------------------
# identify discloses blocks of the wallet's government credential, which today is "a US mobile
# driving licence" (what-is-uip); no result names the credential's type, so a disclosed
# credential is read as a driving licence.
CREDENTIAL_DOCUMENT_TYPE = DocumentType.DRIVERS_LICENSE.value
# identify's `country` block is the credential's *issuing* country (core-concepts/primitives):
# the document's country, never the person's nationality (which UIP does not disclose).
COUNTRY_BLOCK_IS_NATIONALITY = False
# `session.failed` names no step. Steps verify in order ("step.completed fires in step order"),
# so the step that failed is the one after the last verified step, when the step list is known;
# otherwise the failure is one check of its own, named after the event.
FAILED_STEP_IS_NEXT_UNVERIFIED = True
# `session.failed`'s `reason` is "a verification error message" with no published vocabulary.
# A reason spelled exactly as one of the gateway's normalized reason codes (docs/results.md,
# Reasons) is read as that code, as the decision already shows a code-like reason as its code;
# any other message is `other`, its text kept (scrubbed) as the provider reason.
FAILURE_REASONS_AS_CODES: frozenset[str] = REASON_CODES - {UNKNOWN_REASON}
