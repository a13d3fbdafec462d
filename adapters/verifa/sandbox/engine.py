"""The Verifa emulator's behaviour, free of HTTP: sessions, status rules, webhooks.

The HTTP layers (API, hosted page, control endpoint) all go through here, so a status change
has one path (`_apply`): check the rule → apply → persist → queue the signed webhook, if
Verifa documents one for that change.

Which changes fire which event (docs/vendors/verifa.md, Webhooks and signature):

| change | event |
|---|---|
| create | `session.created` (queued, not awaited: the caller does not know the id yet) |
| pending → capturing | `session.started` |
| → awaiting_external | `session.awaiting_external` |
| → under_review (result `needs_review`) | `session.requires-review` |
| → completed + result approved / rejected | `session.approved` / `session.declined` |
| → pending for a resubmission | `session.resubmission-required` |
| → expired (API, control, or the capture token running out) | `session.expired` |
| one-time link | `session.link_generated` |
| redact | `session.redacted` |
| capturing → processing, → sandbox_pending / failed | none (not found) |
| resume, reprocess (→ processing), external `continue`, metadata update | none |
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from adapters.base import SandboxConfig
from adapters.common.qr import qr_png_data_url
from adapters.common.sandbox.control import SimulateAction as A
from adapters.common.sandbox.http import SandboxError
from adapters.common.sandbox.webhooks import NOT_SENT, DeliveryResult
from adapters.verifa.sandbox.model import (
    API_SIMULATE_ACTIONS,
    CAPTURE_STATUSES,
    CAPTURE_TOKEN_TTL_S,
    CAPTURED_DOCUMENTS,
    CASE_ACTIVE,
    CASE_REJECTION_REASON,
    CONTROL_ACTIONS,
    DECISION_EVENTS,
    DEFAULT_WORKFLOW_ID,
    EXPIRABLE,
    EXTERNAL_REJECTION_REASON,
    GATE_ON_FAIL,
    LINKABLE,
    REPROCESSABLE,
    RESUMABLE,
    SANDBOX_DOCUMENT_TYPE,
    UNSUPPORTED_ACTIONS,
    Event,
    Move,
    ResultStatus,
    Retention,
    SandboxSession,
    Status,
    iso,
    parse_iso,
)
from adapters.verifa.sandbox.outcomes import ReasonRefused, decline_code, review_signal
from adapters.verifa.sandbox.payloads import build_result, error_body, redact_result
from adapters.verifa.sandbox.store import VerifaStore
from adapters.verifa.sandbox.webhooks import VerifaWebhooks, WebhookSettings

JSON = dict[str, Any]


def _control_reason(action: str, reason: Any) -> str | None:
    """The control body's `reason` as what the checks find: Verifa's rejection code for a
    decline, the fraud signal for a review (refused with 400 when the sandbox cannot)."""
    try:
        if action == A.DECLINE:
            return decline_code(reason)
        if action == A.REVIEW:
            return review_signal(reason)
    except ReasonRefused as refused:
        raise SandboxError(400, error_body(400, "invalid_request", str(refused))) from None
    return reason


def conflict(detail: str) -> SandboxError:
    """409, the reference's status for a state conflict; `error` code [INFERRED]."""
    return SandboxError(409, error_body(409, "invalid_session_state", detail))


def not_found(detail: str = "Session not found.") -> SandboxError:
    return SandboxError(404, error_body(404, "not_found", detail))


def control_actions_text() -> str:
    return ", ".join(CONTROL_ACTIONS)


