"""The UIP emulator's behaviour, free of HTTP: sessions, step/gate rules, expiry, webhooks.

The HTTP layers (API, hosted page, control endpoint) all go through here. A change takes one
path: check the rule → apply → persist (the result and its audit record are "committed") →
queue the signed events → the causing request awaits their first attempts.

Which changes fire which event (docs.uip.digital core-concepts/sessions and
api-reference/webhooks; nothing else fires anything):

| change | events, in this order |
|---|---|
| create, open (created → in_progress), continue to a next step | none |
| a step verifies | `step.completed` (stage, primitive, audit_id, its result) |
| … and it had `gate: true` (→ awaiting_decision) | nothing more: no awaiting_decision event |
| … and it was the last step (→ completed) | `session.completed` |
| continue on the gated last step (→ completed) | `session.completed` |
| stop at a gate (→ stopped) | `session.stopped` |
| a step fails verification, funds run out, internal error (→ failed) | `session.failed` |
| the TTL or the per-step window passes (→ expired, lazily on next access) | none |
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from adapters.base import SandboxConfig
from adapters.common.sandbox.http import SandboxError
from adapters.common.sandbox.times import parse_iso
from adapters.common.sandbox.webhooks import NOT_SENT, DeliveryResult
from adapters.uip.sandbox.model import (
    AGE_NOT_SATISFIED,
    CONTROL_ACTIONS,
    DECLINE_MESSAGES,
    DEFAULT_DECLINE_REASON,
    UNSUPPORTED_ACTIONS,
    Event,
    FailReason,
    SandboxSession,
    Status,
    stamp,
)
from adapters.uip.sandbox.payloads import FakeWallet, envelope, error_body, step_completed_fields
from adapters.uip.sandbox.store import SandboxSettings, UipStore
from adapters.uip.sandbox.validation import fingerprint_of
from adapters.uip.sandbox.webhooks import UipWebhooks

JSON = dict[str, Any]
Pending = list[asyncio.Future[DeliveryResult]]


def not_found() -> SandboxError:
    """404 "if the session doesn't exist or belongs to another business" (v1 wording)."""
    return SandboxError(
        404, error_body("The requested resource was not found", "resource/not-found")
    )


def control_actions_text() -> str:
    return ", ".join(CONTROL_ACTIONS)


class UipEmulator:
    def __init__(
        self,
        config: SandboxConfig,
        webhook_secret: str,
        settings: SandboxSettings,
        *,
        step_window_s: float | None,
    ) -> None:
        self.config = config
        self.base_url = config.public_base_url.rstrip("/")
        self.store = UipStore(config.state_path, settings)
        self.webhooks = UipWebhooks(config, webhook_secret)
        self.wallet = FakeWallet()
        self.step_window_s = step_window_s

    @property
    def settings(self) -> SandboxSettings:
        return self.store.settings

    def now(self) -> datetime:
        return self.config.clock()

    def page_url(self, session: SandboxSession) -> str:
        """The hosted page, a capability URL (core-concepts/sessions: `https://uip.digital/s/{id}`)."""
        return f"{self.base_url}/s/{session.id}"

    # -- reads (every read resolves expiry first) --------------------------------------------
    def find(self, session_id: str) -> SandboxSession | None:
        session = self.store.get(session_id)
        if session is not None:
            self.resolve(session)
        return session

    def get(self, session_id: str) -> SandboxSession:
        session = self.find(session_id)
        if session is None:
            raise not_found()
        return session

    def audit(self, audit_id: str) -> tuple[SandboxSession, JSON]:
        """`{session_id}_{stage}` of a verified step."""
        session_id, _, stage = audit_id.rpartition("_")
        session = self.find(session_id) if stage.isdigit() else None
        if session is None:
            raise not_found()
        for result in session.results:
            if result["audit_id"] == audit_id:
                return session, result
        raise not_found()

    # -- time ---------------------------------------------------------------------------------
    def deadline(self, session: SandboxSession) -> datetime:
        """When the session expires: its TTL, or sooner the current step's window."""
        deadline = parse_iso(session.expires_at)
        if (
            self.step_window_s is not None
            and session.status_enum == Status.IN_PROGRESS
            and session.step_started_at is not None
        ):
            window_end = parse_iso(session.step_started_at) + timedelta(seconds=self.step_window_s)
            deadline = min(deadline, window_end)
        return deadline

    def resolve(self, session: SandboxSession) -> None:
        """Lazy expiry (core-concepts/sessions): "an expired session resolves to `expired` on next
        access and emits no further steps" — and no webhook (there is no session.expired)."""
        if session.terminal:
            return
        deadline = self.deadline(session)
        if self.now() >= deadline:
            session.status = Status.EXPIRED.value
            session.step_started_at = None
            session.updated_at = stamp(deadline)
            self.store.save()

    # -- create ---------------------------------------------------------------------------
    def create(self, clean: JSON) -> SandboxSession:
        if not self.config.webhook_url:
            raise SandboxError(
                422,
                error_body(
                    "A webhook URL must be configured in the dashboard before creating sessions",
                    "request/webhook-missing",
                ),
            )
        if self.settings.funds_exhausted:
            raise SandboxError(
                402, error_body("Insufficient balance", "payment/insufficient-funds")
            )
        now = self.now()
        session = SandboxSession(
            id=self._new_id(),
            status=Status.CREATED.value,
            steps=clean["steps"],
            created_at=stamp(now),
            updated_at=stamp(now),
            expires_at=stamp(now + timedelta(seconds=clean["expires_in"])),
            client_reference_id=clean["client_reference_id"],
            metadata=clean["metadata"],
            return_url=clean["return_url"],
        )
        self.store.add(session)
        return session

    # -- idempotency (POST /v1/sessions only) -----------------------------------------------------
    def replay(self, key: str, clean: JSON) -> SandboxSession | None:
        """The session an earlier create with this key made, or None; 409 when the key was
        used with a different body ("409 idempotency conflict", api-reference/sessions/create)."""
        record = self.store.recall(key, self.now())
        if record is None:
            return None
        if record["fingerprint"] != fingerprint(clean):
            raise SandboxError(
                409,
                error_body(
                    "Idempotency-Key was already used with a different request body",
                    "request/idempotency-conflict",
                ),
            )
        session = self.find(record["session_id"])
        if session is None:  # cannot happen: sessions are never deleted
            raise not_found()
        return session

    def remember(self, key: str, clean: JSON, session: SandboxSession) -> None:
        now = self.now()
        record = {"fingerprint": fingerprint(clean), "session_id": session.id}
        self.store.remember(key, record, now, stamp(now))

    # -- the business's gate decisions --------------------------------------------------------
    def _at_gate(self, session: SandboxSession, action: str) -> None:
        if session.status_enum != Status.AWAITING_DECISION:
            raise SandboxError(
                self.settings.gate_error_status,
                error_body(
                    f"Session is {session.status}; {action} is only valid in awaiting_decision",
                    "session/not-awaiting-decision",
                ),
            )

    async def continue_(self, session: SandboxSession) -> DeliveryResult:
        """awaiting_decision → in_progress (next step), or → completed after the last."""
        self._at_gate(session, "continue")
        pending: Pending = []
        if session.current_step >= len(session.steps) - 1:
            self._finish(session, Status.COMPLETED, pending)
        else:
            session.current_step += 1
            self._set(session, Status.IN_PROGRESS, step_started=True)
        return await self._first_attempts(pending)

    async def stop(self, session: SandboxSession) -> DeliveryResult:
        """awaiting_decision → stopped; verified steps stay, the rest are skipped."""
        self._at_gate(session, "stop")
        pending: Pending = []
        self._finish(session, Status.STOPPED, pending)
        return await self._first_attempts(pending)

    # -- the person (hosted page) and UIP itself (control endpoint) ----------------------------
    def check_control(self, session: SandboxSession, action: str) -> None:
        """400 for an action UIP has no equivalent of, 409 for one not possible now."""
        if action in UNSUPPORTED_ACTIONS or action not in CONTROL_ACTIONS:
            why = (
                "UIP has no review or abandoned status"
                if action in UNSUPPORTED_ACTIONS
                else "unknown action"
            )
            raise SandboxError(
                400,
                error_body(
                    f"'{action[:40]}': {why}. Actions the UIP sandbox supports: "
                    f"{control_actions_text()}.",
                    "request/invalid-payload",
                ),
            )
        if session.status_enum not in CONTROL_ACTIONS[action]:
            raise SandboxError(
                409,
                error_body(
                    f"'{action}' is not possible while the session is {session.status}",
                    "session/invalid-state",
                ),
            )

    async def control(
        self, session: SandboxSession, action: str, *, reason: str | None = None
    ) -> DeliveryResult:
        self.check_control(session, action)
        by_age = action == "decline" and reason == AGE_NOT_SATISFIED
        age_step = self.age_step(session) if by_age else None
        pending: Pending = []
        if action == "expire":
            # Move the clock-based expiry to now; resolving it sends nothing (lazy expiry).
            session.expires_at = stamp(self.now())
            self.resolve(session)
        elif action == "fail":
            self._fail(session, reason or FailReason.INTERNAL_ERROR.value, pending)
        else:
            if session.status_enum == Status.CREATED:
                self.open(session)
            if action == "submit":
                self._verify_current(session, pending)
            elif action == "approve":
                while session.status_enum == Status.IN_PROGRESS:
                    self._verify_current(session, pending)
            elif action == "decline" and age_step is not None:
                while session.status_enum == Status.IN_PROGRESS:
                    unmet = session.current_step == age_step
                    self._verify_current(session, pending, unmet=unmet)
            elif action == "decline":
                message = DECLINE_MESSAGES.get(reason, reason) if reason else None
                self._fail(session, message or DEFAULT_DECLINE_REASON, pending)
        return await self._first_attempts(pending)

    def age_step(self, session: SandboxSession) -> int:
        """The age_verify step a `decline` for `age_not_satisfied` makes unmet: the next one,
        reached without passing a gate; 409 when there is none."""
        for stage in range(session.current_step, len(session.steps)):
            step = session.steps[stage]
            if step.primitive == "age_verify":
                return stage
            if step.gate:
                break
        raise SandboxError(
            409,
            error_body(
                f"'{AGE_NOT_SATISFIED}': the session has no age_verify step to answer before "
                "a gate",
                "session/invalid-state",
            ),
        )

    def open(self, session: SandboxSession) -> None:
        """created → in_progress: the person opened the page; the first step starts."""
        if session.status_enum == Status.CREATED:
            self._set(session, Status.IN_PROGRESS, step_started=True)

    def bind(self, session: SandboxSession, binding_hash: str) -> None:
        """First-open binding of the hosted page to one browser."""
        session.binding = binding_hash
        self.store.save()

    # -- the one path of every change --------------------------------------------------------
    def _verify_current(
        self, session: SandboxSession, pending: Pending, *, unmet: bool = False
    ) -> None:
        """The current step verifies: its result + audit, `step.completed`, then the gate
        (awaiting_decision), the end (completed) or the next step. `unmet`: an age_verify step
        answers `satisfied: false` whatever the person's age."""
        if self.settings.funds_exhausted:  # billed per verified step
            self._fail(session, FailReason.INSUFFICIENT_FUNDS.value, pending)
            return
        now = self.now()
        stage = session.current_step
        result = self.wallet.verify_step(session, stage, now, stamp(now), unmet=unmet)
        session.results.append(result)
        step = session.steps[stage]
        event = envelope(Event.STEP_COMPLETED, session, step_completed_fields(result))
        if step.gate:
            self._set(session, Status.AWAITING_DECISION)
            pending.append(self.webhooks.send(session.id, event))
        elif stage >= len(session.steps) - 1:
            self._set(session, Status.COMPLETED)
            pending.append(self.webhooks.send(session.id, event))
            pending.append(self._terminal_event(session, Event.SESSION_COMPLETED))
        else:
            session.current_step += 1
            self._set(session, Status.IN_PROGRESS, step_started=True)
            pending.append(self.webhooks.send(session.id, event))

    def _finish(self, session: SandboxSession, status: Status, pending: Pending) -> None:
        self._set(session, status)
        event = Event.SESSION_COMPLETED if status == Status.COMPLETED else Event.SESSION_STOPPED
        pending.append(self._terminal_event(session, event))

    def _fail(self, session: SandboxSession, reason: str, pending: Pending) -> None:
        session.failure_reason = reason
        self._set(session, Status.FAILED)
        payload = envelope(Event.SESSION_FAILED, session, {"reason": reason})
        pending.append(self.webhooks.send(session.id, payload))

    def _terminal_event(
        self, session: SandboxSession, event: Event
    ) -> asyncio.Future[DeliveryResult]:
        payload = envelope(event, session, {"status": session.status})
        return self.webhooks.send(session.id, payload)

    def _set(self, session: SandboxSession, status: Status, *, step_started: bool = False) -> None:
        """Change and persist before any event is queued ("fired only after the result +
        audit record are committed")."""
        now = stamp(self.now())
        session.status = status.value
        session.step_started_at = now if step_started else None
        session.updated_at = now
        self.store.save()

    @staticmethod
    async def _first_attempts(pending: Sequence[asyncio.Future[DeliveryResult]]) -> DeliveryResult:
        """Await the first attempt of each event this change caused, in order; report the
        first that did not get through, else the last. Shielded: a client that hangs up must
        not cancel the delivery bookkeeping."""
        result = NOT_SENT
        for future in pending:
            result = await asyncio.shield(future)
            if not result.delivered:
                return result
        return result

    def _new_id(self) -> str:
        while True:
            candidate = "sess_" + secrets.token_hex(12)
            if self.store.get(candidate) is None:
                return candidate

    async def idle(self) -> None:
        await self.webhooks.idle()

    async def aclose(self) -> None:
        await self.webhooks.aclose()


def fingerprint(clean: JSON) -> str:
    canonical = json.dumps(
        fingerprint_of(clean), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()
