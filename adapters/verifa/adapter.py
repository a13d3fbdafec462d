"""Verifa adapter: REST `/api/v1` with `X-API-Key`, signed `session.*` webhooks, session +
result reads, external-gate decisions and review cases (docs/vendors/verifa.md). Translation
only — wire shapes live in `wire.py`, the status tables in `statuses.py`, errors in `errors.py`,
what each create field becomes in `inputs.py`, assumptions in `inferred.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlencode, urlparse

from adapters.base import (
    JSON,
    SESSION_BASICS,
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    DecidedBy,
    Decision,
    DecisionAction,
    Environment,
    ErrorCode,
    Outcome,
    ProviderAdapter,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionPage,
    SessionSnapshot,
    SessionStatus,
    StatusReading,
    TimelineEntry,
    UnsupportedByProvider,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.idempotency import IdempotentVendorHttp, derive_key
from adapters.common.scrub import Scrubber
from adapters.common.validation import ModelT, bad_input, parse_answer, parse_webhook_body
from adapters.common.webhook_body import signed_body_key
from adapters.results import CheckKind, Results
from adapters.verifa import inferred
from adapters.verifa.errors import DOCUMENT_COUNTRY_FIELD, INPUT, map_error
from adapters.verifa.inputs import INPUT_SUPPORT
from adapters.verifa.results import TABLES, read_result
from adapters.verifa.signature import VerifaScheme
from adapters.verifa.statuses import (
    ACTIONS_BY_STATUS,
    ALWAYS_ALLOWED,
    AWAITING_EXTERNAL,
    COMPLETED,
    OUTCOMES,
    POLLED,
    RESULT_STATUS_MAP,
    RESULT_STATUSES,
    STATUS_TABLE,
    UNDER_REVIEW,
    VERIFA_STATUSES,
    join_status,
    split_status,
)
from adapters.verifa.wire import (
    ALPHA3_TO_ALPHA2,
    API_VERSION,
    KEY_INFLECTION,
    LIST_PAGE_MAX,
    CaseClaimBody,
    CaseDecisionBody,
    CreateSessionBody,
    ExternalDecisionBody,
    LinkBody,
    LinkResponse,
    ReprocessResponse,
    ResultResource,
    SessionList,
    SessionResource,
    UpdateSessionBody,
    WebhookData,
    WebhookEnvelope,
    WebhookPayload,
    WebhookResult,
    snake_keys,
)

#: Every event about a session is named `session.*`.
SESSION_EVENT_PREFIX = "session."
#: "Fired when the workflow engine flags a session for manual review": its result's status.
REVIEW_EVENT = "session.requires-review"
REVIEW_RESULT_STATUS = "needs_review"
#: Scope of the Idempotency-Keys derived from the caller's key (one per kind of write).
CREATE_KEY_SCOPE = "verifa:create"
CREATE_LINK_KEY_SCOPE = "verifa:create-link"
#: The adapter option (`KYCGW_VERIFA_REVIEWER_ID`) naming the org user our case decisions are
#: made as: Verifa's approve / reject require a `reviewer_id`.
REVIEWER_OPTION = "reviewer_id"

#: Verifa-only create fields accepted through `providerOptions`.
PROVIDER_OPTIONS: frozenset[str] = frozenset({"country", "checks", "send_email", "fields"})

#: The external-gate decisions (Submit external gate decision).
GATE_CONTINUE = "continue"
GATE_REJECT = "reject"
#: decideSession at a gate: APPROVE lets the workflow carry on, DECLINE rejects at once.
#: (`fail`, "apply the gate step's on_fail action", has no normalized decision.)
GATE_DECISIONS: Mapping[DecisionAction, str] = {
    DecisionAction.APPROVE: GATE_CONTINUE,
    DecisionAction.DECLINE: GATE_REJECT,
}
#: What each decision makes the session, when Verifa has already applied it.
DECIDED_OUTCOMES: Mapping[DecisionAction, Outcome] = {
    DecisionAction.APPROVE: Outcome.APPROVED,
    DecisionAction.DECLINE: Outcome.DECLINED,
}

#: Our reason / warning codes for the result's check flags (no PII, only outcomes).
FACE_MATCH_FAILED = "face_match_failed"
AGE_CHECK_FAILED = "age_check_failed"
SENSITIVE_DATA_EXPIRED = "sensitive_data_expired"

_FALSE_OPTION_VALUES = frozenset({"0", "false", "no", "off"})


def _api_prefix(base_url: str) -> str:
    """`/api/v1`, unless the configured base already ends with it (the doc's spelling)."""
    path = urlparse(base_url).path.rstrip("/")
    return "" if path.endswith(inferred.API_PREFIX) else inferred.API_PREFIX


def _link_minutes(expires_in_s: int) -> int:
    """`expiresIn` (seconds) as Verifa's whole minutes, rounded up (never less time)."""
    return max(1, math.ceil(expires_in_s / 60))


def _fresh_key() -> str:
    """One key per write call, shared by that call's retries."""
    return derive_key("verifa", None)


#: A `list_page` cursor: the next offset, as this adapter writes it.
_CURSOR = re.compile(r"0|[1-9][0-9]{0,17}")


def _offset(cursor: str | None) -> int:
    """The offset a cursor of this list names (None: the first page); anything else —
    another vendor's cursor, a URL, a negative or padded number — is refused."""
    if cursor is None:
        return 0
    if not isinstance(cursor, str) or not _CURSOR.fullmatch(cursor):
        raise bad_input("not a cursor of this list", "cursor")
    return int(cursor)


def _utc(moment: datetime | None) -> datetime | None:
    """An ISO 8601 time without a zone is UTC (every documented example ends in `Z`)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class VerifaAdapter(ProviderAdapter):
    rate_limit_per_minute = inferred.RATE_LIMIT_PER_MINUTE
    name = "verifa"
    default_base_url = inferred.DEFAULT_BASE_URL
    poll_policy = inferred.POLL_POLICY
    input_support = INPUT_SUPPORT
    status_table = STATUS_TABLE
    always_allowed = ALWAYS_ALLOWED
    actions_by_status = ACTIONS_BY_STATUS
    polled_statuses = POLLED
    #: docs/vendors/verifa.md, Results: the workflow checks and the risk assessment.
    check_tables = TABLES
    #: A normal flow: document OCR, face match, the age check and the auto-injected
    #: watchlist screening (docs/results.md, Verifa).
    check_kinds = frozenset(
        {CheckKind.DOCUMENT, CheckKind.FACE_MATCH, CheckKind.AGE, CheckKind.AML}
    )
    capabilities: ClassVar[frozenset[Capability]] = SESSION_BASICS | frozenset(
        {
            Capability.CANCEL,  # = expire
            Capability.DECIDE,  # external gate (continue / reject) or the review case
            Capability.CONTINUE,  # external gate: continue
            Capability.RESUME,
            Capability.REPROCESS,
            Capability.UPDATE_METADATA,
            Capability.ISSUE_LINK,
            Capability.LIST,
            Capability.REDACT,
            Capability.WEBHOOKS,
            Capability.POLLING,
        }
    )
    #: docs/vendors/verifa.md, Redaction: PII fields and images go, the session record stays.
    redaction_leaves = (
        "Verifa zeroes the session's personal fields and deletes its document images, but "
        "keeps the session record (status, verification outcome, external_ref and metadata) "
        "until the organization's data_retention_days end; the identity Verifa links to the "
        "external_ref is not redacted with the session (Verifa redacts identities apart).",
    )

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        self._scrub = Scrubber.of(config)
        self._prefix = _api_prefix(config.base_url)
        self._http = IdempotentVendorHttp(
            config,
            vendor="Verifa",
            headers={
                "X-API-Key": config.api_key,
                "Verifa-Version": API_VERSION,
                "Key-Inflection": KEY_INFLECTION,
                "Accept": "application/json",
            },
            error_mapper=lambda response: map_error(response, self._scrub, now=config.clock()),
        )
        legacy = config.options.get("legacy_signatures")
        self._accept_legacy = (
            inferred.LEGACY_SIGNATURES_ACCEPTED
            if legacy is None
            else legacy.strip().lower() not in _FALSE_OPTION_VALUES
        )

    # -- sessions -----------------------------------------------------------------------
    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot:
        """POST /sessions with one Idempotency-Key, retried with that same key on timeouts
        and 5xx (Verifa keeps keys 24 h); an `expiresIn` becomes a one-time link."""
        body = self._create_body(request)
        try:
            response = await self._http.request_with_key(
                "POST",
                self._path(),
                key=derive_key(CREATE_KEY_SCOPE, request.idempotency_key),
                json=body.to_json(),
                expected=inferred.CREATE_SUCCESS_STATUSES,
                conflict_statuses=inferred.IDEMPOTENCY_IN_PROGRESS_STATUSES,
            )
        except ProviderError as exc:
            _point_country_error(exc, request)
            raise
        data = self._http.json_of(response)
        snapshot = self._snapshot(self._parse(SessionResource, data), data)
        if request.expires_in is None:
            return snapshot
        link_data = await self._generate_link(
            snapshot.provider_session_id,
            LinkBody(expires_in_minutes=_link_minutes(request.expires_in)),
            key=derive_key(CREATE_LINK_KEY_SCOPE, request.idempotency_key),
        )
        return self._with_link(snapshot, link_data, raw={**snapshot.raw, "link": link_data})

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        data = await self._read_session(provider_session_id)
        return await self._with_result(self._parse(SessionResource, data), data)

    async def cancel_session(self, provider_session_id: str) -> SessionSnapshot | None:
        return await self._action(provider_session_id, inferred.EXPIRE_SEGMENT)

    async def resume_session(self, provider_session_id: str) -> SessionSnapshot | None:
        return await self._action(provider_session_id, "resume")

    async def continue_session(self, provider_session_id: str) -> SessionSnapshot | None:
        """A session paused at an external gate goes on (`continue`); Verifa refuses (409)
        any other session, in its own words."""
        await self._external_decision(provider_session_id, GATE_CONTINUE, None)
        return await self.fetch_session(provider_session_id)

    async def decide_session(
        self, provider_session_id: str, action: DecisionAction, reason: str | None
    ) -> SessionSnapshot | None:
        """At an external gate: continue (APPROVE) or reject (DECLINE). Under review: the
        session's review case is approved or rejected by our reviewer. The answer is a fresh
        read, its decision ours when Verifa has already applied it."""
        if action not in DECIDED_OUTCOMES:
            raise UnsupportedByProvider(self.name, "request a resubmission")
        session = self._parse(SessionResource, await self._read_session(provider_session_id))
        if session.status == AWAITING_EXTERNAL:
            metadata = {"reason": reason} if reason else None
            await self._external_decision(provider_session_id, GATE_DECISIONS[action], metadata)
        elif session.status == UNDER_REVIEW:
            await self._decide_case(session, action, reason)
        else:
            raise ProviderError(
                ErrorCode.PROVIDER_REJECTED,
                f"Verifa takes a decision only on a session awaiting_external or under_review; "
                f"this one is {session.status}",
                provider_code="invalid_session_state",
            )
        snapshot = await self.fetch_session(provider_session_id)
        decision = snapshot.decision
        if decision is not None and decision.outcome is DECIDED_OUTCOMES[action]:
            decision = replace(decision, decided_by=DecidedBy.INTEGRATOR)
            snapshot = replace(snapshot, decision=decision)
        return snapshot

    async def reprocess_session(self, provider_session_id: str) -> SessionSnapshot | None:
        # Reprocess documents no Idempotency-Key: a plain POST, never retried.
        response = await self._http.request(
            "POST",
            self._path(provider_session_id, inferred.REPROCESS_SEGMENT),
            expected=inferred.REPROCESS_SUCCESS_STATUSES,
        )
        data = self._http.json_of(response)
        accepted = self._parse(ReprocessResponse, data)
        if accepted.status not in VERIFA_STATUSES:
            return None  # nothing usable: the gateway reads the session
        return self._bare_snapshot(
            accepted.session_id or provider_session_id, accepted.status, data
        )

    async def update_metadata(
        self, provider_session_id: str, metadata: JSON
    ) -> SessionSnapshot | None:
        body = UpdateSessionBody(metadata=metadata)
        response = await self._http.request_with_key(
            "PATCH", self._path(provider_session_id), key=_fresh_key(), json=body.to_json()
        )
        data = self._http.json_of(response)
        return await self._with_result(self._parse(SessionResource, data), data)

    async def issue_link(self, provider_session_id: str) -> SessionSnapshot:
        """A one-time link with the platform's default expiry (the documented body is an
        object; no expiry given)."""
        data = await self._generate_link(provider_session_id, LinkBody(), key=_fresh_key())
        link = self._parse(LinkResponse, data)
        if inferred.REREAD_SESSION_AFTER_LINK or link.status not in VERIFA_STATUSES:
            base = await self.fetch_session(provider_session_id)
            raw = {"link": data, **base.raw}
        else:
            base = self._bare_snapshot(provider_session_id, link.status or "", data)
            raw = {"link": data}
        return self._with_link(base, data, raw=raw)

    async def list_page(self, cursor: str | None, *, page_size: int) -> SessionPage:
        """`GET /sessions?limit=&offset=` (offset pagination, docs/vendors/verifa.md): one
        page, one request; the cursor is the next offset. Each item is the session resource,
        read as the adapter reads a session (no result per item: a completed one stays
        PROCESSING), with the vendor's `created_at`."""
        sessions, following = await self._list(_offset(cursor), page_size)
        return SessionPage(tuple(sessions), None if following is None else str(following))

    async def list_sessions(
        self, *, client_reference: str | None = None, limit: int = 100
    ) -> list[SessionSnapshot]:
        out: list[SessionSnapshot] = []
        offset: int | None = 0
        while offset is not None and len(out) < limit:
            page, offset = await self._list(offset, limit - len(out), query=client_reference)
            # `q` matches the session id or the external_ref: keep the external_ref's matches.
            out += [
                s
                for s in page
                if client_reference is None or s.client_reference in (None, client_reference)
            ]
        return out[:limit]

    async def redact_session(self, provider_session_id: str) -> None:
        await self._http.request(
            "DELETE",
            self._path(provider_session_id, inferred.REDACT_SEGMENT),
            expected=inferred.REDACT_SUCCESS_STATUSES,
        )

    # -- status table ---------------------------------------------------------------------
    @classmethod
    def read_status(cls, provider_status: object) -> StatusReading | None:
        """The session table, plus `completed:<result status>`: the result's status, in its
        own row once the result is out (an unknown result reads as `completed`, still
        polled). A result on a session that is not completed is not a status."""
        if not isinstance(provider_status, str):
            return None
        session, result = split_status(provider_status)
        if result is None:
            return super().read_status(session)
        if session != COMPLETED:
            return None
        status = RESULT_STATUS_MAP.get(result)
        return StatusReading(COMPLETED if status is None else provider_status, status)

    # -- webhooks ---------------------------------------------------------------------------
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        scheme = VerifaScheme(accept_legacy=self._accept_legacy)
        payload = scheme.check(body, headers, self.config).body
        normalized = snake_keys(payload)
        envelope = _validated(WebhookEnvelope, normalized)
        # Dedupe on signed content only: the body's `idempotency_key` ("same key on retries"),
        # else the signed bytes. `X-Verifa-Delivery-Id` is not signed: a captured delivery
        # replayed with a new one is still the same event.
        dedupe_key = envelope.idempotency_key or signed_body_key(body)
        if not envelope.event.startswith(SESSION_EVENT_PREFIX):
            # About something else (screening, identity, case, …): acknowledged and kept,
            # whatever its shape.
            return [
                WebhookEvent(
                    dedupe_key=dedupe_key,
                    event_type=envelope.event,
                    provider_session_id=_loose_session_id(normalized),
                    snapshot=None,
                    received_payload=payload,
                )
            ]
        envelope_model = _validated(WebhookPayload, normalized)
        return [self._session_event(envelope_model, payload, normalized, dedupe_key)]

    def _session_event(
        self, envelope: WebhookPayload, payload: JSON, normalized: JSON, dedupe_key: str
    ) -> WebhookEvent:
        fields = envelope.session_fields()
        session_id = fields.session_id or envelope.session_id
        nested = envelope.data is not None
        occurred_at = envelope.created_at if nested or inferred.FLAT_SHAPE_HAS_EVENT_TIME else None
        raw_status, refetch = _event_state(envelope.event, fields)
        snapshot: SessionSnapshot | None = None
        if raw_status is not None:
            if not session_id:
                raise WebhookRejected(
                    WebhookRejectReason.MALFORMED, f"{envelope.event} without session_id"
                )
            status = self.map_status(raw_status)
            snapshot = SessionSnapshot(
                provider_session_id=session_id,
                provider_status=raw_status,
                status=status,
                environment=self._environment_of(fields.is_sandbox),
                client_reference=fields.external_ref,
                decision=_decision(
                    status,
                    fields.result,
                    rejection_reason=fields.rejection_reason,
                    decided_by=DecidedBy.PROVIDER,
                    decided_at=occurred_at,
                ),
                occurred_at=occurred_at,
                raw=payload,
                results=_webhook_results(envelope.event, normalized),
            )
        return WebhookEvent(
            dedupe_key=dedupe_key,
            event_type=envelope.event,
            provider_session_id=session_id,
            snapshot=snapshot,
            received_payload=payload,
            refetch=refetch and session_id is not None,
        )

    # -- sandbox ----------------------------------------------------------------------------
    @classmethod
    def build_sandbox(cls, config: SandboxConfig) -> SandboxHandle | None:
        from adapters.verifa.sandbox import VerifaSandbox  # lazy: sandbox deps load on demand

        return VerifaSandbox(config)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------
    def _path(self, session_id: str | None = None, action: str | None = None) -> str:
        """`/api/v1/sessions[/{id}[/{action}]]` — quoted id, no trailing slash."""
        path = f"{self._prefix}/sessions"
        if session_id is None:
            return path
        if not session_id:
            raise bad_input("a provider session id is required", "providerSessionId")
        path = f"{path}/{quote(session_id, safe='')}"
        return f"{path}/{action}" if action else path

    def _case_path(self, case_id: str, action: str) -> str:
        """`/api/v1/cases/{case_id}/{action}`."""
        return f"{self._prefix}/{inferred.CASES_PATH}/{quote(case_id, safe='')}/{action}"

    async def _list(
        self, offset: int, page_size: int, *, query: str | None = None
    ) -> tuple[list[SessionSnapshot], int | None]:
        """One `GET /sessions` page from `offset` (at most LIST_PAGE_MAX items; `q` when
        filtering) and the offset of the next one, None after the last: an empty page, the
        `total` reached, or, without a total, a page shorter than asked for."""
        limit = max(1, min(page_size, LIST_PAGE_MAX))
        params: dict[str, str | int] = {"limit": limit, "offset": offset}
        if query is not None:
            params["q"] = query  # matches session id or external_ref
        response = await self._http.request("GET", f"{self._path()}?{urlencode(params)}")
        data = self._http.json_of(response)
        page = self._parse(SessionList, data)
        sessions = [
            replace(self._snapshot(item, raw), created_at=_utc(item.created_at))
            for item, raw in zip(page.data, data["data"], strict=True)
        ]
        following = offset + len(page.data)
        total = page.pagination.total if page.pagination else None
        if (
            not page.data
            or (total is not None and following >= total)
            or (total is None and len(page.data) < limit)
        ):
            return sessions, None
        return sessions, following

    async def _read_session(self, session_id: str) -> Any:
        response = await self._http.request("GET", self._path(session_id))
        return self._http.json_of(response)

    async def _action(self, session_id: str, action: str) -> SessionSnapshot:
        """A state-changing POST whose answer is (a subset of) the session resource; its
        pages accept an Idempotency-Key, so it is retried with the same key."""
        response = await self._http.request_with_key(
            "POST", self._path(session_id, action), key=_fresh_key()
        )
        data = self._http.json_of(response)
        body = {"id": session_id, **data} if isinstance(data, dict) else data
        return self._snapshot(self._parse(SessionResource, body), data)

    async def _generate_link(self, session_id: str, body: LinkBody, *, key: str) -> Any:
        response = await self._http.request_with_key(
            "POST",
            self._path(session_id, "generate-one-time-link"),
            key=key,
            json=body.to_json(),
            conflict_statuses=inferred.IDEMPOTENCY_IN_PROGRESS_STATUSES,
        )
        return self._http.json_of(response)

    def _with_link(self, base: SessionSnapshot, link_data: Any, *, raw: JSON) -> SessionSnapshot:
        """`base` with the one-time link as the person's way in."""
        link = self._parse(LinkResponse, link_data)
        expires_at = base.expires_at
        if inferred.LINK_EXPIRY_IS_SESSION_EXPIRY and link.expires_at is not None:
            expires_at = link.expires_at
        return replace(
            base,
            verification_url=link.capture_url,
            qr_code=link.qr_code_data_url or base.qr_code,
            expires_at=expires_at,
            raw=raw,
        )

    async def _external_decision(
        self, session_id: str, decision: str, metadata: JSON | None
    ) -> None:
        """Submit external gate decision. No Idempotency-Key is documented: never retried."""
        body = ExternalDecisionBody(decision=decision, metadata=metadata)
        await self._http.request(
            "POST",
            self._path(session_id, inferred.EXTERNAL_DECISION_SEGMENT),
            json=body.to_json(),
            expected=inferred.EXTERNAL_DECISION_SUCCESS_STATUSES,
        )

    async def _decide_case(
        self, session: SessionResource, action: DecisionAction, reason: str | None
    ) -> None:
        """Claim the session's review case for our reviewer, then approve or reject it."""
        reviewer = (self.config.options.get(REVIEWER_OPTION) or "").strip()
        if not reviewer:
            raise ProviderError(
                ErrorCode.UNSUPPORTED_BY_PROVIDER,
                "Verifa decides a reviewed session through its review case, as an org user: "
                "set KYCGW_VERIFA_REVIEWER_ID",
            )
        if not session.case_id:
            raise ProviderError(
                ErrorCode.PROVIDER_REJECTED,
                "Verifa shows no review case for this session",
                provider_code="no_review_case",
            )
        if inferred.CLAIM_BEFORE_DECIDING:
            await self._http.request(
                "POST",
                self._case_path(session.case_id, inferred.CASE_CLAIM_SEGMENT),
                json=CaseClaimBody(reviewer_id=reviewer).to_json(),
                expected=(200, *inferred.CLAIM_CONFLICT_STATUSES),
            )
        declined = action is DecisionAction.DECLINE
        body = CaseDecisionBody(
            reviewer_id=reviewer, notes=reason, rejection_reason=reason if declined else None
        )
        segment = inferred.CASE_REJECT_SEGMENT if declined else inferred.CASE_APPROVE_SEGMENT
        await self._http.request(
            "POST", self._case_path(session.case_id, segment), json=body.to_json()
        )

    async def _with_result(self, session: SessionResource, data: JSON) -> SessionSnapshot:
        """A completed session is only as decided as its result: read it too."""
        result_data: JSON | None = None
        result: ResultResource | None = None
        if session.status == COMPLETED:
            response = await self._http.request(
                "GET", self._path(session.id, "result"), expected=(200, 404)
            )
            if response.status_code == 200:  # 404 = "No result yet"
                result_data = self._http.json_of(response)
                result = self._parse(ResultResource, result_data)
        raw = {"session": data, "result": result_data}
        return self._snapshot(session, raw, result, read_result(result_data))

    def _snapshot(
        self,
        session: SessionResource,
        raw: Any,
        result: ResultResource | None = None,
        results: Results | None = None,
    ) -> SessionSnapshot:
        provider_status = join_status(session.status, result.status if result else None)
        status = self.map_status(provider_status)
        return SessionSnapshot(
            provider_session_id=session.id,
            provider_status=provider_status,
            status=status,
            environment=self._environment_of(session.is_sandbox),
            verification_url=session.capture_url,
            qr_code=session.qr_code_data_url,
            client_reference=session.external_ref,
            metadata=session.metadata if isinstance(session.metadata, dict) else None,
            expires_at=session.expires_at or session.token_expires_at,
            decision=_decision(status, result, decided_by=_decided_by(session)),
            occurred_at=session.expired_at or session.updated_at or session.created_at,
            raw=raw if isinstance(raw, dict) else {"data": raw},
            timeline=_timeline(session),
            results=results,
        )

    def _bare_snapshot(self, session_id: str, raw_status: str, raw: Any) -> SessionSnapshot:
        return self.snapshot_of(
            session_id,
            raw_status,
            environment=self.environment,
            raw=raw if isinstance(raw, dict) else {"data": raw},
        )

    def _environment_of(self, is_sandbox: bool | None) -> Environment:
        if is_sandbox is None:
            return self.environment
        return Environment.SANDBOX if is_sandbox else Environment.LIVE

    def _parse(self, model: type[ModelT], data: Any) -> ModelT:
        return parse_answer("Verifa", model, data)

    def _create_body(self, request: CreateSessionRequest) -> CreateSessionBody:
        options = dict(request.provider_options or {})
        for key in options:
            if key not in PROVIDER_OPTIONS:
                raise bad_input(f"unknown Verifa option '{key}'", "providerOptions", key)
        _check_options(options)
        return CreateSessionBody(
            external_ref=request.client_reference,
            country=_country(request, options),
            workflow_id=request.workflow_id or self.config.options.get("workflow_id") or None,
            checks=options.get("checks"),
            metadata=request.metadata,
            redirect_url=request.return_url,
            fields=_prefill(request, options) or None,
            send_email=options.get("send_email"),
        )


