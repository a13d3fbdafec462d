"""uqudo's vocabulary and the session record of the sandbox emulator.

Written from uqudo's public pages (docs/vendors/uqudo.md, Sources), independently
of the adapter, so the emulator cannot drift into agreeing with a wrong adapter. uqudo has no
server-side session resource: what an integrator sees is the QR session, the websocket
milestones, the signed result (Info API / `jwsResult` webhook) and nothing else. Facts the docs
leave open are marked [INFERRED] where they are decided, each in this one place.
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from adapters.common.sandbox.control import SimulateAction as A
from adapters.common.sandbox.times import iso as iso
from adapters.common.sandbox.times import parse_iso as parse_iso

JSON = dict[str, Any]

#: The sandbox host the adapter talks to through `httpx.ASGITransport` (one host stands in for
#: uqudo's three: auth.uqudo.io, id.uqudo.io and idws.uqudo.io; docs/vendors/uqudo.md,
#: Endpoints we call).
SANDBOX_HOST = "http://uqudo.sandbox"

# -- auth (docs/vendors/uqudo.md, Endpoints we call) -----------------------------------------------
TOKEN_PATH = "/api/oauth/token"
#: Documented 1800 s (observed 1859 s; the documented value is served).
TOKEN_TTL_S = 1800
#: The scope observed on a real tenant token (docs/vendors/uqudo.md, Endpoints we call).
TOKEN_SCOPE = (
    "KYC_SCAN_API",
    "KYC_FACE_SEARCH_SDK",
    "KYC_FACE_FLOW",
    "KYC_INFO_SDK",
    "KYC_SCAN_SDK",
    "KYC_EVENT_SDK",
)

# -- paths (docs/vendors/uqudo.md, Endpoints we call) ----------------------------------------------
JWKS_PATH = "/api/.well-known/jwks.json"
SESSION_PATH = "/api/v1/session"
WS_PATH = "/ws/v1/session"
INFO_PATH = "/api/v1/info"

# -- the result (docs/vendors/uqudo.md, Webhooks and signature) ------------------------------------
#: Enrolment JWS: `exp - iat` observed 7200 s.
RESULT_TTL_S = 7200
#: The QR session's lifetime: "automatically deleted after 30 minutes after its creation"
#: (documented; docs/vendors/uqudo.md, Endpoints we call).
SESSION_TTL_S = 30 * 60
#: The websocket must authenticate (send `qrCodeText`) within this many seconds [INFERRED].
WS_AUTH_TIMEOUT_S = 30.0
#: Close codes [INFERRED: the docs name no error message, "socket close is the only documented
#: end besides INFO"]: refused authentication → 1008 (policy violation); INFO or expiry → 1000.
WS_CLOSE_UNAUTHORIZED = 1008
WS_CLOSE_NORMAL = 1000
WS_REASON_UNAUTHORIZED = "Unauthorized"
WS_REASON_DONE = "Session completed"
WS_REASON_EXPIRED = "Session expired"
WS_REASON_DELETED = "Session deleted"

# -- webhook (docs/vendors/uqudo.md, Webhooks and signature) ---------------------------------------
#: The portal's "API key / custom header" caller authentication; the sandbox uses the
#: `Authorization: Bearer <token>` form the docs give as an example.
WEBHOOK_AUTH_HEADER = "Authorization"
WEBHOOK_AUTH_SCHEME = "Bearer"
#: Documented (3P, "probable"): retried every 5 minutes for up to 2 hours. The sandbox uses the
#: gateway's `webhook_retry_delays_s`; this is the schedule a live tenant would follow.
DOCUMENTED_RETRY_DELAYS_S = (300.0,) * 24
#: No answer within this time is a failed attempt [INFERRED].
WEBHOOK_TIMEOUT_S = 10.0


class Milestone(enum.StrEnum):
    """The websocket `service` values (docs/vendors/uqudo.md, Endpoints we call), in the order
    they occur."""

    SCAN = "SCAN"
    READ = "READ"
    FACE = "FACE"
    BACKGROUND_CHECK = "BACKGROUND_CHECK"
    INFO = "INFO"


class Outcome(enum.StrEnum):
    """What the sandbox's checks produce (uqudo itself decides nothing: the integrator's policy
    does, from the JWS; docs/vendors/uqudo.md, Decision policy)."""

    APPROVE = "approve"  # every signal passes
    DECLINE = "decline"  # tampered document: face mismatch, tampering score, bad MRZ
    REVIEW = "review"  # a background-check hit (or borderline scores without one)
    #: uqudo's own documented example result, as published: `aud`, `jti` and its `data`
    #: (face match at level 2, no verification object, no `iss`/`iat`/`exp`).
    DOCUMENTED = "documented_example"


class Fault(enum.StrEnum):
    """The one result signal a `decline` / `review` with a `reason` makes fail, named after
    the uqudo result field it changes (docs/vendors/uqudo.md, Results): these names are the
    raw `reason` values the control endpoint accepts."""

    FACE = "face.match"  # face `match` false, `matchLevel` 1
    TAMPERING = "idPhotoTamperingDetection"  # score 86 (decline) or 55 (review)
    PRINT = "idPrintDetection"  # score 80
    SCREEN = "idScreenDetection"  # score 80
    MRZ = "mrzChecksum"  # a wrong final check digit (`valid` false, `mrzVerified` false)
    CHIP = "passiveAuthentication"  # `documentDataSignatureValid` false (reading enabled)
    BACKGROUND = "backgroundCheck"  # `match` true with an alert (background check enabled)


#: The sandbox's own translation of the gateway's normalized reason codes (docs/results.md,
#: Reasons) into the uqudo signal it fails; uqudo itself names no reasons. A decline's signal
#: is refused by a sensible integrator policy; a review's asks for a person.
DECLINE_REASONS: dict[str, Fault] = {
    "face_mismatch": Fault.FACE,
    "document_not_authentic": Fault.TAMPERING,
    "document_data_inconsistent": Fault.MRZ,
}
REVIEW_REASONS: dict[str, Fault] = {
    "aml_hit": Fault.BACKGROUND,
    "document_not_authentic": Fault.TAMPERING,
}
#: The raw values (uqudo field names) each outcome accepts besides the normalized codes.
DECLINE_FAULTS = frozenset(Fault) - {Fault.BACKGROUND}
REVIEW_FAULTS = frozenset({Fault.BACKGROUND, Fault.TAMPERING})


#: The person's steps, one milestone each (hosted page buttons and control actions).
STEP_ACTIONS: dict[A, Milestone] = {
    A.SCAN: Milestone.SCAN,
    A.READ: Milestone.READ,
    A.FACE: Milestone.FACE,
    A.BACKGROUND_CHECK: Milestone.BACKGROUND_CHECK,
}
#: Every action of the control endpoint `POST /sessions/{id}/simulate`.
CONTROL_ACTIONS = (A.OPEN, A.SUBMIT, *STEP_ACTIONS, *(A(o.value) for o in Outcome), A.EXPIRE)
#: Where a session was started: a QR session the integrator created (`POST /api/v1/session`),
#: or uqudo's mobile / web SDK (or its Hosted KYC page) outside the integrator's backend: no QR
#: session, no websocket; only its result at the Info API and the global `jwsResult` webhook
#: ("no matter how that session was started"; docs/vendors/uqudo.md, Sessions started by the
#: SDK).
ORIGIN_QR = "qr"
ORIGIN_SDK = "sdk"
#: The control path that emulates an SDK-started session (`POST /sdk-sessions/simulate`: a
#: `/simulate` path, so a keyed deployment needs `sandbox:control`), and the outcomes it takes.
SDK_SESSIONS_PATH = "/sdk-sessions/simulate"
SDK_ACTIONS = tuple(A(o.value) for o in Outcome)
#: Control actions other vendors have and uqudo does not: the SDK's USER_CANCEL and errors
#: never reach the backend in the QR flow (docs/vendors/uqudo.md, Status vocabulary and our
#: mapping), so there is nothing to emulate.
UNSUPPORTED_ACTIONS = frozenset({A.ABANDON, A.FAIL})


class Status(enum.StrEnum):
    """The sandbox's own view of a session (uqudo exposes no status; docs/vendors/uqudo.md,
    Status vocabulary and our mapping)."""

    CREATED = "created"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    EXPIRED = "expired"
    DELETED = "deleted"  # DELETE /api/v1/session/{qrCodeText} before a result


@dataclass(frozen=True)
class Plan:
    """What the QR session's `data` enables: only the services enabled in `data` occur
    (docs/vendors/uqudo.md, Endpoints we call)."""

    document_type: str = "PASSPORT"
    reading: bool = False
    face: bool = False
    background_check: bool = False
    face_minimum_match_level: int = 2
    user_identifier: str | None = None

    @property
    def milestones(self) -> tuple[Milestone, ...]:
        wanted = {
            Milestone.SCAN: True,
            Milestone.READ: self.reading,
            Milestone.FACE: self.face,
            Milestone.BACKGROUND_CHECK: self.background_check,
        }
        return tuple(m for m, on in wanted.items() if on)

    def has(self, fault: Fault) -> bool:
        """The signal exists in this session's result (its service is enabled in `data`)."""
        needs = {
            Fault.FACE: self.face,
            Fault.CHIP: self.reading,
            Fault.BACKGROUND: self.background_check,
        }
        return needs.get(fault, True)


