"""Didit adapter: REST `/v3` with `x-api-key`, signed `status.updated` webhooks
(docs/vendors/didit.md). Translation only — wire shapes live in `wire.py`, the status table in
`statuses.py`, what each input becomes in `inputs.py`, assumptions in `inferred.py`.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote, urlencode

from adapters.base import (
    JSON,
    PDF_MEDIA_TYPE,
    SESSION_BASICS,
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    DecidedBy,
    Decision,
    DecisionAction,
    DecisionOptions,
    DocumentType,
    Environment,
    ErrorCode,
    ExpectedPerson,
    Outcome,
    ProviderAdapter,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionPage,
    SessionReport,
    SessionSnapshot,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.common.http import VendorHttp
from adapters.common.scrub import Scrubber
from adapters.common.validation import ModelT, bad_input, parse_answer, parse_webhook_body
from adapters.didit import inferred
from adapters.didit.errors import map_error
from adapters.didit.inputs import INPUT_SUPPORT
from adapters.didit.results import DIDIT_CHECKS, read_results
from adapters.didit.signature import DiditScheme, canonical_json
from adapters.didit.statuses import ACTIONS_BY_STATUS, ALWAYS_ALLOWED, DIDIT_STATUS_MAP
from adapters.didit.wire import (
    ContactDetails,
    CreateSessionBody,
    CreateSessionResponse,
    DecisionBody,
    DecisionResponse,
    ExpectedDetails,
    NodeToResubmit,
    Review,
    SessionList,
    UpdateStatusBody,
    WebhookEnvelope,
)
from adapters.results import CheckKind, Results

#: create-session `language` enum (ISO 639-1 + pt-BR, zh-CN, zh-TW, cnr; docs/vendors/didit.md,
#: Input support).
LANGUAGES: frozenset[str] = frozenset(
    "en ar bg bn bs ca cnr cs da de el es et fa fi fr he hi hr hu hy id it ja ka kk ko ky lt lv "
    "mk mn ms nl no pl pt-BR pt ro ru sk sl so sq sr sv th tr uk uz vi zh-CN zh-TW zh".split()
)
_LANGUAGE_BY_FOLDED = {lang.casefold(): lang for lang in LANGUAGES}

#: Didit's hard limit on `vendor_data` (docs/vendors/didit.md, Input support).
VENDOR_DATA_MAX_BYTES = 2000

#: Normalized document type → Didit `expected_document_types` code.
DOCUMENT_TYPES: dict[DocumentType, str] = {
    DocumentType.PASSPORT: "P",
    DocumentType.ID_CARD: "ID",
    DocumentType.DRIVERS_LICENSE: "DL",
    DocumentType.RESIDENCE_PERMIT: "RP",
    DocumentType.VISA: "VISA",
    DocumentType.OTHER: "OTHER",
}

#: Didit-only create fields accepted through `providerOptions`, with where they go.
TOP_LEVEL_OPTIONS = ("callback_method", "portrait_image", "vendor_business_id")
CONTACT_OPTIONS = ("send_notification_emails", "email_lang")
PROVIDER_OPTIONS: frozenset[str] = frozenset(TOP_LEVEL_OPTIONS + CONTACT_OPTIONS)
CALLBACK_METHODS = frozenset({"initiator", "completer", "both"})

OUTCOMES: dict[str, Outcome] = {
    "Approved": Outcome.APPROVED,
    "Declined": Outcome.DECLINED,
    "In Review": Outcome.REVIEW,
}
#: The outcome our own update-status call sets (its result is the integrator's decision).
DECIDED_OUTCOME: dict[DecisionAction, Outcome] = {
    DecisionAction.APPROVE: Outcome.APPROVED,
    DecisionAction.DECLINE: Outcome.DECLINED,
}
NEW_STATUS: dict[DecisionAction, str] = {
    DecisionAction.APPROVE: "Approved",
    DecisionAction.DECLINE: "Declined",
    DecisionAction.REQUEST_RESUBMISSION: "Resubmitted",
}
#: Every PDF starts so; a 200 whose body does not is not a report.
PDF_MAGIC = b"%PDF-"
STATUS_EVENT = "status.updated"
SESSION_EVENTS = frozenset({STATUS_EVENT, "data.updated"})
#: Warning levels that explain an outcome (the rest are informational).
REASON_LOG_TYPES = frozenset({"error", "warning"})


def _session_path(session_id: str, action: str) -> str:
    """`/v3/session/{id}/{action}/` — the id is quoted, the trailing slash is mandatory."""
    if not session_id:
        raise bad_input("a provider session id is required", "providerSessionId")
    return f"/v3/session/{quote(session_id, safe='')}/{action}/"


class DiditAdapter(ProviderAdapter):
    rate_limit_per_minute = inferred.RATE_LIMIT_PER_MINUTE
    name = "didit"
    default_base_url = inferred.DEFAULT_BASE_URL
    capabilities: ClassVar[frozenset[Capability]] = SESSION_BASICS | frozenset(
        {
            Capability.DECIDE,
            Capability.REQUEST_RESUBMISSION,
            Capability.REDACT,
            Capability.LIST,
            Capability.REPORT,
            Capability.WEBHOOKS,
            Capability.POLLING,
        }
    )  # no CANCEL: Didit has no cancel endpoint (docs/vendors/didit.md, Endpoints we call)
    input_support = INPUT_SUPPORT
    #: update-status takes the steps to resubmit and `send_email` (Resubmission options).
    decision_options = frozenset({"resubmit", "notify_person"})
    status_table = DIDIT_STATUS_MAP
    check_tables = (DIDIT_CHECKS,)  # docs/vendors/didit.md, Results
    #: The KYC workflow's checks: document, liveness, face match, AML screening.
    check_kinds = frozenset(
        {CheckKind.DOCUMENT, CheckKind.LIVENESS, CheckKind.FACE_MATCH, CheckKind.AML}
    )
    always_allowed = ALWAYS_ALLOWED
    actions_by_status = ACTIONS_BY_STATUS
    # Nothing is polled: every change comes as a `status.updated` webhook.
    #: docs/vendors/didit.md, Redaction: the delete is a soft delete.
    redaction_leaves = (
        "Didit's delete is a soft delete: the session's decision, extracted data and audit "
        "events stay in Didit's database, out of the API's reach, until the application's "
        "data-retention window ends (unlimited unless set in Didit's console); blocklist "
        "entries made from the session stay.",
    )

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        self._scrub = Scrubber.of(config)
        self._http = VendorHttp(
            config,
            vendor="Didit",
            headers={"x-api-key": config.api_key, "accept": "application/json"},
            error_mapper=lambda response: map_error(response, self._scrub, now=config.clock()),
        )

    # -- sessions -----------------------------------------------------------------------
    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot:
        body = self._create_body(request)
        response = await self._http.request(
            "POST",
            "/v3/session/",
            json=body.to_json(),
            expected=inferred.CREATE_SUCCESS_STATUSES,
        )
        data = self._http.json_of(response)
        created = self._parse(CreateSessionResponse, data)
        return self.snapshot_of(
            created.session_id,
            created.status,
            environment=self.environment,
            verification_url=created.url,
            client_reference=created.vendor_data,
            metadata=created.metadata if isinstance(created.metadata, dict) else None,
            occurred_at=None,  # the create response carries no vendor time
            raw=data,  # the vendor's payload as sent, not our model of it
        )

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        response = await self._http.request("GET", _session_path(provider_session_id, "decision"))
        data = self._http.json_of(response)
        decision = self._parse(DecisionResponse, data)
        # `session_url` stays in raw: it is keyed by session id, while the hosted link
        # from create carries the session token, so it must not replace it.
        return self._reported(
            decision,
            decision.session_id,
            decision.status,
            decision=_decision(decision.status, decision, decided_at=None),
            occurred_at=None,
            raw=data,
            results=read_results(data),
        )

    async def list_page(self, cursor: str | None, *, page_size: int) -> SessionPage:
        """`GET /v3/sessions/?limit=&offset=`, newest first; the cursor is the next offset.
        A row holds the session's id, status, `vendor_data` and `created_at`, no decision:
        an import reads each new session's decision itself."""
        offset = _offset(cursor)
        limit = max(1, min(page_size, inferred.LIST_PAGE_MAX))
        response = await self._http.request(
            "GET", f"/v3/sessions/?{urlencode({'limit': limit, 'offset': offset})}"
        )
        data = self._http.json_of(response)
        page = self._parse(SessionList, data)
        sessions = tuple(
            self.snapshot_of(
                row.session_id,
                row.status,
                environment=self.environment,
                client_reference=row.vendor_data,
                created_at=_from_iso(row.created_at),
                raw={"list_row": raw},
            )
            for row, raw in zip(page.results, data["results"], strict=True)
        )
        more = page.next is not None and bool(page.results)
        return SessionPage(sessions, str(offset + len(page.results)) if more else None)

    async def list_sessions(
        self, *, client_reference: str | None = None, limit: int = 100
    ) -> list[SessionSnapshot]:
        out: list[SessionSnapshot] = []
        cursor: str | None = None
        while len(out) < limit:
            page = await self.list_page(cursor, page_size=limit)
            out += [
                s
                for s in page.sessions
                if client_reference is None or s.client_reference == client_reference
            ]
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        return out[:limit]

    def _reported(
        self,
        source: DecisionResponse | WebhookEnvelope,
        session_id: str,
        status: str,
        *,
        decision: Decision | None,
        occurred_at: datetime | None,
        raw: JSON,
        results: Results | None,
    ) -> SessionSnapshot:
        """A decision read and a session webhook report a session in the same fields."""
        return self.snapshot_of(
            session_id,
            status,
            environment=self._environment_of(source.environment),
            client_reference=source.vendor_data,
            metadata=source.metadata if isinstance(source.metadata, dict) else None,
            decision=decision,
            occurred_at=occurred_at,
            raw=raw,
            results=results,
        )

    def _as_integrator(self, snapshot: SessionSnapshot, action: DecisionAction) -> SessionSnapshot:
        """Our update-status call decided: the re-read says so whatever its `reviews` show
        (docs/model.md, Session: INTEGRATOR is a decision made through decideSession)."""
        decision = snapshot.decision
        if decision is None or decision.outcome is not DECIDED_OUTCOME.get(action):
            return snapshot
        return dataclasses.replace(
            snapshot, decision=dataclasses.replace(decision, decided_by=DecidedBy.INTEGRATOR)
        )

    async def decide_session(
        self,
        provider_session_id: str,
        action: DecisionAction,
        reason: str | None,
        options: DecisionOptions | None = None,
    ) -> SessionSnapshot | None:
        """update-status. A resubmission sends `nodes_to_resubmit`: the steps the caller
        named (`options.resubmit`, node ids or features of this session), else every node
        whose feature did not pass. `options.notify_person` is `send_email`, with the address
        given at create (docs/vendors/didit.md, Resubmission options)."""
        options = options or DecisionOptions()
        current: DecisionBody | None = None
        if action == DecisionAction.REQUEST_RESUBMISSION or options.notify_person:
            fetched = await self.fetch_session(provider_session_id)
            current = DecisionBody.model_validate(fetched.raw)
        nodes: list[NodeToResubmit] | None = None
        if action == DecisionAction.REQUEST_RESUBMISSION:
            assert current is not None
            if options.resubmit is not None:
                nodes = _chosen_nodes(current, options.resubmit)
            else:
                nodes = _nodes_to_resubmit(current)
            if not nodes:
                raise ProviderError(
                    ErrorCode.BAD_USER_INPUT,
                    "no verification step of this session can be resubmitted",
                    field=("decision",),
                )
        email = None
        if options.notify_person:
            email = _contact_email(fetched.raw)
        body = UpdateStatusBody(
            new_status=NEW_STATUS[action],  # type: ignore[arg-type]
            comment=reason,
            nodes_to_resubmit=nodes,
            send_email=options.notify_person,
            email_address=email,
        )
        await self._http.request(
            "PATCH", _session_path(provider_session_id, "update-status"), json=body.to_json()
        )
        return self._as_integrator(await self.fetch_session(provider_session_id), action)

    async def session_report(self, provider_session_id: str) -> SessionReport:
        """`GET …/generate-pdf/`: Didit renders the PDF now, from the current session data
        (docs/vendors/didit.md, The session report). Anything but a PDF is the vendor's
        fault, never handed on."""
        response = await self._http.request(
            "GET",
            _session_path(provider_session_id, "generate-pdf"),
            headers={"accept": f"{PDF_MEDIA_TYPE}, application/json;q=0.5"},
        )
        media_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != PDF_MEDIA_TYPE or not response.content.startswith(PDF_MAGIC):
            raise ProviderError(
                ErrorCode.PROVIDER_UNAVAILABLE,
                f"Didit answered the report with {media_type or 'no media type'}, not a PDF",
                http_status=response.status_code,
            )
        return SessionReport(
            content=response.content,
            media_type=PDF_MEDIA_TYPE,
            filename=_attachment_name(response.headers.get("content-disposition")),
        )

    async def redact_session(self, provider_session_id: str) -> None:
        await self._http.request(
            "DELETE",
            _session_path(provider_session_id, "delete"),
            expected=inferred.DELETE_SUCCESS_STATUSES,
        )

    # -- webhooks ---------------------------------------------------------------------------
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        payload = DiditScheme().check(body, headers, self.config).body
        envelope = parse_webhook_body("a Didit v3 webhook", WebhookEnvelope, payload)
        return [self._event(envelope, payload)]

    def _event(self, envelope: WebhookEnvelope, payload: JSON) -> WebhookEvent:
        snapshot: SessionSnapshot | None = None
        if envelope.webhook_type in SESSION_EVENTS:
            if not envelope.session_id or not envelope.status:
                raise WebhookRejected(
                    WebhookRejectReason.MALFORMED,
                    f"{envelope.webhook_type} without session_id or status",
                )
            # `created_at` is when the status changed; `timestamp` is refreshed on every
            # redelivery (docs/vendors/didit.md, Ordering), so it never orders events.
            occurred_at = _from_unix(envelope.created_at)
            snapshot = self._reported(
                envelope,
                envelope.session_id,
                envelope.status,
                decision=_decision(
                    envelope.status,
                    envelope.decision,
                    # only a status change dates the decision; data.updated is a correction
                    decided_at=occurred_at if envelope.webhook_type == STATUS_EVENT else None,
                ),
                occurred_at=occurred_at,
                raw=payload,
                # the embedded decision carries the results; without one (Resubmitted, In
                # Progress, …) the webhook says nothing about them
                results=read_results(payload.get("decision")),
            )
        return WebhookEvent(
            dedupe_key=_dedupe_key(envelope, payload, snapshot is not None),
            event_type=envelope.webhook_type,
            provider_session_id=envelope.session_id,
            snapshot=snapshot,
            received_payload=payload,
        )

    # -- sandbox ----------------------------------------------------------------------------
    @classmethod
    def build_sandbox(cls, config: SandboxConfig) -> SandboxHandle | None:
        from adapters.didit.sandbox import DiditSandbox  # lazy: sandbox deps load on demand

        return DiditSandbox(config)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- helpers ----------------------------------------------------------------------------
    def _environment_of(self, value: str | None) -> Environment:
        if value == inferred.ENVIRONMENT_SANDBOX_VALUE:
            return Environment.SANDBOX
        if value == inferred.ENVIRONMENT_LIVE_VALUE:
            return Environment.LIVE
        return self.environment

    def _parse(self, model: type[ModelT], data: Any) -> ModelT:
        return parse_answer("Didit", model, data)

    def _create_body(self, request: CreateSessionRequest) -> CreateSessionBody:
        workflow_id = request.workflow_id or self.config.options.get("workflow_id")
        if not workflow_id:
            raise bad_input("Didit needs a workflow id (input or settings)", "workflowId")
        if request.client_reference is not None and (
            len(request.client_reference.encode("utf-8")) > VENDOR_DATA_MAX_BYTES
        ):
            raise bad_input(
                f"clientReference exceeds {VENDOR_DATA_MAX_BYTES} bytes (UTF-8)",
                "clientReference",
            )
        language = None
        if request.language is not None:
            language = _language(request.language, "language")

        options = dict(request.provider_options or {})
        for key in options:
            if key not in PROVIDER_OPTIONS:
                raise bad_input(f"unknown Didit option '{key}'", "providerOptions", key)
        _check_options(options)

        contact = _contact(request, options)
        return CreateSessionBody(
            workflow_id=workflow_id,
            vendor_data=request.client_reference,
            callback=request.return_url,
            callback_method=options.get("callback_method"),
            metadata=request.metadata,
            language=language,
            contact_details=contact,
            expected_details=_expected(request.expected_person),
            portrait_image=options.get("portrait_image"),
            vendor_business_id=options.get("vendor_business_id"),
        )