# -- create helpers -------------------------------------------------------------------------------
def _check_options(options: Mapping[str, Any]) -> None:
    country = options.get("country")
    if country is not None and not (
        isinstance(country, str) and len(country) == 2 and country.isalpha() and country.isascii()
    ):
        raise bad_input("country must be an ISO 3166-1 alpha-2 code", "providerOptions", "country")
    checks = options.get("checks")
    if checks is not None and not (
        isinstance(checks, list) and all(isinstance(c, str) and c for c in checks)
    ):
        raise bad_input("checks must be a list of check names", "providerOptions", "checks")
    send_email = options.get("send_email")
    if send_email is not None and not isinstance(send_email, bool):
        raise bad_input("send_email must be a boolean", "providerOptions", "send_email")
    fields = options.get("fields")
    if fields is not None and not (
        isinstance(fields, dict) and all(isinstance(k, str) for k in fields)
    ):
        raise bad_input("fields must be an object", "providerOptions", "fields")


def _country(request: CreateSessionRequest, options: Mapping[str, Any]) -> str | None:
    """Verifa's alpha-2 `country`, from the expected document country (alpha-3) and/or the
    `country` option; both given must agree."""
    option = options.get("country")
    from_option = option.upper() if isinstance(option, str) else None
    person = request.expected_person
    from_person: str | None = None
    if person is not None and person.document_country is not None:
        from_person = ALPHA3_TO_ALPHA2.get(person.document_country.strip().upper())
        if from_person is None:
            raise bad_input(
                "documentCountry must be an ISO 3166-1 alpha-3 code",
                "expectedPerson",
                "documentCountry",
            )
    if from_option and from_person and from_option != from_person:
        raise bad_input(
            "providerOptions.country contradicts expectedPerson.documentCountry",
            "providerOptions",
            "country",
        )
    return from_person or from_option


