"""The uqudo emulator's behaviour, free of HTTP: tokens, QR sessions, milestones, results.

The HTTP layers (API, websocket, hosted page, control endpoint) all go through here, so a
change has one path: check the rule → apply → persist → tell the websocket listeners → (for a
result) queue the `jwsResult` webhook.

| action | websocket messages | result | webhook |
|---|---|---|---|
| open | `SCAN`, then `READ` (reading enabled) | — | — |
| submit | the remaining ones: `FACE` (face enabled), `BACKGROUND_CHECK` (enabled) | — | — |
| scan / read / face / background_check | that milestone, if it is the next one | — | — |
| approve / decline / review | `INFO`, then the socket closes | signed JWS | `jwsResult` |
| decline / review + `reason` | the same (only the reason's `Fault` fails) | signed JWS | ditto |
| documented_example | `INFO`, then the socket closes | uqudo's documented example | `jwsResult` |
| expire (or the TTL running out) | none; the socket closes | none (Info API 404) | — |
| SDK session: approve / decline / review / documented_example | none (no QR) | JWS | ditto |

`DELETE /api/v1/session/{qrCodeText}` (the integrator's call, not a control action) deletes
the QR session: the socket closes, a new one is refused, the scan answers 404, and every
action is refused (409).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import secrets
import uuid
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

import jwt

from adapters.base import SandboxConfig
from adapters.common.qr import qr_png_data_url
from adapters.common.sandbox.http import SandboxError
from adapters.common.sandbox.webhooks import NOT_SENT, DeliveryResult
from adapters.uqudo.sandbox.model import (
    CONTROL_ACTIONS,
    DECLINE_FAULTS,
    DECLINE_REASONS,
    ORIGIN_SDK,
    RESULT_TTL_S,
    REVIEW_FAULTS,
    REVIEW_REASONS,
    SDK_ACTIONS,
    SESSION_TTL_S,
    STEP_ACTIONS,
    UNSUPPORTED_ACTIONS,
    WS_CLOSE_NORMAL,
    WS_REASON_DELETED,
    WS_REASON_DONE,
    WS_REASON_EXPIRED,
    Fault,
    Milestone,
    Outcome,
    Plan,
    Status,
    UqudoSession,
    iso,
    parse_iso,
)
from adapters.uqudo.sandbox.payloads import (
    IMAGE_NAMES,
    documented_example_claims,
    documented_example_images,
    error_body,
    jpeg,
    oauth_error,
    result_claims,
    token_body,
    token_claims,
    webhook_claims,
)
from adapters.uqudo.sandbox.store import UqudoStore
from adapters.uqudo.sandbox.webhooks import UqudoWebhooks

JSON = dict[str, Any]
#: What a websocket listener gets: ("message", text) or ("close", code, reason).
Item = tuple[Any, ...]
#: Going away: the sandbox is shutting down.
WS_CLOSE_GOING_AWAY = 1001


def conflict(message: str) -> SandboxError:
    return SandboxError(409, error_body(409, message))


def control_actions_text() -> str:
    return ", ".join(CONTROL_ACTIONS)


#: Per outcome: (normalized code → fault, the raw fault names it takes).
REASONS: dict[str, tuple[dict[str, Fault], frozenset[Fault]]] = {
    Outcome.DECLINE: (DECLINE_REASONS, DECLINE_FAULTS),
    Outcome.REVIEW: (REVIEW_REASONS, REVIEW_FAULTS),
}


def fault_for(action: str, reason: Any) -> Fault | None:
    """The failing signal a `decline` / `review` `reason` names (a normalized code or a uqudo
    field name); 400 for one the sandbox cannot produce. Other actions ignore `reason`."""
    if reason is None or action not in REASONS:
        return None
    codes, faults = REASONS[action]
    if isinstance(reason, str):
        if reason in codes:
            return codes[reason]
        if reason in {f.value for f in faults}:
            return Fault(reason)
    accepted = ", ".join([*codes, *sorted(f.value for f in faults)])
    raise SandboxError(
        400,
        error_body(
            400,
            f"reason: the uqudo sandbox cannot produce {reason!r} for '{action}'; "
            f"it accepts {accepted}.",
        ),
    )


def milestone_message(session_id: str, milestone: str) -> str:
    """One websocket message, `{"service": "...", "sessionId": "..."}` (docs/vendors/uqudo.md,
    Endpoints we call)."""
    return json.dumps({"service": milestone, "sessionId": session_id}, separators=(",", ":"))


class UqudoEmulator:
    def __init__(
        self,
        config: SandboxConfig,
        *,
        client_secret: str,
        webhook_auth_value: str,
        issuer: str,
        webhook_verifications: bool = False,
    ) -> None:
        self.config = config
        self.base_url = config.public_base_url.rstrip("/")
        self.issuer = issuer
        self.client_secret = client_secret
        self.webhook_verifications = webhook_verifications
        self.store = UqudoStore(config.state_path)
        self.webhooks = UqudoWebhooks(config, webhook_auth_value)
        self._listeners: dict[str, set[asyncio.Queue[Item]]] = {}
        self._qr_cache: dict[str, str] = {}

    @property
    def client_id(self) -> str:
        return self.store.client_id

    def now(self) -> datetime:
        return self.config.clock()

    def sign(self, claims: JSON) -> str:
        return self.store.key.sign(claims)

    # -- OAuth (docs/vendors/uqudo.md, Endpoints we call) ------------------------------------------
    def issue_token(self, grant_type: str | None, client_id: str, client_secret: str) -> JSON:
        if not client_id or not client_secret:
            raise SandboxError(
                401,
                oauth_error("invalid_client", "Client authentication is required"),
                {"WWW-Authenticate": 'Basic realm="oauth"'},
            )
        good_id = hmac.compare_digest(client_id.encode(), self.client_id.encode())
        good_secret = hmac.compare_digest(client_secret.encode(), self.client_secret.encode())
        if not (good_id and good_secret):
            raise SandboxError(
                401,
                oauth_error("invalid_client", "Bad client credentials"),
                {"WWW-Authenticate": 'Basic realm="oauth"'},
            )
        if grant_type != "client_credentials":
            raise SandboxError(
                400,
                oauth_error(
                    "unsupported_grant_type",
                    f"Unsupported grant type: {grant_type or '(none)'}; use client_credentials",
                ),
            )
        jti = str(uuid.uuid4())
        return token_body(self.sign(token_claims(self.client_id, jti, self.now())), jti)

    def sdk_token(self) -> str:
        """An access token for the SDK the reader app starts (the scan hands one over)."""
        return self.sign(token_claims(self.client_id, str(uuid.uuid4()), self.now()))

    def check_bearer(self, authorization: str | None) -> None:
        """Every uqudo API takes `Authorization: Bearer <access_token>`; otherwise 401 with an
        empty body and the RFC 6750 challenge [INFERRED: uqudo documents no 401 body
        (docs/vendors/uqudo.md, Documented vs inferred); this is what a Spring Security
        resource server answers]."""
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise SandboxError(401, None, {"WWW-Authenticate": "Bearer"})
        invalid = SandboxError(
            401,
            None,
            {
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                'error_description="Token expired or invalid"'
            },
        )
        try:
            claims = self.store.key.verify(token.strip())
        except jwt.InvalidTokenError:
            raise invalid from None
        exp = claims.get("exp")
        if (
            claims.get("client_id") != self.client_id
            or not isinstance(exp, int)
            or exp <= self.now().timestamp()
        ):
            raise invalid

    # -- QR sessions (docs/vendors/uqudo.md, Endpoints we call) ------------------------------------
    def create(self, plan: Plan, data: str | None = None) -> UqudoSession:
        now = self.now()
        session = UqudoSession(
            id=str(uuid.uuid4()),
            qr_code_text=secrets.token_urlsafe(32),
            created_at=iso(now),
            expires_at=iso(now + timedelta(seconds=SESSION_TTL_S)),
            plan=asdict(plan),
            data=data,
        )
        self.store.add(session)
        return session

    async def sdk_session(
        self, plan: Plan, action: str, reason: Any = None
    ) -> tuple[UqudoSession, DeliveryResult]:
        """A session uqudo's mobile / web SDK (or its Hosted KYC page) ran outside the
        integrator's backend, finished at once: a new session id (UUID v4, as the SDK makes
        one), its result at the Info API and the same `jwsResult` webhook a QR session's
        result sends. There is no QR session, so no scan, socket or page opens it."""
        if action not in SDK_ACTIONS:
            raise SandboxError(
                400,
                error_body(
                    400,
                    f"An SDK session is sent finished: its action is one of "
                    f"{', '.join(SDK_ACTIONS)}, not {action!r}.",
                ),
            )
        fault = fault_for(action, reason)
        if fault is not None and not plan.has(fault):
            raise SandboxError(
                400, error_body(400, f"'{fault.value}' is not enabled in this SDK session.")
            )
        now = self.now()
        session = UqudoSession(
            id=str(uuid.uuid4()),
            qr_code_text="",
            created_at=iso(now),
            expires_at=iso(now + timedelta(seconds=SESSION_TTL_S)),
            plan=asdict(plan),
            milestones=[m.value for m in plan.milestones],
            submitted=True,
            origin=ORIGIN_SDK,
        )
        self.store.add(session)
        return session, await self._complete(session, Outcome(action), fault)

    def get(self, session_id: str) -> UqudoSession:
        session = self.store.get(session_id)
        if session is None:
            raise SandboxError(404, error_body(404, "Session not found"))
        return session

    def dynamic_link(self, session: UqudoSession) -> str:
        return f"{self.base_url}/qr/{session.id}"

    def qr_code(self, text: str) -> str:
        """A real QR code (PNG data URL); cached, encoding is not free."""
        if text not in self._qr_cache:
            if len(self._qr_cache) > 256:
                self._qr_cache.clear()
            self._qr_cache[text] = qr_png_data_url(text)
        return self._qr_cache[text]

    # -- time -----------------------------------------------------------------------------
    def sweep(self) -> None:
        """Lazily, on every request and while a socket waits: sessions whose TTL passed with
        no result expire; results past their JWS `exp` (and their images) are purged."""
        now = self.now()
        for session in self.store:
            if not session.finished and parse_iso(session.expires_at) <= now:
                self._expire(session, session.expires_at)
            elif (
                session.info_jws is not None
                and session.result_expires_at is not None
                and parse_iso(session.result_expires_at) <= now
            ):
                self._purge(session)

    # -- the websocket (docs/vendors/uqudo.md, Endpoints we call) ----------------------------------
    def subscribe(
        self, qr_code_text: str
    ) -> tuple[UqudoSession, list[str], asyncio.Queue[Item] | None] | None:
        """(session, messages already reached, live queue or None when finished), or None
        when no session has this `qrCodeText`. No await here: nothing slips in between the
        backlog and the queue."""
        self.sweep()
        session = self.store.by_qr_code_text(qr_code_text)
        if session is None or session.deleted_at is not None:
            return None  # unknown, or the QR session was deleted: the channel is refused
        backlog = [milestone_message(session.id, m) for m in session.milestones]
        if session.finished:
            return session, backlog, None
        queue: asyncio.Queue[Item] = asyncio.Queue()
        self._listeners.setdefault(session.id, set()).add(queue)
        return session, backlog, queue

    def unsubscribe(self, session_id: str, queue: asyncio.Queue[Item]) -> None:
        listeners = self._listeners.get(session_id)
        if listeners is not None:
            listeners.discard(queue)
            if not listeners:
                del self._listeners[session_id]

    def close_reason(self, session: UqudoSession) -> str:
        return WS_REASON_EXPIRED if session.status == Status.EXPIRED else WS_REASON_DONE

    # -- the QR session itself (scan-the-qr-code page) --------------------------------------
    def scan(self, qr_code_text: str) -> UqudoSession:
        """What the reader app gets for a scanned QR: 404 once deleted or past 30 minutes."""
        self.sweep()
        session = self.store.by_qr_code_text(qr_code_text)
        if session is None or not session.qr_alive:
            raise SandboxError(404, error_body(404, "Session not found"))
        return session

    def delete_qr(self, qr_code_text: str) -> None:
        """`DELETE /api/v1/session/{qrCodeText}`: the QR stops working at once (404 when it is
        already gone: deleted, or expired after its 30 minutes)."""
        session = self.scan(qr_code_text)
        session.deleted_at = iso(self.now())
        self.store.save()
        self._publish(session.id, ("close", WS_CLOSE_NORMAL, WS_REASON_DELETED))

    def _publish(self, session_id: str, item: Item) -> None:
        for queue in self._listeners.get(session_id, ()):
            queue.put_nowait(item)

    # -- the person's flow and uqudo's checks (hosted page, control endpoint) -------------
    def check_action(self, session: UqudoSession, action: str, fault: Fault | None = None) -> None:
        """400 for an action uqudo has no equivalent of, 409 for one not possible now (or a
        `reason` whose service this session's `data` does not enable)."""
        if action in UNSUPPORTED_ACTIONS or action not in CONTROL_ACTIONS:
            raise SandboxError(
                400,
                error_body(
                    400,
                    f"uqudo has no '{action}' action (a cancelled or failed SDK flow never "
                    "reaches the backend in the QR flow). Actions the uqudo sandbox supports: "
                    f"{control_actions_text()}.",
                ),
            )
        if session.status == Status.DELETED:
            raise conflict(
                f"The QR session was deleted: its QR code no longer works; '{action}' is not "
                "possible."
            )
        if session.finished:
            raise conflict(f"Session is {session.status}; '{action}' is not possible.")
        reached, planned = session.reached, session.planned
        if action == "open" and reached:
            raise conflict("Session is already open (the document was scanned).")
        if action == "submit" and (Milestone.SCAN not in reached or session.submitted):
            state = "already submitted" if session.submitted else "not open yet"
            raise conflict(f"Session is {state}; 'submit' is not possible.")
        if action in STEP_ACTIONS:
            milestone = STEP_ACTIONS[action]
            if milestone not in planned:
                raise conflict(f"'{action}' is not enabled in this session's data.")
            if milestone != session.next_planned():
                raise conflict(f"'{action}' is not the next step of this session.")
        if action in set(Outcome) and session.next_planned() is not None:
            raise conflict(
                f"The flow is not finished ({session.next_planned()} pending); "
                f"'{action}' is not possible yet."
            )
        if fault is not None and not session.plan_obj.has(fault):
            raise conflict(f"'{fault.value}' is not enabled in this session's data.")

    async def act(self, session: UqudoSession, action: str, reason: Any = None) -> DeliveryResult:
        """Apply a control action; `reason` picks the failing signal of a decline / review."""
        fault = fault_for(action, reason)
        self.check_action(session, action, fault)
        if action == "open":
            scan_phase = (Milestone.SCAN, Milestone.READ)
            self._reach(session, [m for m in scan_phase if m in session.planned])
        elif action == "submit":
            session.submitted = True
            self._reach(session, [m for m in session.planned if m not in session.reached])
        elif action in STEP_ACTIONS:
            self._reach(session, [STEP_ACTIONS[action]])
        elif action == "expire":
            self._expire(session, iso(self.now()))
        else:
            return await self._complete(session, Outcome(action), fault)
        return NOT_SENT

    def _reach(self, session: UqudoSession, milestones: list[Milestone]) -> None:
        session.milestones.extend(m.value for m in milestones)
        self.store.save()
        for milestone in milestones:
            self._publish(session.id, ("message", milestone_message(session.id, milestone)))

    async def _complete(
        self, session: UqudoSession, outcome: Outcome, fault: Fault | None = None
    ) -> DeliveryResult:
        now = self.now()
        if outcome == Outcome.DOCUMENTED:
            images = documented_example_images()
            claims = documented_example_claims(session, audience=self.client_id)
        else:
            images = {name: secrets.token_hex(12) for name in IMAGE_NAMES}
            claims = result_claims(
                session,
                outcome,
                issuer=self.issuer,
                audience=self.client_id,
                now=now,
                images=images,
                fault=fault,
            )
        session.info_jws = self.sign(claims)
        session.webhook_jws = (
            session.info_jws if self.webhook_verifications else self.sign(webhook_claims(claims))
        )
        session.outcome = outcome.value
        session.fault = fault.value if fault is not None else None
        session.completed_at = iso(now)
        # The documented example has no `exp`: it is kept as long as a signed result is.
        expires = claims.get("exp", now.timestamp() + RESULT_TTL_S)
        session.result_expires_at = iso(datetime.fromtimestamp(expires, now.tzinfo))
        session.images = {image_id: name for name, image_id in images.items()}
        session.milestones.append(Milestone.INFO.value)
        self.store.save()
        self._publish(session.id, ("message", milestone_message(session.id, Milestone.INFO)))
        self._publish(session.id, ("close", WS_CLOSE_NORMAL, WS_REASON_DONE))
        return await self.webhooks.send(session.id, session.webhook_jws)

    def _expire(self, session: UqudoSession, at: str) -> None:
        session.expired_at = at
        self.store.save()
        self._publish(session.id, ("close", WS_CLOSE_NORMAL, WS_REASON_EXPIRED))

    # -- the Info API (docs/vendors/uqudo.md, Endpoints we call) -----------------------------------
    def info(self, session_id: str) -> str | None:
        self.sweep()
        session = self.store.get(session_id)
        return session.info_jws if session is not None else None

    def delete_info(self, session_id: str) -> None:
        """Purge a session's result early; a no-op for ids without one (204 either way)."""
        session = self.store.get(session_id)
        if session is not None and (session.info_jws or session.images):
            self._purge(session)

    def image(self, image_id: str) -> bytes | None:
        self.sweep()
        session = self.store.by_image(image_id)
        return jpeg(image_id) if session is not None else None

    def _purge(self, session: UqudoSession) -> None:
        session.info_jws = None
        session.webhook_jws = None
        session.images = {}
        self.store.save()

    # -- lifecycle ------------------------------------------------------------------------
    async def idle(self) -> None:
        await self.webhooks.idle()

    async def aclose(self) -> None:
        for session_id in list(self._listeners):
            self._publish(session_id, ("close", WS_CLOSE_GOING_AWAY, "Sandbox shutting down"))
        await self.webhooks.aclose()
