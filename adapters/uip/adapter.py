"""UIP adapter: REST `/v1` with a Bearer key, ordered steps with gates, `Idempotency-Key` on
create, signed `step.completed` / `session.*` webhooks, expiry seen only by reading
(providers/uip.md). Translation only — wire shapes live in `wire.py`, the status table in
`statuses.py`, errors in `errors.py`, assumptions in `inferred.py`.

PII: the claims a step returns (`claims`, and the other step results) stay in a snapshot's
restricted `raw`; step progress, decisions, errors and logs carry only states, indices,
primitive names and codes.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar
from urllib.parse import quote, urlparse

import httpx
from pydantic import BaseModel

from adapters.base import (
    JSON,
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    DecidedBy,
    Decision,
    ErrorCode,
    ProviderAdapter,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionSnapshot,
    SessionStatus,
    StepProgress,
    StepRequest,
    StepState,
    StepType,
    TimelineEntry,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.idempotency import IdempotentVendorHttp, derive_key
from adapters.common.scrub import Scrubber
from adapters.common.validation import bad_input, parse_answer, parse_webhook_body
from adapters.common.webhook_body import parse_json_object
from adapters.uip import inferred
from adapters.uip.errors import (
    EXPIRES_IN_FIELD,
    IDEMPOTENCY_FIELD,
    INPUT,
    METADATA_FIELD,
    STEPS_FIELD,
    Operation,
    map_error,
)
from adapters.uip.signature import DELIVERY_ID_HEADER, lower_headers, verify_signature
from adapters.uip.statuses import (
    AWAITING_DECISION,
    COMPLETED,
    CREATED,
    EXPIRED,
    FAILED,
    IN_PROGRESS,
    OUTCOMES,
    STOPPED,
    UIP_STATUSES,
    VOCABULARY,
    allowed_actions,
    join_failed,
    map_uip_status,
    split_status,
)
from adapters.uip.wire import (
    EXPIRES_IN_MAX,
    EXPIRES_IN_MIN,
    METADATA_MAX_KEYS,
    MIN_AGE_RANGE,
    PRIMITIVES,
    STEP_TYPES,
    UNAVAILABLE,
    CreateResponse,
    CreateSessionBody,
    SessionResource,
    StepResult,
    WebhookEnvelope,
    step_json,
)

log = logging.getLogger(__name__)

VENDOR = "UIP"
STEP_COMPLETED_EVENT = "step.completed"
FAILED_EVENT = "session.failed"
#: §1.4 terminal events that name their status [V].
SESSION_EVENTS: Mapping[str, str] = {
    "session.completed": COMPLETED,
    "session.stopped": STOPPED,
}
SESSION_EVENT_PREFIX = "session."

#: Normalized request fields UIP has no use for, ignored on purpose: `language` — the hosted
#: page picks its own (no create field, §1.2).
IGNORED_REQUEST_FIELDS = ("language",)
#: Normalized request fields UIP cannot honour: refused rather than silently dropped, because
#: the integrator would believe they had an effect (UIP never contacts the person, has no
#: workflows, and does not compare the credential with expected data).
UNSUPPORTED_REQUEST_FIELDS: Mapping[str, str] = {
    "contact": "contact",
    "expected_person": "expectedPerson",
    "workflow_id": "workflowId",
}

#: Decision warnings summarising step results (codes only, never the values).
AGE_NOT_SATISFIED = "age_verify_not_satisfied"
BLOCK_UNAVAILABLE = "identify_{block}_unavailable"
#: §1.2 identify blocks (+ the unmapped `full_name`); other names get a generic warning.
KNOWN_BLOCKS: frozenset[str] = frozenset(
    {"first_name", "last_name", "dob", "country", "document_number", "portrait", "full_name"}
)
ANY_BLOCK_UNAVAILABLE = "identify_block_unavailable"

_Model = TypeVar("_Model", bound=BaseModel)
#: The kind of call being made by this task: error statuses mean different things per call.
_OPERATION: ContextVar[Operation] = ContextVar("uip_operation", default=Operation.READ)


@contextmanager
def _operation(operation: Operation) -> Iterator[None]:
    token = _OPERATION.set(operation)
    try:
        yield
    finally:
        _OPERATION.reset(token)


def _bad_input(message: str, *field: str) -> ProviderError:
    return bad_input(message, *field)


def _api_prefix(base_url: str) -> str:
    """`/v1`, unless the configured base already ends with it (the doc's spelling)."""
    path = urlparse(base_url).path.rstrip("/")
    return "" if path.endswith(inferred.API_PREFIX) else inferred.API_PREFIX


class UipAdapter(ProviderAdapter):
    rate_limit_per_minute = inferred.RATE_LIMIT_PER_MINUTE
    name = "uip"
    default_base_url = inferred.DEFAULT_BASE_URL
    credential_keys = ("api_key", "webhook_secret")
    poll_policy = inferred.POLL_POLICY
    capabilities: ClassVar[frozenset[Capability]] = frozenset(
        {
            Capability.CREATE,
            Capability.READ,
            Capability.REFRESH,
            Capability.CONTINUE,
            Capability.CANCEL,  # = stop, at a gate only
            Capability.STEPS,
            Capability.WEBHOOKS,
            Capability.POLLING,  # expiry has no webhook (§1.4)
        }
    )  # no LIST / DECIDE / UPDATE_METADATA / RESUME / REPROCESS / REDACT: not offered (§1.1)

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        self._scrub = Scrubber((*config.secrets_to_scrub, config.api_key, config.webhook_secret))
        self._prefix = _api_prefix(config.base_url)
        self._http = IdempotentVendorHttp(
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
        body = self._create_body(request)  # validated before any call
        key = derive_key(inferred.IDEMPOTENCY_SCOPE, _caller_key(request.idempotency_key))
        with _operation(Operation.CREATE):
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
        return self._created_snapshot(created, data, request)

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        path = self._path(provider_session_id)
        with _operation(Operation.READ):
            response = await self._http.request("GET", path)
        data = self._http.json_of(response)
        return self._read_snapshot(self._parse(SessionResource, data), data)

    async def continue_session(self, provider_session_id: str) -> SessionSnapshot | None:
        return await self._gate_action(provider_session_id, "continue")

    async def cancel_session(self, provider_session_id: str) -> SessionSnapshot | None:
        """UIP's `stop`: ends a session paused at a gate (nothing else can end one)."""
        return await self._gate_action(provider_session_id, "stop")

    def needs_polling(self, provider_status: str) -> bool:
        """Expiry is lazy and has no webhook (§1.3, §1.4): every state that is not final can
        turn `expired` unseen, so all of them are polled (an unknown one too)."""
        status = self.map_status(provider_status)
        return status is None or not status.is_final

    def session_capabilities(self, provider_status: str | None) -> frozenset[Capability]:
        return allowed_actions(provider_status) & self.capabilities

    # -- status table ---------------------------------------------------------------------
    def map_status(self, provider_status: str) -> SessionStatus | None:
        return map_uip_status(provider_status)

    @classmethod
    def vocabulary(cls) -> frozenset[str]:
        return VOCABULARY

    # -- webhooks -------------------------------------------------------------------------
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        signed_at = verify_signature(
            body,
            headers,
            secret=self.config.webhook_secret,
            now=self.config.clock(),
            tolerance_s=self.config.webhook_tolerance_s,
        )
        payload = parse_json_object(body)  # only once the bytes are authentic
        envelope = _validated(WebhookEnvelope, payload)
        raw_data: JSON = payload["data"]
        data = envelope.data
        event = envelope.event
        session_id = data.session_id or None
        dedupe_key = _dedupe_key(lower_headers(headers).get(DELIVERY_ID_HEADER), payload)

        raw_status: str | None = None
        refetch = False
        current_step: int | None = None
        if event == STEP_COMPLETED_EVENT:
            gate = raw_data.get(inferred.STEP_EVENT_GATE_KEY)
            raw_status = AWAITING_DECISION if gate is True else IN_PROGRESS
            refetch = not isinstance(gate, bool)  # gated or not: the read will tell
            index = data.index
            current_step = index + 1 if index is not None else None
        elif event in SESSION_EVENTS:
            raw_status = SESSION_EVENTS[event]
        elif event == FAILED_EVENT:
            raw_status = join_failed(self._reason(data.reason))
        elif event.startswith(SESSION_EVENT_PREFIX):
            # Undocumented session event: its `status` if it is one of ours, else a read.
            if data.status in UIP_STATUSES:
                raw_status = (
                    join_failed(self._reason(data.reason)) if data.status == FAILED else data.status
                )
            else:
                refetch = True
            log.info("uip webhook: undocumented session event", extra={"event": event[:64]})
        else:
            log.info("uip webhook: event about something else", extra={"event": event[:64]})

        if (raw_status is not None or refetch) and not session_id:
            raise WebhookRejected(WebhookRejectReason.MALFORMED, f"{event[:64]} without session_id")
        snapshot: SessionSnapshot | None = None
        if raw_status is not None and session_id:
            status = self.map_status(raw_status)
            snapshot = SessionSnapshot(
                provider_session_id=session_id,
                provider_status=raw_status,
                status=status,
                environment=self.environment,
                client_reference=data.client_reference_id or None,
                metadata=data.metadata if isinstance(data.metadata, dict) else None,
                decision=_decision(status, raw_status, ()),
                occurred_at=(
                    datetime.fromtimestamp(signed_at, UTC)
                    if inferred.SIGNING_TIME_IS_EVENT_TIME
                    else None
                ),
                raw=payload,
                current_step=current_step,
            )
        return [
            WebhookEvent(
                dedupe_key=dedupe_key,
                event_type=event,
                provider_session_id=session_id,
                snapshot=snapshot,
                received_payload=payload,
                refetch=refetch and session_id is not None,
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
        """`/v1/sessions[/{id}[/{action}]]` — quoted id (§1.1 paths)."""
        path = f"{self._prefix}/sessions"
        if session_id is None:
            return path
        if not session_id:
            raise _bad_input("a provider session id is required", "providerSessionId")
        path = f"{path}/{quote(session_id, safe='')}"
        return f"{path}/{action}" if action else path

    async def _gate_action(self, session_id: str, action: str) -> SessionSnapshot:
        """continue / stop: no body; valid only in `awaiting_decision` — elsewhere the
        vendor's refusal (409 or 400) is PROVIDER_REJECTED with its reason."""
        path = self._path(session_id, action)
        with _operation(Operation.GATE):
            response = await self._http.request("POST", path)
        data = self._http.json_of(response)
        body = {"id": session_id, **data} if isinstance(data, dict) else data
        return self._read_snapshot(self._parse(SessionResource, body), data)

    def _reason(self, value: Any) -> str | None:
        """A failure reason as it may be stored and shown: text only, scrubbed."""
        return self._scrub(value) if isinstance(value, str) else None

    def _parse(self, model: type[_Model], data: Any) -> _Model:
        return parse_answer("UIP", model, data)

    def _created_snapshot(
        self, created: CreateResponse, data: Any, request: CreateSessionRequest
    ) -> SessionSnapshot:
        raw_status = created.status
        fresh = raw_status == CREATED
        return SessionSnapshot(
            provider_session_id=created.id,
            provider_status=raw_status,
            status=self.map_status(raw_status),
            environment=self.environment,
            verification_url=created.url,
            client_reference=request.client_reference,
            metadata=request.metadata,
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
        raw_status = session.status
        if raw_status == FAILED:
            reason = next((raw.get(k) for k in inferred.READ_REASON_KEYS if raw.get(k)), None)
            raw_status = join_failed(self._reason(reason))
        status = self.map_status(raw_status)
        steps, current = derive_steps(session)
        return SessionSnapshot(
            provider_session_id=session.id,
            provider_status=raw_status,
            status=status,
            environment=self.environment,
            verification_url=session.url,
            client_reference=session.client_reference_id or None,
            metadata=session.metadata if isinstance(session.metadata, dict) else None,
            expires_at=session.expires_at or session.expires,
            decision=_decision(status, raw_status, session.results or (), session.updated_at),
            occurred_at=session.updated_at,
            raw=raw,
            timeline=_timeline(session),
            steps=steps,
            current_step=current,
        )

    def _create_body(self, request: CreateSessionRequest) -> CreateSessionBody:
        for key in request.provider_options or {}:
            raise _bad_input(f"unknown UIP option '{key}'", "providerOptions", str(key))
        for attr, field in UNSUPPORTED_REQUEST_FIELDS.items():
            if getattr(request, attr) is not None:
                raise ProviderError(
                    ErrorCode.UNSUPPORTED_BY_PROVIDER,
                    f"UIP does not support '{field}' on a session",
                    field=(INPUT, field),
                )
        return CreateSessionBody(
            steps=_steps(request.steps),
            client_reference_id=_client_reference(request.client_reference),
            metadata=_metadata(request.metadata),
            return_url=_return_url(request.return_url),
            expires_in=_expires_in(request.expires_in),
        )


# -- create validation (§1.2 Create, all before any call) -------------------------------------
def _caller_key(value: str | None) -> str | None:
    if value is not None and not (isinstance(value, str) and value.strip()):
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT,
            "idempotency key must be a non-empty string",
            field=IDEMPOTENCY_FIELD,
        )
    return value


def _steps(steps: Sequence[StepRequest]) -> list[JSON]:
    if not steps:
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT, "UIP needs at least one step", field=STEPS_FIELD
        )
    out: list[JSON] = []
    for index, step in enumerate(steps):
        where = (*STEPS_FIELD, str(index))
        if not isinstance(step, StepRequest) or step.type not in PRIMITIVES:
            raise ProviderError(
                ErrorCode.BAD_USER_INPUT, f"steps[{index}]: unknown step type", field=where
            )
        if not isinstance(step.gate, bool):
            raise ProviderError(
                ErrorCode.BAD_USER_INPUT, f"steps[{index}].gate must be a boolean", field=where
            )
        _check_params(index, step, where)
        out.append(step_json(step))
    return out


def _check_params(index: int, step: StepRequest, where: tuple[str, ...]) -> None:
    """The documented parameters (§1.2 Primitives); anything else is left to UIP."""
    params = step.params
    prefix = f"steps[{index}].params"

    def bad(message: str) -> ProviderError:
        return ProviderError(ErrorCode.BAD_USER_INPUT, f"{prefix}{message}", field=where)

    if not isinstance(params, dict) or not all(isinstance(k, str) for k in params):
        raise bad(" must be an object")
    if step.type is StepType.AGE_VERIFY and "min_age" in params:
        min_age = params["min_age"]
        low, high = MIN_AGE_RANGE
        if isinstance(min_age, bool) or not isinstance(min_age, int) or not low <= min_age <= high:
            raise bad(f".min_age must be an integer from {low} to {high}")
    if step.type is StepType.IDENTIFY and "blocks" in params:
        blocks = params["blocks"]
        if (
            not isinstance(blocks, list)
            or not blocks
            or not all(isinstance(b, str) and b for b in blocks)
        ):
            raise bad(".blocks must be a non-empty list of block names")
    if step.type is StepType.LIGHT_SIGN:
        text = params.get(inferred.LIGHT_SIGN_TEXT_PARAM)
        if not isinstance(text, str) or not text.strip():
            raise bad(f".{inferred.LIGHT_SIGN_TEXT_PARAM}: the terms to sign are required")


def _client_reference(value: str | None) -> str | None:
    if value is not None and not (isinstance(value, str) and value):
        raise _bad_input("clientReference must be a non-empty string", "clientReference")
    return value


def _metadata(value: JSON | None) -> dict[str, str] | None:
    """§1.2: "Up to 50 string-valued keys"."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT, "metadata must be an object", field=METADATA_FIELD
        )
    if len(value) > METADATA_MAX_KEYS:
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT,
            f"UIP accepts at most {METADATA_MAX_KEYS} metadata keys",
            field=METADATA_FIELD,
        )
    for key, item in value.items():
        if not isinstance(key, str) or not key or not isinstance(item, str):
            raise ProviderError(
                ErrorCode.BAD_USER_INPUT,
                "UIP metadata values must be strings (with non-empty keys)",
                field=METADATA_FIELD,
            )
    return dict(value)


def _return_url(value: str | None) -> str | None:
    """§1.2: `return_url` is an https URL."""
    if value is None:
        return None
    try:
        parts = urlparse(value) if isinstance(value, str) else None
    except ValueError:
        parts = None
    if parts is None or parts.scheme != "https" or not parts.netloc:
        raise _bad_input("returnUrl must be an absolute https URL for UIP", "returnUrl")
    return value


def _expires_in(value: int | None) -> int | None:
    """§1.2: `expires_in` seconds, 60 to 86400."""
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not EXPIRES_IN_MIN <= value <= EXPIRES_IN_MAX
    ):
        raise ProviderError(
            ErrorCode.BAD_USER_INPUT,
            f"expiresIn must be {EXPIRES_IN_MIN}-{EXPIRES_IN_MAX} seconds for UIP",
            field=EXPIRES_IN_FIELD,
        )
    return value


# -- snapshot helpers -----------------------------------------------------------------------
def _requested_steps(steps: Sequence[StepRequest]) -> tuple[StepProgress, ...]:
    return tuple(
        StepProgress(index=i, type=step.type.value, state=StepState.PENDING, gate=step.gate)
        for i, step in enumerate(steps)
    )


def _step_type(primitive: str) -> str:
    """The normalized StepType value when known, else UIP's name."""
    known = STEP_TYPES.get(primitive)
    return known.value if known is not None else primitive


def _verified(session: SessionResource, count: int) -> set[int]:
    """Indices of the verified steps: Version B lists them (`results`); for Version A they
    follow from `status` and `current_step` (inferred.GATED_STEP_IS_CURRENT_STEP)."""
    status = split_status(session.status)[0]
    if status == COMPLETED:
        return set(range(count))
    if session.results is not None:
        return {i for r in session.results if (i := r.index) is not None and i < count}
    current = session.current_step
    if current is None or status == CREATED:
        return set()
    current = min(current, count)
    if status in (AWAITING_DECISION, STOPPED) and inferred.GATED_STEP_IS_CURRENT_STEP:
        return set(range(min(current + 1, count)))
    return set(range(current))


def derive_steps(session: SessionResource) -> tuple[tuple[StepProgress, ...], int | None]:
    """(step progress, current step) from a read or an action answer.

    The current step is the first one not verified (the one the person is on, or will be on
    after a gate), the step count once all are verified. The list is given only when every
    step's type is known (Version A's `primitives`, results, `current_primitive`): a partial
    list would replace the gateway's. `gate` is known only for the step a session is paused
    (or was stopped) at.
    """
    primitives = session.primitives or []
    count = session.step_count if session.step_count is not None else len(primitives) or None
    if count is None or count == 0:
        return (), None
    types: list[str | None] = [None] * count
    completed_at: dict[int, datetime] = {}
    for i, primitive in enumerate(primitives[:count]):
        types[i] = primitive if isinstance(primitive, str) and primitive else None
    for result in session.results or ():
        i = result.index
        if i is not None and i < count:
            types[i] = result.primitive_name or types[i]
            if result.verified_at is not None:
                completed_at[i] = result.verified_at
    current = session.current_step
    if session.current_primitive and current is not None and current < count:
        types[current] = session.current_primitive
    verified = _verified(session, count)
    following = next((i for i in range(count) if i not in verified), count)
    if None in types:
        return (), following
    status = split_status(session.status)[0]
    gated = max(verified) if verified and status in (AWAITING_DECISION, STOPPED) else None
    steps = tuple(
        StepProgress(
            index=i,
            type=_step_type(types[i] or ""),
            state=_state(i, status, verified, following),
            gate=i == gated,
            completed_at=completed_at.get(i),
        )
        for i in range(count)
    )
    return steps, following


def _state(index: int, status: str, verified: set[int], following: int) -> StepState:
    if index in verified:
        return StepState.COMPLETED
    if status == IN_PROGRESS:
        return StepState.IN_PROGRESS if index == following else StepState.PENDING
    if status == FAILED:
        return StepState.FAILED if index == following else StepState.SKIPPED
    if status in (STOPPED, EXPIRED):
        return StepState.SKIPPED  # "remaining steps are skipped" / "emits no further steps"
    return StepState.PENDING


def _timeline(session: SessionResource) -> tuple[TimelineEntry, ...]:
    """The only per-state time documented on reads is `created_at` (Version A)."""
    if session.created_at is None or session.status == CREATED:
        return ()
    return (TimelineEntry(SessionStatus.CREATED, CREATED, session.created_at),)


def _summary(results: Sequence[StepResult]) -> tuple[str, ...]:
    """Non-PII codes about step results: an unmet age, identity blocks that came back
    "unavailable" (the names of the blocks, never their values)."""
    codes: list[str] = []
    for result in results:
        if result.primitive_name == PRIMITIVES[StepType.AGE_VERIFY] and result.satisfied is False:
            codes.append(AGE_NOT_SATISFIED)
        if isinstance(result.claims, dict):
            for block, value in result.claims.items():
                if value != UNAVAILABLE:
                    continue
                known = block in KNOWN_BLOCKS
                codes.append(
                    BLOCK_UNAVAILABLE.format(block=block) if known else ANY_BLOCK_UNAVAILABLE
                )
    return tuple(dict.fromkeys(codes))


def _decision(
    status: SessionStatus | None,
    raw_status: str,
    results: Sequence[StepResult],
    decided_at: datetime | None = None,
) -> Decision | None:
    """APPROVED for `completed`, DECLINED for a verification failure (its reason as a code
    when code-like); no decision for the other statuses."""
    outcome = OUTCOMES.get(status) if status is not None else None
    if outcome is None:
        return None
    reasons: tuple[str, ...] = ()
    if status is SessionStatus.DECLINED:
        reason = (split_status(raw_status)[1] or "").strip()
        code = reason if inferred.REASON_CODE.fullmatch(reason) else None
        reasons = (code or inferred.VERIFICATION_FAILED_CODE,)
    return Decision(
        outcome=outcome,
        decided_by=DecidedBy.PROVIDER,
        reason_codes=reasons,
        warnings=_summary(results),
        decided_at=decided_at,
    )


# -- webhook helpers ------------------------------------------------------------------------
def _validated(model: type[_Model], data: Any) -> _Model:
    return parse_webhook_body("a UIP webhook", model, data)


def _dedupe_key(delivery_id: str | None, payload: JSON) -> str:
    """`X-UIP-Delivery-Id` ("identical across retries", §1.4), else a content hash (an
    identical redelivery is still a duplicate)."""
    if delivery_id and delivery_id.strip():
        return delivery_id.strip()
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return "sha256:" + hashlib.sha256(canonical.encode("ascii")).hexdigest()
