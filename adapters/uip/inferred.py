"""Every UIP fact the adapter relies on that providers/uip.md marks [I] / [V~], leaves open, or
that is our reading of an ambiguity. One named constant each, so a correction found against
the real API is a one-line change here.
"""

from __future__ import annotations

import re

from adapters.base import PollPolicy, SessionStatus

# §1.1 Base URL `https://api.uip.digital/v1` [V]. The version prefix is kept on each path and
# dropped from the base when the configured base already ends with it, so the sandbox (served
# at its root) sees the same `/v1/...` paths as the real API. The split is ours.
DEFAULT_BASE_URL = "https://api.uip.digital/v1"
API_PREFIX = "/v1"

# §1.2 Create: "optional `gate`" [V~]; its value is never shown. [I] a boolean on the step,
# `"gate": true` = pause in `awaiting_decision` after this step verifies. Sent only when set
# (the documented example steps have no `gate` key).
GATE_KEY = "gate"
GATE_ON_VALUE = True

# §1.2 Primitives: `light_sign` takes "short inline terms text"; the name is not found. [I]
LIGHT_SIGN_TEXT_PARAM = "text"

# §1.2 Create: the success status is not stated (the example shows a body only). [I] 201;
# 200 is tolerated (an idempotent replay of the same key).
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})

# §1.5 "Idempotency-Key … conflict → 409" [V]. Our own retry (same key, same body) can only
# conflict with our earlier attempt still being processed, so a 409 on a *retry* is retried.
IDEMPOTENCY_CONFLICT_STATUSES: frozenset[int] = frozenset({409})
# §1.5 The key's lifetime is not documented; a caller key is mapped to a UUID scoped to this
# vendor (adapters/common/idempotency.py), which fits any plausible length limit.
IDEMPOTENCY_SCOPE = "uip"

# §1.2 Retrieve: Version A reports `current_step` as the *gated* step while paused (example:
# awaiting_decision, current_step 0, current_primitive identify, and stop answers stopped /
# current_step 0). Version B has current_step 1 in the same situation but lists the verified
# steps in `results`, which we then use instead. Without `results` (Version A), the step at
# `current_step` counts as verified while awaiting_decision / stopped.
GATED_STEP_IS_CURRENT_STEP = True

# §1.2 Retrieve: neither GET version carries the failure `reason` (only `session.failed` does).
# A read that says `failed` without one is a technical failure for us (FAILED, not DECLINED):
# we do not tell an integrator the person failed on a guess. The webhook brings the reason.
FAILED_WITHOUT_REASON = SessionStatus.FAILED
# Not documented: a `reason` on a read would be used like the webhook's.
READ_REASON_KEYS: tuple[str, ...] = ("reason",)

# §1.4 "No `session.awaiting_decision` event" [I]: a gate pause shows as the `step.completed`
# of a gated step, which does not say it was gated. If a delivery ever carries this key as a
# boolean it is used; otherwise the gateway is asked to read the session (refetch).
STEP_EVENT_GATE_KEY = "gate"

# §1.4 Webhooks have no event time in the payload; `X-UIP-Timestamp` is when the delivery was
# signed (later than the event, and per attempt). Using it to order events would let a webhook
# outrank the read it triggers, so webhook snapshots carry no vendor time.
SIGNING_TIME_IS_EVENT_TIME = False

# §1.4 Timestamp tolerance: "reject stale timestamps" with no number [I] 300 s — the
# `AdapterConfig.webhook_tolerance_s` default, which operators can change.
WEBHOOK_TOLERANCE_S = 300

# §1.5 The v2 error body was not available [I]: parse tolerantly, `code` first, then
# `error` / `message`; the v1 shape is `{"error": "<text>", "code": "<area>/<name>"}`.
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

# §1.3 `failed` reasons: "a verification error message" is free text. Only code-like reasons
# become decision reason codes; other text stays in the raw status and payload.
REASON_CODE = re.compile(r"[a-z][a-z0-9_.\-/]{0,63}", re.I)
# Our reason code for a verification failure whose reason is free text.
VERIFICATION_FAILED_CODE = "verification_failed"

# §1.5 "no rate limits are enforced" (v1) and nothing for v2; the Retrieve page (Version B)
# says "use GET for one-off reconciliation, not as a polling loop". Expiry is only visible by
# GET (§1.3, lazy) and the default TTL is ≤ 1 h (minimum 60 s), so polling is sparse: a first
# read after a minute, backing off to 15 minutes, with a small request budget.
POLL_POLICY = PollPolicy(interval_s=60.0, max_interval_s=900.0, requests_per_minute=30.0)

# No published rate limit [NOT FOUND]: a conservative assumption.
RATE_LIMIT_PER_MINUTE = 120.0