class BadSessionData(ValueError):
    """`data` is not the Base64-encoded JSON object uqudo's QR reader app needs."""


def parse_session_data(data: str) -> Plan:
    """The plan of a QR session from its `data` (Base64 JSON; docs/vendors/uqudo.md, Endpoints
    we call)."""
    try:
        raw = base64.b64decode(data + "=" * (-len(data) % 4), altchars=b"-_", validate=False)
        decoded = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadSessionData("data must be Base64-encoded JSON") from None
    if not isinstance(decoded, dict):
        raise BadSessionData("data must encode a JSON object")
    documents = decoded.get("documents")
    first = documents[0] if isinstance(documents, list) and documents else {}
    if not isinstance(first, dict):
        raise BadSessionData("data.documents[] must hold objects")
    face_config = _section(decoded, "facialRecognition")
    general = _section(decoded, "generalConfig")
    reading = first.get("reading") if isinstance(first.get("reading"), dict) else {}
    level = face_config.get("scanMinimumMatchLevel", first.get("faceScanMinimumMatchLevel", 2))
    user = general.get("userIdentifier")
    return Plan(
        document_type=str(first.get("documentType") or "PASSPORT"),
        reading=reading.get("enabled") is True,
        face=face_config.get("enabled") is True,
        background_check=_section(decoded, "backgroundCheck").get("enabled") is True,
        face_minimum_match_level=level if isinstance(level, int) and 1 <= level <= 5 else 2,
        user_identifier=str(user) if user is not None else None,
    )