def _point_country_error(error: ProviderError, request: CreateSessionRequest) -> None:
    """Point a vendor `country` error at the input the integrator actually used."""
    person = request.expected_person
    if (
        error.field == DOCUMENT_COUNTRY_FIELD
        and (person is None or person.document_country is None)
        and "country" in (request.provider_options or {})
    ):
        error.field = (INPUT, "providerOptions", "country")


def _prefill(request: CreateSessionRequest, options: Mapping[str, Any]) -> JSON:
    """`fields` from the expected person and contact (keys: inferred.PREFILL_KEYS), merged
    with the `fields` option; a key given both ways must have the same value."""
    keys = inferred.PREFILL_KEYS
    person = request.expected_person
    contact = request.contact
    ours: JSON = {}
    if person is not None:
        ours[keys["first_name"]] = person.first_name
        ours[keys["last_name"]] = person.last_name
        dob = person.date_of_birth
        ours[keys["date_of_birth"]] = dob.isoformat() if dob else None
        nationality = person.nationality.strip().upper() if person.nationality else None
        ours[keys["nationality"]] = nationality
    if contact is not None:
        ours[keys["email"]] = contact.email
        ours[keys["phone"]] = contact.phone
    ours = {k: v for k, v in ours.items() if v is not None}
    extra: Mapping[str, Any] = options.get("fields") or {}
    for key, value in extra.items():
        if key in ours and ours[key] != value:
            raise bad_input(
                f"providerOptions.fields.{key} contradicts the normalized input",
                "providerOptions",
                "fields",
            )
    return {**extra, **ours}