def _language(value: str, *field: str) -> str:
    """Didit's spelling of a language (`pt-br` → `pt-BR`), or BAD_USER_INPUT."""
    canonical = _LANGUAGE_BY_FOLDED.get(value.strip().casefold())
    if canonical is None:
        raise bad_input(f"language '{value[:20]}' is not supported by Didit", *field)
    return canonical


def _check_options(options: Mapping[str, Any]) -> None:
    method = options.get("callback_method")
    if method is not None and method not in CALLBACK_METHODS:
        raise bad_input(
            "callback_method must be one of initiator, completer, both",
            "providerOptions",
            "callback_method",
        )
    notify = options.get("send_notification_emails")
    if notify is not None and not isinstance(notify, bool):
        raise bad_input(
            "send_notification_emails must be a boolean",
            "providerOptions",
            "send_notification_emails",
        )
    for key in ("portrait_image", "vendor_business_id"):
        if key in options and not isinstance(options[key], str):
            raise bad_input(f"{key} must be a string", "providerOptions", key)
    email_lang = options.get("email_lang")
    if email_lang is not None:
        if not isinstance(email_lang, str):
            raise bad_input("email_lang must be a string", "providerOptions", "email_lang")
        _language(email_lang, "providerOptions", "email_lang")


def _contact(request: CreateSessionRequest, options: Mapping[str, Any]) -> ContactDetails | None:
    email_lang = options.get("email_lang")
    fields = {
        "email": request.contact.email if request.contact else None,
        "phone": request.contact.phone if request.contact else None,
        "send_notification_emails": options.get("send_notification_emails"),
        "email_lang": _language(email_lang) if isinstance(email_lang, str) else None,
    }
    if all(v is None for v in fields.values()):
        return None
    return ContactDetails(**fields)


