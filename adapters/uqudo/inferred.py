"""Every uqudo fact the adapter relies on that uqudo's public pages do not settle, or that is
our reading of an ambiguity — plus the hosts and the documented values kept next to them, so
a correction found against a real tenant is a one-line change here. Each constant is listed
in docs/vendors/uqudo.md (Documented vs inferred), which says which are documented.
"""

from __future__ import annotations

import re

from adapters.base import DocumentType, PollPolicy

# -- hosts and paths (docs/vendors/uqudo.md, Endpoints we call) --------------------------------
# Documented default API host; the portal lists a per-tenant one, so `api_base_url` (or the
# gateway's base URL setting) overrides it.
API_BASE_URL = "https://id.uqudo.io"
# Documented: the QR-code flow's REST host (create, scan, delete a QR session).
QR_BASE_URL = "https://idws.uqudo.io"
# Documented: the QR-code flow's websocket.
WS_URL = "wss://idws.uqudo.io/ws/v1/session"
# Documented: the token endpoint.
AUTH_URL = "https://auth.uqudo.io/api/oauth/token"
# Documented: the public JWKS.
JWKS_URL = "https://id.uqudo.io/api/.well-known/jwks.json"

SESSION_PATH = "/api/v1/session"  # on the QR host: POST; DELETE {SESSION_PATH}/{qrCodeText}
INFO_PATH = "/api/v1/info"  # on the API host: GET / DELETE {INFO_PATH}/{sessionId}

#: Option names that override the URLs above (in sandbox mode the gateway passes the
#: emulator's options; the websocket URL is then the gateway's own public URL).
URL_OPTIONS = ("api_base_url", "qr_base_url", "ws_url", "jwks_url", "auth_url")

# -- OAuth (docs/vendors/uqudo.md, Endpoints we call) ------------------------------------------
# Documented `expires_in` 1800: used when a token answer omits it.
DEFAULT_TOKEN_TTL_S = 1800
# Refresh this long before `expires_in` runs out, so no call goes out with a token that
# expires in flight (our choice).
TOKEN_REFRESH_MARGIN_S = 60
# `token_type: "bearer"` is documented lower-case; compared case-insensitively (RFC 6749).
TOKEN_TYPE = "bearer"

# -- the JWS result (docs/vendors/uqudo.md, Webhooks and signature) ----------------------------
# Expected `iss` when a result carries one (seen on a real tenant, never in uqudo's docs);
# options `jws_issuer` / `jws_audience` override it and the audience.
JWS_ISSUER = "https://id.uqudo.io"
# Documented header {"kid", "alg": "RS256"}: RS256 only.
JWS_ALGORITHMS: tuple[str, ...] = ("RS256",)
# Leeway on `iat` (not in the future) and `exp`, when present (our choice).
CLOCK_SKEW_S = 60
# Claims every result must carry. uqudo's own example payload shows only `aud` and `data`;
# its pages name `jti` as the session id ("the value of the jti property of the JWS"). So
# `aud` and `jti` are required, and nothing else is.
REQUIRED_CLAIMS: tuple[str, ...] = ("aud", "jti")
# Claims checked only when a result carries them (absent from the documented example, so a
# result without them is not refused): `iss` must be JWS_ISSUER, `exp` not passed, `iat` and
# `nbf` not in the future.
CHECKED_IF_PRESENT: tuple[str, ...] = ("iss", "exp", "iat", "nbf")
# Our floor for an RSA signing key (NIST SP 800-131A); uqudo's key size is not documented.
MIN_RSA_KEY_BITS = 2048
# Documented "caches the list of keys in memory and refresh the cache only if the kid is not
# found": keys are kept this long (a rotated-out key eventually goes) …
JWKS_CACHE_TTL_S = 12 * 3600
JWKS_CACHE_MAX_KEYS = 32
# … and an unknown `kid` triggers at most one JWKS read per this interval (our guard: a
# stream of forged kids must not turn into a stream of JWKS reads).
JWKS_REFETCH_MIN_INTERVAL_S = 10
# A *different* token with a seen jti is refused; the same token again is a redelivery (the
# gateway dedupes on the jti). Kept for a result's lifetime as seen on a real tenant
# (`exp - iat` = 7200 s) plus the skew.
SEEN_JTI_TTL_S = 7200 + 2 * CLOCK_SKEW_S
SEEN_JTI_MAX = 100_000