# -- snapshot helpers -----------------------------------------------------------------------------
def _timeline(session: SessionResource) -> tuple[TimelineEntry, ...]:
    """The only per-state time the session resource documents is `created_at` (`pending`)."""
    if session.created_at is None or session.status == "pending":
        return ()
    return (TimelineEntry(SessionStatus.CREATED, "pending", session.created_at),)


def _decided_by(session: SessionResource) -> DecidedBy:
    if session.case_id and session.case_status in inferred.REVIEW_CASE_DECIDED_STATUSES:
        return DecidedBy.REVIEWER
    return DecidedBy.PROVIDER


def _reason_code(value: Any) -> str | None:
    """A code-like rejection reason (or a structured one's `code`); free text stays in raw."""
    if isinstance(value, dict):
        value = value.get("code")
    if isinstance(value, str) and inferred.REJECTION_REASON_CODE.fullmatch(value.strip()):
        return value.strip()
    return None


def _decision(
    status: SessionStatus | None,
    result: ResultResource | WebhookResult | None,
    *,
    rejection_reason: Any = None,
    decided_by: DecidedBy,
    decided_at: datetime | None = None,
) -> Decision | None:
    """The outcome for decided statuses, with the result's check outcomes as codes — never
    the extracted person data."""
    outcome = OUTCOMES.get(status) if status is not None else None
    if outcome is None:
        return None
    reasons: list[str] = []
    warnings: list[str] = []
    code = _reason_code(rejection_reason) or _reason_code(
        result.rejection_reason if result else None
    )
    if code:
        reasons.append(code)
    if result is not None:
        if result.face_match_passed is False:
            warnings.append(FACE_MATCH_FAILED)
        if result.age_check_passed is False:
            warnings.append(AGE_CHECK_FAILED)
    if outcome is not Outcome.APPROVED:
        reasons.extend(w for w in warnings if w not in reasons)
    if result is not None and result.sensitive_data_expired:
        warnings.append(SENSITIVE_DATA_EXPIRED)
    return Decision(
        outcome=outcome,
        decided_by=decided_by,
        reason_codes=tuple(reasons),
        warnings=tuple(warnings),
        decided_at=decided_at,
    )


