"""The Didit emulator's behaviour, free of HTTP: sessions, status rules, webhooks.

The HTTP layers (API, hosted page, control endpoint) all go through here, so a status change
has one path: check the vendor's rule → apply → persist → queue the signed webhook → wait
for its first delivery attempt.
"""

from __future__ import annotations

import asyncio
import math
import secrets
import string
import uuid
from datetime import datetime
from typing import Any

from adapters.base import SandboxConfig
from adapters.common.sandbox.http import SandboxError
from adapters.didit.sandbox.model import (
    API_REVIEW_USER,
    BACKEND_FEATURES,
    BACKEND_RESUBMIT_WINDOW_S,
    CONSOLE_REVIEWER,
    CONTROL_ACTIONS,
    NODE_FEATURES,
    TRANSITIONS,
    UNFINISHED_STATUSES,
    UNSUPPORTED_ACTIONS,
    UPDATE_STATUS_FROM,
    WORKFLOW_NODES,
    SandboxSession,
    Status,
    iso,
    simulate_target,
)
from adapters.didit.sandbox.payloads import (
    decision_body,
    feature_results,
    review_item,
    webhook_envelope,
)
from adapters.didit.sandbox.reasons import finding_for
from adapters.didit.sandbox.store import DiditStore
from adapters.didit.sandbox.webhooks import DeliveryResult, WebhookDispatcher

JSON = dict[str, Any]
TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 12
#: Feature outcomes are produced when the user's flow ends in one of these.
FLOW_OUTCOMES = frozenset({Status.APPROVED, Status.DECLINED, Status.IN_REVIEW})
#: Only a person leaves In Review: a control action from there is a console reviewer's.
REVIEWED_FROM = frozenset({Status.IN_REVIEW})


def supported_actions_text() -> str:
    return ", ".join(CONTROL_ACTIONS)