#: The SDK configuration an SDK-session control body may set, with the sandbox's defaults: the
#: documented enrolment example's passport with facial recognition (the reading off, like a QR
#: session's default `data`; no background check).
SDK_FLAGS = ("face", "reading", "background_check")


def sdk_plan(body: JSON) -> Plan:
    """What the SDK was configured with, from an SDK-session control body:
    `document_type` (a uqudo code), `face`, `reading`, `background_check` (booleans) and
    `user_identifier`; anything else is the default."""
    document_type = body.get("document_type", "PASSPORT")
    if not isinstance(document_type, str) or not document_type.strip():
        raise BadSessionData("document_type must be a uqudo documentType code")
    flags = {"face": True, "reading": False, "background_check": False}
    for name in SDK_FLAGS:
        value = body.get(name, flags[name])
        if not isinstance(value, bool):
            raise BadSessionData(f"{name} must be a boolean")
        flags[name] = value
    user = body.get("user_identifier")
    if user is not None and not isinstance(user, str):
        raise BadSessionData("user_identifier must be a string")
    return Plan(document_type=document_type, user_identifier=user, **flags)


def _section(decoded: JSON, name: str) -> JSON:
    value = decoded.get(name)
    return value if isinstance(value, dict) else {}


@dataclass
class UqudoSession:
    """One emulated QR session, as the sandbox stores and persists it."""

    id: str
    qr_code_text: str
    created_at: str
    expires_at: str
    plan: JSON
    milestones: list[str] = field(default_factory=list)
    #: The create request's `data` as sent, handed back by the scan to the reader app.
    data: str | None = None
    submitted: bool = False
    outcome: str | None = None
    #: The `reason` the outcome was asked with: the failing signal (`Fault`), if any.
    fault: str | None = None
    completed_at: str | None = None
    expired_at: str | None = None
    #: When the QR session was deleted (`DELETE /api/v1/session/{qrCodeText}`): from then on
    #: the qrCodeText opens nothing — no scan, no websocket, no step.
    deleted_at: str | None = None
    #: The Info API's JWS and the webhook's (which lacks `data.verifications`;
    #: docs/vendors/uqudo.md, Webhooks and signature), kept until DELETE /api/v1/info/{id} or
    #: the JWS `exp`.
    info_jws: str | None = None
    webhook_jws: str | None = None
    result_expires_at: str | None = None
    #: image id → name of the image (front, face, …), served by GET /api/v1/info/img/{id}.
    images: dict[str, str] = field(default_factory=dict)
    #: `ORIGIN_QR` or `ORIGIN_SDK` (an SDK session has no `qrCodeText`: nothing opens it).
    origin: str = ORIGIN_QR

    @property
    def plan_obj(self) -> Plan:
        return Plan(**self.plan)

    @property
    def planned(self) -> tuple[Milestone, ...]:
        return self.plan_obj.milestones

    @property
    def reached(self) -> tuple[Milestone, ...]:
        return tuple(Milestone(m) for m in self.milestones)

    @property
    def status(self) -> Status:
        if self.expired_at is not None:
            return Status.EXPIRED
        if self.outcome is not None:
            return Status.COMPLETED
        if self.deleted_at is not None:
            return Status.DELETED
        return Status.IN_PROGRESS if self.milestones else Status.CREATED

    @property
    def finished(self) -> bool:
        return self.status in (Status.COMPLETED, Status.EXPIRED, Status.DELETED)

    @property
    def qr_alive(self) -> bool:
        """The QR session still exists: neither deleted nor past its 30 minutes (an SDK
        session never had one)."""
        return self.origin == ORIGIN_QR and self.deleted_at is None and self.expired_at is None

    def next_planned(self) -> Milestone | None:
        remaining = [m for m in self.planned if m.value not in self.milestones]
        return remaining[0] if remaining else None

    def to_json(self) -> JSON:
        return asdict(self)

    @classmethod
    def from_json(cls, data: JSON) -> UqudoSession:
        return cls(**data)