def _expected(person: ExpectedPerson | None) -> ExpectedDetails | None:
    if person is None:
        return None
    details = ExpectedDetails(
        first_name=person.first_name,
        last_name=person.last_name,
        date_of_birth=person.date_of_birth.isoformat() if person.date_of_birth else None,
        nationality=person.nationality,
        id_country=person.document_country,
        expected_document_types=[DOCUMENT_TYPES[t] for t in person.document_types] or None,
    )
    return details if details.to_json() else None


def _decision(
    status: str, body: DecisionBody | None, *, decided_at: datetime | None
) -> Decision | None:
    """The outcome for decided statuses; codes only — names, numbers, e-mails stay in raw."""
    outcome = OUTCOMES.get(status)
    if outcome is None:
        return None
    reasons: list[str] = []
    warnings: list[str] = []
    decided_by = DecidedBy.PROVIDER
    if body is not None:
        for _, report in body.feature_reports():
            for warning in report.warnings or ():
                if not warning.risk:
                    continue
                if warning.risk not in warnings:
                    warnings.append(warning.risk)
                if warning.log_type in REASON_LOG_TYPES and warning.risk not in reasons:
                    reasons.append(warning.risk)
        review = _deciding_review(status, body.reviews or ())
        if review is not None:
            decided_by = _reviewer_kind(review)
            decided_at = decided_at or _from_iso(review.created_at)
    return Decision(
        outcome=outcome,
        decided_by=decided_by,
        reason_codes=tuple(reasons),
        warnings=tuple(warnings),
        decided_at=decided_at,
    )


