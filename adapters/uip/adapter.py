"""UIP adapter: REST `/v1` with a Bearer key, ordered steps with gates, `Idempotency-Key` on
create (JSON, or multipart with a sign step's document), signed `step.completed` / `session.*`
webhooks, expiry seen only by reading (docs/vendors/uip.md). Translation only — wire shapes
live in `wire.py`, the create body in `create.py`, the status table in `statuses.py`, step
verdicts in `verdicts.py`, snapshots in `snapshots.py`, errors in `errors.py`, assumptions in
`inferred.py`, input support in `inputs.py`.

A step's verdict reaches us once (its `step.completed`; Version B reads repeat it) and the
session's `completed` carries none, so the adapter remembers per session what it was told
(`SessionMemory`), seeded from the store before every read (`restore`). An unmet step makes the
session DECLINED at once: a final status no later, untimed event can turn around
(gateway/sessions/ordering.py).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlparse

import httpx
from pydantic import BaseModel, ValidationError

from adapters.base import (
    JSON,
    SESSION_BASICS,
    AdapterConfig,
    AuditEntry,
    Capability,
    CreateSessionRequest,
    KnownSession,
    ProviderAdapter,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionSnapshot,
    SessionStatus,
    StatusReading,
    StepProgress,
    StepRequest,
    StepState,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.context import bound
from adapters.common.idempotency import derive_key
from adapters.common.scrub import Scrubber
from adapters.common.validation import bad_input, parse_answer, parse_webhook_body
from adapters.common.webhook_body import signed_body_key
from adapters.results import Results
from adapters.uip import inferred
from adapters.uip.audits import audit_entry, audit_ids
from adapters.uip.create import caller_key, create_body
from adapters.uip.errors import Operation, map_error
from adapters.uip.http import Form, UipHttp
from adapters.uip.inputs import INPUT_SUPPORT
from adapters.uip.results import (
    CHECK_KINDS,
    CHECK_TABLES,
    failed_step,
    failure_results,
    read_results,
    step_results,
)
from adapters.uip.signature import UipScheme
from adapters.uip.snapshots import (
    decision,
    derive_steps,
    raw_status_of,
    step_types,
    steps_up_to,
    timeline,
)
from adapters.uip.statuses import (
    ACTIONS_BY_STATUS,
    ALWAYS_ALLOWED,
    AWAITING_DECISION,
    COMPLETED,
    CREATED,
    FAILED,
    IN_PROGRESS,
    RESULTS_PENDING,
    STATUS_TABLE,
    STOPPED,
    UIP_STATUSES,
    VERDICT_STATUSES,
    is_technical,
    join_failed,
    join_verdict,
    split_status,
)
from adapters.uip.verdicts import UNMET_CODES, SessionMemory, verdict, verdicts_missing
from adapters.uip.wire import (
    PRIMITIVES,
    AuditRecord,
    CreateResponse,
    SessionResource,
    WebhookData,
    WebhookEnvelope,
)

__all__ = ["UipAdapter", "derive_steps"]

log = logging.getLogger(__name__)

VENDOR = "UIP"
STEP_COMPLETED_EVENT = "step.completed"
FAILED_EVENT = "session.failed"
#: Terminal events that name their status (https://docs.uip.digital/api-reference/webhooks).
SESSION_EVENTS: Mapping[str, str] = {
    "session.completed": COMPLETED,
    "session.stopped": STOPPED,
}
SESSION_EVENT_PREFIX = "session."
#: How many sessions' verdicts the adapter keeps in memory (the store keeps them all).
MEMORY_SESSIONS = 10_000

_Model = TypeVar("_Model", bound=BaseModel)
#: The kind of call being made by this task: error statuses mean different things per call.
_OPERATION: ContextVar[Operation] = ContextVar("uip_operation", default=Operation.READ)


def _api_prefix(base_url: str) -> str:
    """`/v1`, unless the configured base already ends with it (the doc's spelling)."""
    path = urlparse(base_url).path.rstrip("/")
    return "" if path.endswith(inferred.API_PREFIX) else inferred.API_PREFIX


class UipAdapter(ProviderAdapter):
    rate_limit_per_minute = inferred.RATE_LIMIT_PER_MINUTE
    name = "uip"
    default_base_url = inferred.DEFAULT_BASE_URL
    poll_policy = inferred.POLL_POLICY
    input_support = INPUT_SUPPORT
    status_table = STATUS_TABLE
    always_allowed = ALWAYS_ALLOWED
    actions_by_status = ACTIONS_BY_STATUS
    #: One check per step, from its primitive (adapters/uip/results.py).
    check_tables = CHECK_TABLES
    check_kinds = CHECK_KINDS
    #: Expiry is lazy and has no webhook: every state that is not final can turn `expired`
    #: unseen, so all of them are polled (an unknown one too).
    poll_non_final = True
    capabilities: ClassVar[frozenset[Capability]] = SESSION_BASICS | frozenset(
        {
            Capability.CONTINUE,
            Capability.CANCEL,  # = stop, at a gate only
            Capability.STEPS,
            Capability.WEBHOOKS,
            Capability.POLLING,  # expiry has no webhook
        }
    )  # no LIST / DECIDE / UPDATE_METADATA / RESUME / REPROCESS / REDACT: not offered
    #: docs/vendors/uip.md, Redaction: UIP has no erasure endpoint.
    redaction_leaves = (
        "UIP offers no erasure: the session, its metadata and client reference and its "
        "verified step results (the identify claims) stay at UIP until its retention ends, "
        "a period UIP does not publish.",
    )

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        self._scrub = Scrubber.of(config)
        self._prefix = _api_prefix(config.base_url)
        self._memory = SessionMemory(MEMORY_SESSIONS)
        self._http = UipHttp(
            config,
            vendor=VENDOR,
            headers={
                "Authorization": f"Bearer {config.api_key}",
                "Accept": "application/json",
            },
            error_mapper=self._map_error,
        )

    # -- sessions -----------------------------------------------------------------------
    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot:
        body, files = create_body(request)  # validated before any call
        key = derive_key(inferred.IDEMPOTENCY_SCOPE, caller_key(request.idempotency_key))
        with bound(_OPERATION, Operation.CREATE):
            if files:  # "a session that includes a sign step is created as multipart/form-data"
                response = await self._http.request_form_with_key(
                    "POST",
                    self._path(),
                    key=key,
                    form=Form(body.to_form(), files),
                    expected=inferred.CREATE_SUCCESS_STATUSES,
                    conflict_statuses=inferred.IDEMPOTENCY_CONFLICT_STATUSES,
                )
            else:
                response = await self._http.request_with_key(
                    "POST",
                    self._path(),
                    key=key,
                    json=body.to_json(),
                    expected=inferred.CREATE_SUCCESS_STATUSES,
                    conflict_statuses=inferred.IDEMPOTENCY_CONFLICT_STATUSES,
                )
        data = self._http.json_of(response)
        created = self._parse(CreateResponse, data)
        # The steps are the request's (a replay of the same key is the same body).
        self._memory.note_types(created.id, tuple(PRIMITIVES[s.type] for s in request.steps))
        return self._created_snapshot(created, data, request)

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        path = self._path(provider_session_id)
        with bound(_OPERATION, Operation.READ):
            response = await self._http.request("GET", path)
        data = self._http.json_of(response)
        return self._read_snapshot(self._parse(SessionResource, data), data)

    async def continue_session(self, provider_session_id: str) -> SessionSnapshot | None:
        return await self._gate_action(provider_session_id, "continue")

    async def cancel_session(self, provider_session_id: str) -> SessionSnapshot | None:
        """UIP's `stop`: ends a session paused at a gate (nothing else can end one)."""
        return await self._gate_action(provider_session_id, "stop")

    async def fetch_audit(self, provider_session_id: str) -> tuple[AuditEntry, ...]:
        """The session's audit (docs/vendors/uip.md, Audit): a read names the verified steps,
        then `GET /v1/audits/{id}` per step, in order. A record UIP does not have is its 404
        (NOT_FOUND); the proof is returned as UIP gives it and never logged."""
        with bound(_OPERATION, Operation.READ):
            response = await self._http.request("GET", self._path(provider_session_id))
            session = self._parse(SessionResource, self._http.json_of(response))
            entries = []
            for record_id in audit_ids(session):
                path = f"{self._prefix}/audits/{quote(record_id, safe='')}"
                answer = await self._http.request("GET", path)
                entries.append(audit_entry(self._parse(AuditRecord, self._http.json_of(answer))))
        return tuple(entries)

    def restore(self, session: KnownSession) -> None:
        """What the store kept (its raw status and last payload) joins what we remember:
        a verdict, an unmet step, a failure's reason, an approval."""
        sid = session.provider_session_id
        status, qualifier = split_status(session.provider_status or "")
        if status == FAILED and qualifier:
            self._memory.note_failure(sid, session.provider_status)
        elif qualifier in UNMET_CODES:
            self._memory.note_unmet(sid, qualifier)
        elif session.provider_status == COMPLETED:
            self._memory.note_approved(sid)
        raw = session.raw if isinstance(session.raw, dict) else {}
        if raw.get("event") == STEP_COMPLETED_EVENT and isinstance(raw.get("data"), dict):
            try:
                self._note_step(sid, WebhookData.model_validate(raw["data"]))
            except ValidationError:
                pass
        elif raw.get("id") == sid and "status" in raw:
            try:
                self._note_results(self._parse(SessionResource, raw))
            except ProviderError:
                pass

    # -- status table ---------------------------------------------------------------------
    @classmethod
    def read_status(cls, provider_status: object) -> StatusReading | None:
        """The enumerated table, plus `failed:<reason>` for a free-text reason (DECLINED;
        FAILED for a technical one, in any case) — never a padded or blank one, nor a
        qualifier the status cannot have. The row is UIP's own status."""
        if not isinstance(provider_status, str):
            return None
        status, qualifier = split_status(provider_status)
        known = cls.status_table.get(provider_status)
        if known is None and status == FAILED and qualifier and qualifier == qualifier.strip():
            known = SessionStatus.FAILED if is_technical(qualifier) else SessionStatus.DECLINED
        return None if known is None else StatusReading(status, known)

    # -- webhooks -------------------------------------------------------------------------
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        verified = UipScheme().check(body, headers, self.config)
        payload, signed_at = verified.body, verified.signed_time
        envelope = _validated(WebhookEnvelope, payload)
        raw_data: JSON = payload["data"]
        data = envelope.data
        event = envelope.event
        session_id = data.session_id or None
        # The delivery id header is not signed: the key is the signed bytes themselves.
        dedupe_key = signed_body_key(body)

        if event == STEP_COMPLETED_EVENT or event.startswith(SESSION_EVENT_PREFIX):
            if not session_id:
                raise WebhookRejected(
                    WebhookRejectReason.MALFORMED, f"{event[:64]} without session_id"
                )
        else:
            log.info("uip webhook: event about something else", extra={"event": event[:64]})
            return [WebhookEvent(dedupe_key, event, session_id, None, payload)]
        assert session_id is not None

        refetch = False
        occurred_at: datetime | None = None
        steps: tuple[StepProgress, ...] = ()
        current_step: int | None = None
        known = self._memory.get(session_id)
        raw_status: str | None
        results: Results | None = None
        if event == STEP_COMPLETED_EVENT:
            results = step_results(data)
            self._note_step(session_id, data)
            known = self._memory.get(session_id)
            gate = raw_data.get(inferred.STEP_EVENT_GATE_KEY)
            base = AWAITING_DECISION if gate is True else IN_PROGRESS
            raw_status = join_verdict(base, known.unmet)
            refetch = not isinstance(gate, bool)  # gated or not: the read will tell
            index = data.index
            if index is not None:
                current_step = index + 1
                steps = steps_up_to(index, known)
        elif event in SESSION_EVENTS:
            status = SESSION_EVENTS[event]
            raw_status = join_verdict(status, known.unmet)
            if raw_status == COMPLETED and verdicts_missing(known):
                # Out of the documented order (a step's delivery still being retried): not
                # APPROVED before its verdict; a read is asked for.
                raw_status, refetch = join_verdict(COMPLETED, RESULTS_PENDING), True
            elif raw_status == COMPLETED:
                self._memory.note_approved(session_id)
        elif event == FAILED_EVENT:
            raw_status = self._failure(session_id, data.reason)
            results = failure_results(raw_status, failed_step(known))
            if inferred.FAILED_EVENT_TIME_IS_SIGNING_TIME:
                occurred_at = _end_of_signing_second(signed_at)
        else:
            # Undocumented session event: its `status` if it is one of ours, else a read.
            raw_status = None
            if data.status == FAILED:
                raw_status = self._failure(session_id, data.reason)
            elif data.status in UIP_STATUSES:
                unmet = known.unmet if data.status in VERDICT_STATUSES else None
                raw_status = join_verdict(data.status, unmet)
            else:
                refetch = True
            log.info("uip webhook: undocumented session event", extra={"event": event[:64]})

        snapshot: SessionSnapshot | None = None
        if raw_status is not None:
            if occurred_at is None and inferred.SIGNING_TIME_IS_EVENT_TIME:
                occurred_at = datetime.fromtimestamp(signed_at, UTC)
            status = self.map_status(raw_status)
            snapshot = SessionSnapshot(
                provider_session_id=session_id,
                provider_status=raw_status,
                status=status,
                environment=self.environment,
                client_reference=data.client_reference_id or None,
                metadata=data.metadata if isinstance(data.metadata, dict) else None,
                decision=decision(
                    status, raw_status, [data] if event == STEP_COMPLETED_EVENT else ()
                ),
                occurred_at=occurred_at,
                raw=payload,
                steps=steps,
                current_step=current_step,
                results=results,
            )
        return [
            WebhookEvent(
                dedupe_key=dedupe_key,
                event_type=event,
                provider_session_id=session_id,
                snapshot=snapshot,
                received_payload=payload,
                refetch=refetch,
            )
        ]

    # -- sandbox --------------------------------------------------------------------------
    @classmethod
    def build_sandbox(cls, config: SandboxConfig) -> SandboxHandle | None:
        from adapters.uip.sandbox import UipSandbox  # lazy: sandbox deps load on demand

        return UipSandbox(config)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers --------------------------------------------------------------------------
    def _map_error(self, response: httpx.Response) -> ProviderError:
        return map_error(response, self._scrub, operation=_OPERATION.get(), now=self.config.clock())

    def _path(self, session_id: str | None = None, action: str | None = None) -> str:
        """`/v1/sessions[/{id}[/{action}]]` — quoted id."""
        path = f"{self._prefix}/sessions"
        if session_id is None:
            return path
        if not session_id:
            raise bad_input("a provider session id is required", "providerSessionId")
        path = f"{path}/{quote(session_id, safe='')}"
        return f"{path}/{action}" if action else path

    async def _gate_action(self, session_id: str, action: str) -> SessionSnapshot:
        """continue / stop: no body; valid only in `awaiting_decision` — elsewhere the
        vendor's refusal (409 or 400) is PROVIDER_REJECTED with its reason."""
        path = self._path(session_id, action)
        with bound(_OPERATION, Operation.GATE):
            response = await self._http.request("POST", path)
        data = self._http.json_of(response)
        body = {"id": session_id, **data} if isinstance(data, dict) else data
        return self._read_snapshot(self._parse(SessionResource, body), data)

    def _reason(self, value: Any) -> str | None:
        """A failure reason as it may be stored and shown: text only, scrubbed."""
        return self._scrub(value) if isinstance(value, str) else None

    def _failure(self, session_id: str, reason: Any) -> str:
        raw_status = join_failed(self._reason(reason))
        if raw_status != FAILED:
            self._memory.note_failure(session_id, raw_status)
        return raw_status

    def _note_step(self, session_id: str, step: Any) -> None:
        """Remember a verified step's verdict (a `step.completed` or a results item)."""
        index, primitive = step.index, step.primitive_name
        if index is not None and primitive:
            found = verdict(primitive, step.model_dump())
            self._memory.note_verdict(session_id, index, primitive, found)

    def _note_results(self, session: SessionResource) -> None:
        """A read's verdicts, and its step list once every type is known."""
        for result in session.results or ():
            self._note_step(session.id, result)
        types = step_types(session, self._memory.get(session.id))
        if types and all(types):
            self._memory.note_types(session.id, tuple(t for t in types if t))

    def _parse(self, model: type[_Model], data: Any) -> _Model:
        return parse_answer("UIP", model, data)

    def _created_snapshot(
        self, created: CreateResponse, data: Any, request: CreateSessionRequest
    ) -> SessionSnapshot:
        raw_status = created.status
        fresh = raw_status == CREATED
        return self.snapshot_of(
            created.id,
            raw_status,
            environment=self.environment,
            verification_url=created.url,
            client_reference=request.client_reference,
            metadata=request.metadata,
            # The vendor's own expiry: `expires` on create (GET says `expires_at`).
            expires_at=created.expires or created.expires_at,
            occurred_at=created.created_at,
            raw=data if isinstance(data, dict) else {"data": data},
            # What we asked for, all pending — only for a new session (an idempotent replay
            # of an older one may be further along: its read will tell).
            steps=_requested_steps(request.steps) if fresh else (),
            current_step=0 if fresh else None,
        )

    def _read_snapshot(self, session: SessionResource, data: Any) -> SessionSnapshot:
        raw = data if isinstance(data, dict) else {"data": data}
        self._note_results(session)
        known = self._memory.get(session.id)
        raw_status = raw_status_of(session, raw, known, self._reason)
        status = self.map_status(raw_status)
        if raw_status == COMPLETED:
            self._memory.note_approved(session.id)
        steps, current = derive_steps(session, known)
        # A failure learnt by reading has no reason of its own: it never outranks an event.
        occurred_at = None if split_status(raw_status)[0] == FAILED else session.updated_at
        return SessionSnapshot(
            provider_session_id=session.id,
            provider_status=raw_status,
            status=status,
            environment=self.environment,
            verification_url=session.url,
            client_reference=session.client_reference_id or None,
            metadata=session.metadata if isinstance(session.metadata, dict) else None,
            expires_at=session.expires_at or session.expires,
            decision=decision(status, raw_status, session.results or (), session.updated_at),
            occurred_at=occurred_at,
            raw=raw,
            timeline=timeline(session),
            steps=steps,
            current_step=current,
            results=read_results(session),
        )


def _end_of_signing_second(signed_at: int) -> datetime:
    """`X-UIP-Timestamp` is whole "Unix seconds when signed": the signing, after the failure,
    happened within that second, so its last microsecond is a time the failure is not later
    than (the second itself could be earlier than a progress time read with a fraction)."""
    return datetime.fromtimestamp(signed_at, UTC) + timedelta(seconds=1, microseconds=-1)


def _requested_steps(steps: tuple[StepRequest, ...]) -> tuple[StepProgress, ...]:
    return tuple(
        StepProgress(index=i, type=step.type.value, state=StepState.PENDING, gate=step.gate)
        for i, step in enumerate(steps)
    )


def _validated(model: type[_Model], data: Any) -> _Model:
    return parse_webhook_body("a UIP webhook", model, data)
