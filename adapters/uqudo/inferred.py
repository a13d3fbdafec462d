"""Every uqudo fact the adapter relies on that providers/uqudo.md (PART B) marks [INFERRED],
[OBSERVED-3P] or [NOT FOUND], or that is our reading of an ambiguity — plus the hosts, which
are [DOC] but per-tenant in practice. One named constant each, so a correction found against
a real tenant is a one-line change here.
"""

from __future__ import annotations

import re

from adapters.base import DocumentType, PollPolicy

# -- hosts and paths (§B1, §B2) -------------------------------------------------------------
# §B1 "API base `https://id.uqudo.io` (docs say API host is portal-supplied per tenant)":
# the default; `api_base_url` (or the gateway's base URL setting) overrides it.
API_BASE_URL = "https://id.uqudo.io"
# §B2.1 the QR-code flow's REST host.
QR_BASE_URL = "https://idws.uqudo.io"
# §B2.2 the QR-code flow's websocket.
WS_URL = "wss://idws.uqudo.io/ws/v1/session"
# §B1 token endpoint [DOC authorisation page].
AUTH_URL = "https://auth.uqudo.io/api/oauth/token"
# §B1 public JWKS [DOC validation-and-parsing].
JWKS_URL = "https://id.uqudo.io/api/.well-known/jwks.json"

SESSION_PATH = "/api/v1/session"  # §B2.1, on the QR host
INFO_PATH = "/api/v1/info"  # §B2.3, on the API host: GET / DELETE {INFO_PATH}/{sessionId}

#: Option names that override the URLs above (in sandbox mode the gateway passes the
#: emulator's options; the websocket URL is then the gateway's own public URL).
URL_OPTIONS = ("api_base_url", "qr_base_url", "ws_url", "jwks_url", "auth_url")

# -- OAuth (§B1) ----------------------------------------------------------------------------
# "expires_in (documented 1800; observed 1859)": used when a token answer omits it.
DEFAULT_TOKEN_TTL_S = 1800
# Refresh this long before `expires_in` runs out, so no call goes out with a token that
# expires in flight (our choice).
TOKEN_REFRESH_MARGIN_S = 60
# `token_type: "bearer"` is documented lower-case; compared case-insensitively (RFC 6749).
TOKEN_TYPE = "bearer"

# -- the JWS result (§B4.2, §B4.3) ------------------------------------------------------------
# "`iss` observed `https://id.uqudo.io`; `aud` = your client_id" [OBSERVED-3P]; options
# `jws_issuer` / `jws_audience` override them.
JWS_ISSUER = "https://id.uqudo.io"
# "Verify RS256 only (reject none/HS*)" — the doc's header is {"kid", "alg": "RS256"}.
JWS_ALGORITHMS: tuple[str, ...] = ("RS256",)
# "`iat` not in the future (±60 s skew)"; the same leeway is granted on `exp`.
CLOCK_SKEW_S = 60
# Claims every result must carry (§B4.2 enrolment payload top level).
REQUIRED_CLAIMS: tuple[str, ...] = ("iss", "aud", "iat", "exp", "jti")
# Our floor for an RSA signing key (NIST SP 800-131A); uqudo's key size is not documented.
MIN_RSA_KEY_BITS = 2048
# "caches the list of keys in memory and refresh the cache only if the kid is not found":
# keys are kept this long (a rotated-out key eventually goes) …
JWKS_CACHE_TTL_S = 12 * 3600
JWKS_CACHE_MAX_KEYS = 32
# … and an unknown `kid` triggers at most one JWKS read per this interval (our guard: a
# stream of forged kids must not turn into a stream of JWKS reads).
JWKS_REFETCH_MIN_INTERVAL_S = 10
# §B4.3 step 5 "reject a jti already accepted" — a *different* token with a seen jti is
# refused; the same token again is a redelivery (the gateway dedupes on the jti). Kept for
# the JWS lifetime ("enrolment JWS exp - iat = 7200 s" [OBSERVED-3P]) plus the skew.
SEEN_JTI_TTL_S = 7200 + 2 * CLOCK_SKEW_S
SEEN_JTI_MAX = 100_000