def _deciding_review(status: str, reviews: Sequence[Review]) -> Review | None:
    """The newest review that set a status, if it set the current one. None: Didit's own
    workflow decided (no review, or the person redid the flow after the last one)."""
    changes = [r for r in reviews if r.new_status]
    if not changes:
        return None
    last = max(changes, key=lambda r: _from_iso(r.created_at) or _EPOCH)
    return last if last.new_status == status else None


def _reviewer_kind(review: Review) -> DecidedBy:
    """Who wrote the review (docs/vendors/didit.md, Decisions and decidedBy): an API key is
    us, anyone else is a person in Didit's console."""
    if review.user == inferred.REVIEW_USER_API_CLIENT:
        return DecidedBy.INTEGRATOR
    return DecidedBy.REVIEWER


_EPOCH = datetime.fromtimestamp(0, UTC)


def _from_iso(value: str | None) -> datetime | None:
    """A review's ISO 8601 time (`2026-04-21T16:42:50.445Z`), or None when unreadable."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _nodes_to_resubmit(body: DecisionBody) -> list[NodeToResubmit]:
    nodes: list[NodeToResubmit] = []
    for feature, report in body.feature_reports():
        if report.node_id and report.status and report.status != inferred.FEATURE_PASSED_STATUS:
            nodes.append(NodeToResubmit(node_id=report.node_id, feature=feature))
    return nodes


def _chosen_nodes(body: DecisionBody, names: Sequence[str]) -> list[NodeToResubmit]:
    """The session's nodes the caller named, by node id or by feature (every node of it)."""
    reports = [(feature, r.node_id) for feature, r in body.feature_reports() if r.node_id]
    known = sorted({node for _, node in reports} | {feature for feature, _ in reports})
    steps = f"(its steps: {', '.join(known) or 'none yet'})"
    if not names:
        raise _resubmit_error(f"name at least one step to resubmit {steps}")
    unknown = [name for name in names if name not in known]
    if unknown:
        raise _resubmit_error(f"not a step of this session: {', '.join(unknown)} {steps}")
    chosen: dict[str, NodeToResubmit] = {}
    for feature, node in reports:
        if node in names or feature in names:
            chosen.setdefault(node, NodeToResubmit(node_id=node, feature=feature))
    return list(chosen.values())