class VerifaEmulator:
    def __init__(
        self, config: SandboxConfig, webhook_secret: str, settings: WebhookSettings
    ) -> None:
        self.config = config
        self.base_url = config.public_base_url.rstrip("/")
        self.store = VerifaStore(config.state_path, settings)
        self.webhooks = VerifaWebhooks(config, webhook_secret, settings)
        self._tasks: set[asyncio.Task[None]] = set()
        self._qr_cache: dict[str, str] = {}

    def now(self) -> datetime:
        return self.config.clock()

    # -- reads ----------------------------------------------------------------------------
    def get(self, session_id: str) -> SandboxSession:
        session = self.store.get(session_id)
        if session is None:
            raise not_found()
        return session

    def capture_url(self, session: SandboxSession) -> str | None:
        if session.capture_token is None:
            return None
        return f"{self.base_url}/verify/{session.capture_token}"

    def qr_code(self, url: str) -> str:
        """A real QR code (PNG data URL) of the capture URL; cached, encoding is not free."""
        if url not in self._qr_cache:
            if len(self._qr_cache) > 256:
                self._qr_cache.clear()
            self._qr_cache[url] = qr_png_data_url(url)
        return self._qr_cache[url]

    # -- time -----------------------------------------------------------------------------
    def sweep(self) -> None:
        """Expire sessions whose capture token ran out (the `expired` status). Lazily, on
        every request: the change and its `session.expired` happen when someone looks."""
        now = self.now()
        for session in self.store:
            if (
                session.status_enum in CAPTURE_STATUSES
                and session.token_expires_at is not None
                and parse_iso(session.token_expires_at) <= now
            ):
                expired_at = parse_iso(session.token_expires_at)
                self._apply(session, Move(CAPTURE_STATUSES, Status.EXPIRED), at=expired_at)

    # -- create ---------------------------------------------------------------------------
    def create(self, clean: JSON) -> SandboxSession:
        now = self.now()
        stamp = iso(now)
        session = SandboxSession(
            id=self._new_id("ses_"),
            status=Status.PENDING.value,
            created_at=stamp,
            updated_at=stamp,
            workflow_id=clean.get("workflow_id") or DEFAULT_WORKFLOW_ID,
            external_ref=clean.get("external_ref"),
            metadata=_merge({}, clean.get("metadata") or {}),
            country=clean.get("country"),
            checks=clean.get("checks"),
            redirect_url=clean.get("redirect_url"),
            fields=clean.get("fields"),
            send_email=bool(clean.get("send_email")),
        )
        self._new_token(session, CAPTURE_TOKEN_TTL_S)
        self.store.add(session)
        self.webhooks.send(Event.CREATED, session)  # not awaited: see the module doc
        return session

    # -- the person's flow and Verifa's checks (hosted page, control endpoint) -----------------
    def check_control(self, session: SandboxSession, action: str) -> Move:
        """The move `action` makes from here, or a refusal (400 unknown, 409 not from here)."""
        if action in UNSUPPORTED_ACTIONS or action not in CONTROL_ACTIONS:
            raise SandboxError(
                400,
                error_body(
                    400,
                    "unsupported_action",
                    f"Verifa has no '{action}' action (it has no abandoned status). Actions "
                    f"the Verifa sandbox supports: {control_actions_text()}.",
                ),
            )
        move = CONTROL_ACTIONS[action]
        self._check_move(session, action, move)
        return move

    def _check_move(self, session: SandboxSession, action: str, move: Move) -> None:
        if session.redacted:
            raise conflict(f"Session is redacted; '{action}' is not possible.")
        if session.status_enum not in move.sources:
            raise conflict(
                f"Verifa does not allow '{action}' on a session in status '{session.status}' "
                f"(it would go to '{move.target}')."
            )

    async def control(
        self,
        session: SandboxSession,
        action: str,
        *,
        rejection_reason: str | None = None,
        consent_ip: str | None = None,
    ) -> DeliveryResult:
        move = self.check_control(session, action)
        reason = _control_reason(action, rejection_reason)
        if move.target == Status.CAPTURING:
            session.consent_ip = consent_ip
        # A reviewer's decision on an under_review session is a "case API approval": minimal.
        minimal = session.status_enum == Status.UNDER_REVIEW
        return await _first(self._apply(session, move, reason=reason, minimal=minimal))

    async def api_simulate(self, session: SandboxSession, action: str) -> DeliveryResult:
        move = API_SIMULATE_ACTIONS.get(action)
        if move is None:
            raise SandboxError(
                422,
                error_body(
                    422,
                    "validation_error",
                    "action: Must be one of " + ", ".join(API_SIMULATE_ACTIONS) + ".",
                    errors=[{"field": "action", "message": "Unknown action."}],
                ),
            )
        self._check_move(session, action, move)
        minimal = session.status_enum == Status.UNDER_REVIEW
        return await _first(self._apply(session, move, minimal=minimal))

    # -- integrator API -------------------------------------------------------------------
    def update(self, session: SandboxSession, clean: JSON) -> None:
        """PATCH: merge semantics, a key set to null is removed; no webhook."""
        if session.redacted:
            raise conflict("Redacted sessions cannot be updated.")
        if "external_ref" in clean:
            session.external_ref = clean["external_ref"]
        if "metadata" in clean:
            session.metadata = _merge(session.metadata, clean["metadata"])
        session.updated_at = iso(self.now())
        self.store.save()

    async def expire(self, session: SandboxSession) -> DeliveryResult:
        if session.redacted or session.status_enum not in EXPIRABLE:
            state = "redacted" if session.redacted else session.status
            raise conflict(f"Session is {state} and cannot be expired.")
        return await _first(self._apply(session, Move(EXPIRABLE, Status.EXPIRED)))

    def resume(self, session: SandboxSession) -> None:
        """Back to `pending` with a fresh token and expiry; progress kept; no webhook."""
        if session.redacted or session.status_enum not in RESUMABLE:
            state = "redacted" if session.redacted else session.status
            raise conflict(
                f"Session is {state}; only expired or abandoned (capturing) sessions can be "
                "resumed."
            )
        self._new_token(session, CAPTURE_TOKEN_TTL_S)
        session.expired_at = None
        self._set_status(session, Status.PENDING)

    def reprocess(self, session: SandboxSession) -> None:
        """completed / failed → processing; the workflow re-runs in the background: the same
        outcome again (a minimal "auto-retry completion" webhook), or, with no outcome to
        repeat (failed), `sandbox_pending` until one is simulated."""
        if session.redacted or session.status_enum not in REPROCESSABLE:
            state = "redacted" if session.redacted else session.status
            raise conflict(
                f"Session is {state}; only completed or failed sessions can be reprocessed."
            )
        previous = (
            ResultStatus(session.result["status"])
            if session.status_enum == Status.COMPLETED and session.result
            else None
        )
        reason = session.result.get("rejection_reason") if session.result else None
        session.processing_attempts += 1
        self._set_status(session, Status.PROCESSING)
        attempt = session.processing_attempts
        self._spawn(self._rerun(session.id, attempt, previous, reason))

    async def _rerun(
        self, session_id: str, attempt: int, previous: ResultStatus | None, reason: str | None
    ) -> None:
        await asyncio.sleep(0)  # after the 202 is on its way
        session = self.store.get(session_id)
        if (
            session is None
            or session.status_enum != Status.PROCESSING
            or session.processing_attempts != attempt
        ):
            return  # something else moved it meanwhile
        if previous is None:
            self._apply(session, Move(frozenset({Status.PROCESSING}), Status.SANDBOX_PENDING))
            return
        move = Move(frozenset({Status.PROCESSING}), Status.COMPLETED, previous)
        await _first(self._apply(session, move, reason=reason, minimal=True))

    async def generate_link(self, session: SandboxSession, minutes: int) -> tuple[str, str]:
        """A one-time link; revokes any previous link (and the capture token it replaces)."""
        if session.redacted or session.status_enum not in LINKABLE:
            state = "redacted" if session.redacted else session.status
            raise conflict(f"Session is {state}; a capture link can no longer be generated.")
        link_id = self._new_id("link_")
        self._new_token(session, minutes * 60, link_id=link_id)
        created_at = iso(self.now())
        session.updated_at = created_at
        self.store.save()
        await _first(self.webhooks.send(Event.LINK_GENERATED, session))
        return link_id, created_at

    async def redact(self, session: SandboxSession) -> tuple[int, bool]:
        """Permanent deletion of PII and images; (documents removed, first time?)."""
        if session.redacted:
            return 0, False
        removed = len(session.documents)
        session.documents = []
        session.fields = None
        session.consent_ip = None
        session.capture_token = None
        session.link_id = None
        if session.result is not None:
            session.result = redact_result(session.result)
        session.retention_status = Retention.REDACTED.value
        session.updated_at = iso(self.now())
        self.store.save()
        await _first(self.webhooks.send(Event.REDACTED, session))
        return removed, True

    async def external_decision(
        self, session: SandboxSession, decision: str, metadata: JSON | None
    ) -> DeliveryResult:
        """The integrator answers an external gate: `continue` resumes the workflow (the
        sandbox's has nothing left to run on its own: `processing` until an outcome is
        simulated), `fail` applies the gate step's `on_fail` action (GATE_ON_FAIL), `reject`
        rejects at once. Verifa resumes "asynchronously"; the sandbox does it before it
        answers, so the answer's `status` is already the new one."""
        if session.redacted or session.status_enum != Status.AWAITING_EXTERNAL:
            raise conflict(f"Session is {session.status}, not awaiting an external decision.")
        if metadata:
            session.workflow_run_metadata = {**session.workflow_run_metadata, **metadata}
        gate = frozenset({Status.AWAITING_EXTERNAL})
        on_fail = CONTROL_ACTIONS[GATE_ON_FAIL]
        moves = {
            "continue": Move(gate, Status.PROCESSING),
            "fail": Move(gate, on_fail.target, on_fail.result),
            "reject": Move(gate, Status.COMPLETED, ResultStatus.REJECTED),
        }
        return await _first(self._apply(session, moves[decision], reason=EXTERNAL_REJECTION_REASON))

    # -- review cases -----------------------------------------------------------------------
    def get_case(self, case_id: str) -> SandboxSession:
        """The session whose review case this is (one case per reviewed session)."""
        for session in self.store:
            if session.case_id == case_id:
                return session
        raise not_found("Case not found.")

    def claim_case(self, session: SandboxSession, reviewer_id: str) -> None:
        """open → in_review, held by `reviewer_id`; the same reviewer may claim again."""
        self._check_case(session, reviewer_id)
        if session.case_assigned_to != reviewer_id:
            session.case_assigned_to = reviewer_id
            session.case_claimed_at = iso(self.now())
        session.case_status = "in_review"
        self.store.save()

    async def decide_case(
        self,
        session: SandboxSession,
        reviewer_id: str,
        outcome: ResultStatus,
        rejection_reason: str | None,
    ) -> DeliveryResult:
        """A reviewer approves or rejects the case: the session completes with that result
        and its webhook is the minimal one ("case API approvals send a minimal payload")."""
        self._check_case(session, reviewer_id)
        if session.status_enum != Status.UNDER_REVIEW:
            raise conflict(f"Session is {session.status}, not under review.")
        session.case_assigned_to = reviewer_id
        session.case_claimed_at = session.case_claimed_at or iso(self.now())
        reason = (
            (rejection_reason or CASE_REJECTION_REASON)
            if outcome == ResultStatus.REJECTED
            else None
        )
        move = Move(frozenset({Status.UNDER_REVIEW}), Status.COMPLETED, outcome)
        delivery = self._apply(session, move, reason=reason, minimal=True)
        session.case_decided_at = session.updated_at
        self.store.save()
        return await _first(delivery)

    def _check_case(self, session: SandboxSession, reviewer_id: str) -> None:
        if session.case_status not in CASE_ACTIVE:
            raise conflict(
                f"Case is {session.case_status}; it can no longer be claimed or decided."
            )
        if session.case_status == "in_review" and session.case_assigned_to not in (
            None,
            reviewer_id,
        ):
            raise conflict("Case is claimed by another reviewer.")

    # -- idempotency ----------------------------------------------------------------------
    def replay(self, key: str, fingerprint: str) -> JSON | None:
        """The stored answer of an earlier request with this key, or None; 422 when the key
        was used with different parameters."""
        record = self.store.recall(key, self.now())
        if record is None:
            return None
        if record["fingerprint"] != fingerprint:
            raise SandboxError(
                422,
                error_body(
                    422,
                    "idempotency_mismatch",
                    "Idempotency key has already been used with different parameters.",
                ),
            )
        return record

    def remember(self, key: str, fingerprint: str, status_code: int, body: JSON) -> None:
        now = self.now()
        record = {"fingerprint": fingerprint, "status_code": status_code, "body": body}
        self.store.remember(key, record, now, iso(now))

    # -- the one path of a status change ---------------------------------------------------
    def _apply(
        self,
        session: SandboxSession,
        move: Move,
        *,
        reason: str | None = None,
        minimal: bool = False,
        at: datetime | None = None,
    ) -> asyncio.Future[DeliveryResult]:
        """`at`: when the change happened, if not now (a token that ran out earlier)."""
        now = at or self.now()
        previous = session.status_enum
        if previous in CAPTURE_STATUSES and move.target not in CAPTURE_STATUSES | {Status.EXPIRED}:
            self._captured(session)
        if move.target == Status.EXPIRED:
            session.expired_at = iso(now)
        if move.target == Status.PENDING:  # sent back to capture: a fresh capture token
            self._new_token(session, CAPTURE_TOKEN_TTL_S)
            session.result = None
        if move.result is not None:
            session.result = build_result(session, move.result, now, reason)
            if move.target == Status.UNDER_REVIEW:
                self._open_case(session, now)
            elif previous == Status.UNDER_REVIEW and session.case_id:
                session.case_status = move.result.value  # approved / rejected
                session.case_decided_at = iso(now)
        self._set_status(session, move.target, at=now)
        event = _event_for(previous, move)
        if event is None:
            future: asyncio.Future[DeliveryResult] = asyncio.get_running_loop().create_future()
            future.set_result(NOT_SENT)
            return future
        return self.webhooks.send(event, session, minimal=minimal, at=now)

    def _open_case(self, session: SandboxSession, now: datetime) -> None:
        """A review case "is created when a verification workflow routes to needs_review"."""
        session.case_id = self._new_id("case_")
        session.case_status = "open"
        session.case_created_at = iso(now)
        session.case_assigned_to = session.case_claimed_at = session.case_decided_at = None

    def _captured(self, session: SandboxSession) -> None:
        """Capture is over (submitted, or skipped by a simulated decision)."""
        session.processing_attempts += 1
        session.document_type = SANDBOX_DOCUMENT_TYPE
        session.documents = list(CAPTURED_DOCUMENTS)

    def _set_status(
        self, session: SandboxSession, status: Status, *, at: datetime | None = None
    ) -> None:
        session.status = status.value
        session.updated_at = iso(at or self.now())
        self.store.save()

    def _new_token(
        self, session: SandboxSession, ttl_s: int, *, link_id: str | None = None
    ) -> None:
        session.capture_token = self._new_id("tok_", 24)
        session.token_expires_at = iso(self.now() + timedelta(seconds=ttl_s))
        session.link_id = link_id

    def _new_id(self, prefix: str, nbytes: int = 12) -> str:
        while True:
            if prefix == "tok_":
                candidate = prefix + secrets.token_urlsafe(nbytes)
                taken = self.store.by_token(candidate) is not None
            else:
                candidate = prefix + secrets.token_hex(nbytes)
                taken = self.store.get(candidate) is not None
            if not taken:
                return candidate

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def idle(self) -> None:
        """Until background re-runs and webhook deliveries (retries included) are done."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.webhooks.idle()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.webhooks.aclose()


def _event_for(previous: Status, move: Move) -> Event | None:
    if move.event is not None:
        return move.event
    if move.target == Status.CAPTURING and previous == Status.PENDING:
        return Event.STARTED
    if move.target == Status.AWAITING_EXTERNAL:
        return Event.AWAITING_EXTERNAL
    if move.target == Status.EXPIRED:
        return Event.EXPIRED
    if move.result is not None and move.target in (Status.COMPLETED, Status.UNDER_REVIEW):
        return DECISION_EVENTS[move.result][0]
    return None


def _merge(current: JSON, patch: JSON) -> JSON:
    """Shallow merge; a key set to null is removed (PATCH: "Set a key to null to remove it")."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged


async def _first(future: asyncio.Future[DeliveryResult]) -> DeliveryResult:
    # Shielded: a client that hangs up must not cancel the delivery bookkeeping.
    return await asyncio.shield(future)


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method} {path} {canonical}".encode()).hexdigest()