# -- the QR session (§B2.1, §B2.3) ------------------------------------------------------------
# Session ids are UUIDs ("sessionId UUID pattern" on the Info API). An id of any other form
# that uqudo does not know is reported NOT_FOUND; a UUID without a result is "no result yet".
SESSION_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# An id of another form is refused by the Info API ("sessionId UUID pattern": a 400 is
# likely) or unknown (404); either way it is NOT_FOUND to us.
NOT_A_SESSION_ID_STATUSES: frozenset[int] = frozenset({400, 404})
# §B2.1 the create answer's HTTP status is [NOT FOUND]; 200 and 201 are both success.
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})
# §B2.3 "Returns 204 for any UUID"; 200 tolerated.
DELETE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 204})
# §B2.3 the Info API's answer before a result exists is not documented; the image endpoint
# documents 404 "Resource not found or expired", which we assume for the result too.
INFO_NOT_READY_STATUSES: frozenset[int] = frozenset({404})
# Info API swagger "Images are kept only for the duration of the session, 30 minutes": the
# QR session's lifetime (no other TTL is documented) …
SESSION_TTL_S = 30 * 60
# … and how long after it a result may still show up before we call the session EXPIRED
# (a person finishing at minute 29 still uploads; our margin).
RESULT_GRACE_S = 10 * 60
# How long this process remembers a session it created (its qrCodeText, creation time and
# last websocket milestone): well beyond TTL + grace, bounded in size.
LOCAL_SESSION_MEMORY_S = 24 * 3600
LOCAL_SESSION_MAX = 50_000
# §B2.1 `qrCodeTextWithDynamicLink`: "use for the QR when using uqudo's reader app" — our
# `data` is the reader app's Base64 JSON, so the QR (and the link) carry the dynamic link;
# `qrCodeText` only authenticates the websocket.
QR_ENCODES_DYNAMIC_LINK = True
# §B2.1 `generalConfig.userIdentifier` is the only per-person field of `data`; the SDK types
# it as a UUID (`setUserIdentifier`), so a client reference is sent there only when it is one
# (anything else stays with the gateway).
USER_IDENTIFIER_MUST_BE_UUID = True
# §B2.1 example `data` values, used when neither the request nor the settings say otherwise.
DEFAULT_DOCUMENT_TYPES: tuple[str, ...] = ("PASSPORT",)
FACE_MAX_ATTEMPTS = 3
BACKGROUND_CHECK_TYPE = "RDC"
# Normalized document type → uqudo `documentType`. uqudo's codes are mostly per country
# (`UAE_ID`, …; §B2.1 shows only PASSPORT); other types go through providerOptions.
DOCUMENT_TYPES: dict[DocumentType, str] = {DocumentType.PASSPORT: "PASSPORT"}
# A uqudo documentType code (upper case, digits, underscores: `UAE_ID`, `NGA_DL`).
DOCUMENT_TYPE_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")

# -- the websocket (§B2.2) --------------------------------------------------------------------
# "socket.send(qrCodeText) authenticates the channel"; messages {"service", "sessionId"}.
WS_OPEN_TIMEOUT_S = 10.0
WS_MAX_MESSAGE_BYTES = 64 * 1024
# After `INFO` the SDK has fetched the JWS, so the Info API should have it; if it does not
# yet, we read again after these pauses, then leave it to the reconciler.
INFO_RETRY_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0)

# -- webhooks (§B4.1) ---------------------------------------------------------------------------
# "API key-custom header (e.g. `x-api-key: <secret>`)": the header checked when only a value
# (or the gateway's webhook secret) is configured.
DEFAULT_WEBHOOK_AUTH_HEADER = "x-api-key"
# "Observed: webhook JWTs contain no fraud-detection scores … the relay enriches by calling
# the Info API": a verified webhook result without `data.verifications` is PROCESSING and
# the gateway reads the Info API at once, instead of the policy judging a partial result.
WEBHOOK_WITHOUT_VERIFICATIONS_REFETCHES = True
# The body is `{"jwsResult": …}` and nothing else is signed: other keys are refused, so no
# unsigned content rides along into storage.
WEBHOOK_EXTRA_KEYS_ALLOWED = False

# -- background check (§B3.3 "data.backgroundCheck match → review") -----------------------------
# The object's shape is not documented beyond "match"; a true value under this key is a hit.
BACKGROUND_CHECK_HIT_KEY = "match"

# -- errors and limits (§B5) ------------------------------------------------------------------
# "Rate limits / 429 / quotas: none published": a 429 without Retry-After waits this long.
DEFAULT_RETRY_AFTER_S = 30
# Polling reads the Info API (one call per session per poll). No limit is published; this
# stays well under any plausible one, and sessions live 30 minutes (so no long back-off).
POLL_POLICY = PollPolicy(interval_s=30.0, max_interval_s=300.0, requests_per_minute=60.0)

# No published rate limit [NOT FOUND]: a conservative assumption.
RATE_LIMIT_PER_MINUTE = 120.0