def _resubmit_error(message: str) -> ProviderError:
    """BAD_USER_INPUT on decideSession's `resubmit` argument."""
    return ProviderError(ErrorCode.BAD_USER_INPUT, message, field=("resubmit",))


def _contact_email(raw: Any) -> str | None:
    """The e-mail given at create, as the decision echoes it (inferred.NOTIFY_EMAIL_FIELD);
    None lets Didit choose the person's address."""
    value: Any = raw
    for key in inferred.NOTIFY_EMAIL_FIELD:
        value = value.get(key) if isinstance(value, Mapping) else None
    return value if isinstance(value, str) and value else None


def _attachment_name(disposition: str | None) -> str | None:
    """`attachment; filename=session_<id>.pdf` (or `business_<id>.pdf`) → the file name."""
    for part in (disposition or "").split(";"):
        key, _, value = part.strip().partition("=")
        if key.lower() == "filename" and value.strip('"'):
            return value.strip('"')
    return None


def _offset(cursor: str | None) -> int:
    if cursor is None:
        return 0
    if not cursor.isdigit():
        raise bad_input("not a cursor of this list", "cursor")
    return int(cursor)


def _from_unix(value: int | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise WebhookRejected(WebhookRejectReason.MALFORMED, "timestamp out of range") from exc


def _dedupe_key(envelope: WebhookEnvelope, payload: JSON, is_session_event: bool) -> str:
    """Stable across redeliveries (docs/vendors/didit.md, Webhooks and signature): event_id
    and `timestamp` change on every attempt, so neither is part of it."""
    if is_session_event and envelope.created_at is not None:
        return inferred.DEDUPE_KEY_FORMAT.format(
            session_id=envelope.session_id,
            webhook_type=envelope.webhook_type,
            status=envelope.status,
            created_at=envelope.created_at,
        )
    # Other events (or none of the naming fields): the signed content without what changes
    # per attempt, so a redelivery is still a duplicate.
    stable = {k: v for k, v in payload.items() if k not in inferred.PER_ATTEMPT_KEYS}
    return "sha256:" + hashlib.sha256(canonical_json(stable, ensure_ascii=True)).hexdigest()