# -- webhook helpers ------------------------------------------------------------------------------
def _completed_state(fields: WebhookData) -> tuple[str, bool]:
    """A completed session: the result's status when the payload carries one, else
    PROCESSING and a read of session + result (docs/vendors/verifa.md, Status vocabulary and
    our mapping)."""
    result = fields.result.status if fields.result else None
    if result is None and fields.status in RESULT_STATUSES:
        result = fields.status
    return join_status(COMPLETED, result), result is None


def _event_state(event: str, fields: WebhookData) -> tuple[str | None, bool]:
    """(raw status, refetch) for one event; no raw status for events about something else."""
    payload_status = fields.status
    if event in inferred.OUTCOME_EVENTS:
        # The event names the outcome; a minimal payload (no `result`) is completed by a
        # read of the result, which brings the check outcomes.
        return join_status(COMPLETED, inferred.OUTCOME_EVENTS[event]), fields.result is None
    if event in inferred.EVENT_ONLY_STATES:
        return inferred.EVENT_ONLY_STATES[event], False
    if event in inferred.STATE_EVENTS:
        if payload_status == COMPLETED:
            return _completed_state(fields)
        if payload_status in VERIFA_STATUSES:
            return payload_status, False  # e.g. `sandbox_pending` on a sandbox create
        return inferred.STATE_EVENTS[event], False
    if event in inferred.NON_STATE_EVENTS:
        return None, False
    if event in inferred.COMPLETION_EVENTS or payload_status == COMPLETED:
        return _completed_state(fields)
    if payload_status in VERIFA_STATUSES:
        return payload_status, False
    return None, True  # an undocumented session event: read the session to learn more


def _webhook_results(event: str, normalized: JSON) -> Results | None:
    """The flat shape's optional `result` object, read with the event's status and reason
    (a minimal payload has none: the gateway then reads the result)."""
    data = normalized.get("data")
    fields = data if isinstance(data, dict) else normalized
    result = fields.get("result")
    if not isinstance(result, dict):
        return None
    status = inferred.OUTCOME_EVENTS.get(event) or fields.get("status")
    if event == REVIEW_EVENT and status not in RESULT_STATUSES:
        status = REVIEW_RESULT_STATUS
    return read_result(
        result,
        status=status,
        rejection_reason=fields.get("rejection_reason"),
        rejection_reason_code=fields.get("rejection_reason_code"),
    )


def _validated(model: type[ModelT], data: Any) -> ModelT:
    return parse_webhook_body("a Verifa webhook", model, data)


def _loose_session_id(body: JSON) -> str | None:
    """The session an other-than-session event names, if it names one plainly."""
    data = body.get("data")
    for candidate in (
        body.get("session_id"),
        data.get("session_id") if isinstance(data, dict) else None,
    ):
        if isinstance(candidate, str) and candidate:
            return candidate
    return None