class DiditEmulator:
    def __init__(self, config: SandboxConfig, webhook_secret: str) -> None:
        self.config = config
        self.base_url = config.public_base_url.rstrip("/")
        self.store = DiditStore(config.state_path)
        self.webhooks = WebhookDispatcher(config, webhook_secret)

    def now(self) -> datetime:
        return self.config.clock()

    def hosted_url(self, session: SandboxSession) -> str:
        prefix = f"{self.base_url}/{session.language}" if session.language else self.base_url
        return f"{prefix}/session/{session.session_token}"

    def decision(self, session: SandboxSession) -> JSON:
        return decision_body(session, self.hosted_url(session))

    def get(self, session_id: str) -> SandboxSession:
        session = self.store.get(session_id)
        if session is None:
            raise SandboxError(404, {"detail": "Not found."})
        return session

    # -- create ---------------------------------------------------------------------------
    def create(self, clean: JSON) -> SandboxSession:
        """New session, or the unfinished one this vendor_data already has, its callback and
        metadata updated to the new values (Didit's documented idempotency,
        docs/vendors/didit.md, Endpoints we call)."""
        vendor_data = clean.get("vendor_data")
        if vendor_data is not None:
            for existing in sorted(self.store, key=lambda s: -s.session_number):
                if (
                    existing.vendor_data == vendor_data
                    and existing.workflow_id == clean["workflow_id"]
                    and existing.status_enum in UNFINISHED_STATUSES
                ):
                    existing.callback = clean.get("callback")
                    existing.metadata = clean.get("metadata")
                    self.store.save()
                    return existing
        stamp = iso(self.now())
        session = SandboxSession(
            session_id=str(uuid.uuid4()),
            session_number=self.store.next_number(),
            session_token=self._new_token(),
            status=Status.NOT_STARTED.value,
            created_at=stamp,
            updated_at=stamp,
            workflow_id=clean["workflow_id"],
            vendor_data=vendor_data,
            metadata=clean.get("metadata"),
            callback=clean.get("callback"),
            callback_method=clean.get("callback_method") or "initiator",
            language=clean.get("language"),
            contact_details=clean.get("contact_details"),
            expected_details=clean.get("expected_details"),
        )
        self.store.add(session)
        return session

    def _new_token(self) -> str:
        while True:
            token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
            if self.store.by_token(token) is None:
                return token

    # -- the user's flow (hosted page, control endpoint) ------------------------------------
    def check_action(self, session: SandboxSession, action: str) -> Status:
        """The status `action` leads to, or a refusal (400 unknown, 409 not from here)."""
        if action in UNSUPPORTED_ACTIONS or action not in CONTROL_ACTIONS:
            raise SandboxError(
                400,
                {
                    "detail": f"Didit has no '{action}' action. "
                    f"Actions the Didit sandbox supports: {supported_actions_text()}."
                },
            )
        current = session.status_enum
        target = simulate_target(action, current)
        if target not in TRANSITIONS.get(current, frozenset()):
            raise SandboxError(
                409,
                {
                    "detail": f"Didit does not allow '{action}' on a session in status "
                    f"'{current}' (it would go to '{target}')."
                },
            )
        return target

    async def simulate(
        self, session: SandboxSession, action: str, reason: Any = None
    ) -> DeliveryResult:
        """`reason` picks the failing feature of a decline or review (`reasons.py`)."""
        target = self.check_action(session, action)
        finding = finding_for(action, reason)
        current = session.status_enum
        if target in FLOW_OUTCOMES and current == Status.IN_PROGRESS:
            session.features.update(feature_results(session, target, self.now(), finding))
        if target == Status.IN_PROGRESS and current == Status.RESUBMITTED:
            self._reset_resubmitted_nodes(session)
        if current in REVIEWED_FROM:
            review = review_item(CONSOLE_REVIEWER, target.value, None, iso(self.now()))
            session.reviews.append(review)
        return await self._change(session, target)

    def _reset_resubmitted_nodes(self, session: SandboxSession) -> None:
        """The user redoes the nodes a reviewer sent back: their old results go away."""
        nodes = (session.resubmit_info or {}).get("nodes_to_resubmit") or []
        redo = {node.get("node_id") for node in nodes}
        for _, node_id, block in WORKFLOW_NODES:
            if node_id in redo:
                session.features.pop(block, None)

    # -- update-status (reviewer / integrator) -----------------------------------------------
    async def update_status(self, session: SandboxSession, clean: JSON) -> DeliveryResult | None:
        """update-status (docs/vendors/didit.md, Endpoints we call); None when the call is the
        documented no-op (no webhook)."""
        current, new = session.status_enum, clean["new_status"]
        if current not in UPDATE_STATUS_FROM:
            allowed = ", ".join(sorted(UPDATE_STATUS_FROM))
            raise SandboxError(
                400,
                {
                    "detail": f"The status of a session in status '{current}' cannot be "
                    f"updated; allowed current statuses: {allowed}."
                },
            )
        if new == current:
            if new == Status.RESUBMITTED:
                raise SandboxError(
                    400, {"detail": "The new status is the same as the current status."}
                )
            return None
        comment = clean.get("comment")
        backend_only = False
        if new == Status.RESUBMITTED:
            nodes = [
                {
                    "node_id": n["node_id"],
                    "feature": n.get("feature") or NODE_FEATURES[n["node_id"]],
                }
                for n in clean["nodes_to_resubmit"]
            ]
            backend_only = all(node["feature"] in BACKEND_FEATURES for node in nodes)
            if backend_only:
                self._check_backend_window(session)
            session.resubmit_info = {
                "nodes_to_resubmit": nodes,
                "reasons": {node["node_id"]: comment or "" for node in nodes},
            }
        session.reviews.append(review_item(API_REVIEW_USER, new.value, comment, iso(self.now())))
        if backend_only:
            return await self._rerun_backend(session, previous=current)
        return await self._change(session, new)

    def _check_backend_window(self, session: SandboxSession) -> None:
        """A backend-only resubmission repeated within 30 s answers 429 (docs/vendors/didit.md,
        Endpoints we call)."""
        if session.backend_resubmit_at is None:
            return
        elapsed = (self.now() - datetime.fromisoformat(session.backend_resubmit_at)).total_seconds()
        wait = math.ceil(BACKEND_RESUBMIT_WINDOW_S - elapsed)
        if wait > 0:
            raise SandboxError(
                429,
                {"detail": f"Request was throttled. Expected available in {wait} seconds."},
                headers={"Retry-After": str(wait)},
            )

    async def _rerun_backend(self, session: SandboxSession, previous: Status) -> DeliveryResult:
        """Backend-only features re-run at once and the session returns to a decided status
        without the user (docs/vendors/didit.md, Endpoints we call); the sandbox's re-run
        changes nothing, so that is the status it had."""
        session.backend_resubmit_at = iso(self.now())
        await self._change(session, Status.RESUBMITTED)
        return await self._change(session, previous)

    # -- delete ---------------------------------------------------------------------------
    def delete(self, session: SandboxSession) -> None:
        """Gone for good; queued deliveries are dropped and no webhook is sent."""
        self.store.remove(session.session_id)
        self.webhooks.drop(session.session_id)

    # -- the one path of a status change ---------------------------------------------------
    async def _change(self, session: SandboxSession, target: Status) -> DeliveryResult:
        now = self.now()
        session.status = target.value
        session.updated_at = iso(now)
        envelope = webhook_envelope(session, self.decision(session), int(now.timestamp()))
        session.events.append(envelope)
        self.store.save()
        return await self._send(session, envelope)

    async def redeliver(self, session: SandboxSession, index: int) -> tuple[JSON, DeliveryResult]:
        """Send an earlier event again, as Didit's console redelivers one: the same body and
        `created_at`, a new event_id, `timestamp` and signature (docs/vendors/didit.md,
        Webhooks and signature). `index` counts the session's events, negative from the end."""
        if not -len(session.events) <= index < len(session.events):
            raise SandboxError(404, {"detail": "This session has no such event."})
        envelope = session.events[index]
        return envelope, await self._send(session, envelope)

    async def _send(self, session: SandboxSession, envelope: JSON) -> DeliveryResult:
        first = self.webhooks.enqueue(session.session_id, envelope)
        # Shielded: a client that hangs up must not cancel the delivery bookkeeping.
        return await asyncio.shield(first)

    async def aclose(self) -> None:
        await self.webhooks.aclose()