# -- the QR session (docs/vendors/uqudo.md, Endpoints we call) ---------------------------------
# Documented: session ids are UUIDs (the Info API's `sessionId` pattern). An id of any other
# form that uqudo does not know is reported NOT_FOUND; a UUID without a result is "no result
# yet".
SESSION_ID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)
# An id of another form is refused by the Info API (documented 400 "invalid format") or
# unknown (404); either way it is NOT_FOUND to us.
NOT_A_SESSION_ID_STATUSES: frozenset[int] = frozenset({400, 404})
# The create answer's HTTP status is not documented; 200 and 201 are both success.
CREATE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 201})
# Documented 204 "No Content" for the Info delete; 200 tolerated.
DELETE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 204})
# Documented 204 for `DELETE /api/v1/session/{qrCodeText}`; 200 tolerated.
QR_DELETE_SUCCESS_STATUSES: frozenset[int] = frozenset({200, 204})
# What uqudo answers for a QR session that is already gone (deleted, or past its 30 minutes)
# is not documented: a 404 is assumed and counts as done — the QR code is dead either way.
QR_ALREADY_GONE_STATUSES: frozenset[int] = frozenset({404})
# The Info API documents 200 (the JWS), 400, 401, 403 and 500 — no "no result yet" answer.
# The image endpoint documents 404 "Resource not found or expired", which we assume for a
# result that is not there (yet); any other answer is an error.
INFO_NOT_READY_STATUSES: frozenset[int] = frozenset({404})
# Documented: "The session information related to the qrCodeText gets automatically deleted
# after 30 minutes after its creation": the QR session's lifetime, and our `expires_at` …
SESSION_TTL_S = 30 * 60
# … and how long after it a result may still show up before we call the session EXPIRED
# (a person finishing at minute 29 still uploads; our margin).
RESULT_GRACE_S = 10 * 60
# How long this process remembers a session it created (its qrCodeText, creation time and
# last websocket milestone): well beyond TTL + grace, bounded in size.
LOCAL_SESSION_MEMORY_S = 24 * 3600
LOCAL_SESSION_MAX = 50_000
# Documented `qrCodeTextWithDynamicLink`: "use for the QR when using uqudo's reader app" —
# our `data` is the reader app's Base64 JSON, so the QR (and the link) carry the dynamic
# link; `qrCodeText` only authenticates the websocket (and names the QR session to delete).
QR_ENCODES_DYNAMIC_LINK = True
# `generalConfig.userIdentifier` is the only per-person field of `data`; the SDK types it as
# a UUID (`setUserIdentifier`), so a client reference is sent there only when it is one
# (anything else stays with the gateway).
USER_IDENTIFIER_MUST_BE_UUID = True
# The documented example `data`'s values, used when neither the request nor the settings
# say otherwise.
DEFAULT_DOCUMENT_TYPES: tuple[str, ...] = ("PASSPORT",)
FACE_MAX_ATTEMPTS = 3
BACKGROUND_CHECK_TYPE = "RDC"
# Normalized document type → uqudo `documentType`. uqudo's codes are mostly per country
# (`UAE_ID`, …; the documented example shows only PASSPORT); other types go through
# providerOptions.
DOCUMENT_TYPES: dict[DocumentType, str] = {DocumentType.PASSPORT: "PASSPORT"}
# A uqudo documentType code (upper case, digits, underscores: `UAE_ID`, `NGA_DL`).
DOCUMENT_TYPE_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")

# -- the websocket (docs/vendors/uqudo.md, Endpoints we call) ----------------------------------
# Documented "socket.send(qrCodeText)" authenticates the channel; messages {"service",
# "sessionId"}. The limits are ours.
WS_OPEN_TIMEOUT_S = 10.0
WS_MAX_MESSAGE_BYTES = 64 * 1024
# After `INFO` the SDK has fetched the JWS, so the Info API should have it; if it does not
# yet, we read again after these pauses, then leave it to the reconciler.
INFO_RETRY_DELAYS_S: tuple[float, ...] = (1.0, 2.0, 4.0)

# -- webhooks (docs/vendors/uqudo.md, Webhooks and signature) ----------------------------------
# Documented "API key / custom header" caller authentication: the header checked when only a
# value (or the gateway's webhook secret) is configured.
DEFAULT_WEBHOOK_AUTH_HEADER = "x-api-key"
# Seen on a real tenant, not documented: webhook results carry no fraud-detection scores, so
# a verified webhook result without `data.verifications` is PROCESSING and the gateway reads
# the Info API at once, instead of the policy judging a partial result.
WEBHOOK_WITHOUT_VERIFICATIONS_REFETCHES = True
# The envelope `{"jwsResult": …}` is all uqudo documents; keys it may add later are ignored
# (never stored, never read): only the verified JWS counts.
WEBHOOK_EXTRA_KEYS_ALLOWED = True

# -- background check (docs/vendors/uqudo.md, Decision policy) ---------------------------------
# The object's shape is not documented beyond "match"; a true value under this key is a hit.
BACKGROUND_CHECK_HIT_KEY = "match"

# -- errors and limits (docs/vendors/uqudo.md, Documented vs inferred) -------------------------
# No rate limit is published: a 429 without Retry-After waits this long.
DEFAULT_RETRY_AFTER_S = 30
# Polling reads the Info API (one call per session per poll). No limit is published; this
# stays well under any plausible one, and sessions live 30 minutes (so no long back-off).
POLL_POLICY = PollPolicy(interval_s=30.0, max_interval_s=300.0, requests_per_minute=60.0)

# No published rate limit: a conservative assumption.
RATE_LIMIT_PER_MINUTE = 120.0

# -- results (docs/vendors/uqudo.md, Results) ---------------------------------------------------
# uqudo's `documentType` codes are per country (`UAE_ID`, `NGA_DL`, …; the Scan API's document
# pages); the normalized type is read from the code's last part. Inferred from the code names:
# uqudo publishes no such table. Anything else is OTHER.
DOCUMENT_TYPE_SUFFIXES: tuple[tuple[str, DocumentType], ...] = (
    ("PASSPORT", DocumentType.PASSPORT),
    ("ID", DocumentType.ID_CARD),
    ("DL", DocumentType.DRIVERS_LICENSE),
    ("RP", DocumentType.RESIDENCE_PERMIT),
    ("RESIDENCE", DocumentType.RESIDENCE_PERMIT),
    ("VISA", DocumentType.VISA),
)
# The MRZ writes years with two digits (`YYMMDD`, documented "As per the MRZ"). A birth or
# issue date is taken in the latest century that is not after the result's day; an expiry
# year below this pivot is 20YY, else 19YY (inferred: ICAO leaves the century open).
MRZ_EXPIRY_PIVOT = 70
# Documented on the passports page: "The german passport uses the single letter D" for
# nationality and issuer; read as ISO 3166-1 alpha-3 DEU.
MRZ_COUNTRY_ALIASES: dict[str, str] = {"D": "DEU"}
