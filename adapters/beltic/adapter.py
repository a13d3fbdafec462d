"""Beltic adapter: JSON:API Identity sessions with `X-Api-Key` (docs/vendors/beltic.md).

Beltic sends no session webhooks: session state is read by polling, and the documented
document-status webhooks are verified and turned into "read this session now" hints. Every
session belongs to an account found (or created) by our client reference, and every create
makes a new session. Beltic has no hosted page: `verification_url` is always None and the
person's part is done by the integrator's own upload of documents (`person_flow_note`).
Translation only — wire shapes live in `wire.py`, the status table in `statuses.py`, accounts
in `accounts.py`, input declarations in `inputs.py`, assumptions in `inferred.py`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime
from itertools import pairwise
from typing import Any, ClassVar, NamedTuple
from urllib.parse import quote, urlsplit

import httpx
from pydantic import ValidationError

from adapters.base import (
    JSON,
    SESSION_BASICS,
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    DecidedBy,
    Decision,
    DecisionAction,
    ErrorCode,
    Outcome,
    PollPolicy,
    ProviderAdapter,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionPage,
    SessionSnapshot,
    TimelineEntry,
    UnsupportedByProvider,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.beltic import accounts, inferred, listing
from adapters.beltic.errors import INPUT, ErrorContext, map_error
from adapters.beltic.inputs import INPUT_SUPPORT
from adapters.beltic.results import TABLES, session_results
from adapters.beltic.signature import BelticScheme, canonical_json
from adapters.beltic.statuses import ACTIONS_BY_STATUS, ALWAYS_ALLOWED, BELTIC_STATUS_MAP
from adapters.beltic.wire import (
    AccountDocument,
    AccountListDocument,
    CreateSessionBody,
    NewSession,
    NewSessionAttributes,
    NewSessionRelationships,
    Resource,
    ResourceIdentifier,
    ResourceListDocument,
    SessionDocument,
    SessionListDocument,
    SessionResource,
    ToOne,
    VerificationAttributes,
    WebhookDocument,
)
from adapters.common.http import VendorHttp
from adapters.common.scrub import Scrubber
from adapters.common.validation import ModelT, bad_input, parse_answer, parse_webhook_body
from adapters.common.wire import RequestModel
from adapters.results import CheckKind

log = logging.getLogger(__name__)

VENDOR = "Beltic"
#: Beltic-only create fields accepted through `providerOptions`.
PROVIDER_OPTIONS: frozenset[str] = frozenset({"entity_type", "account_id"})
#: How a session progresses without a hosted page (docs/vendors/beltic.md, How a session
#: progresses), shown where a link would be.
PERSON_FLOW_NOTE = (
    "Beltic has no hosted page: the session progresses as your own integration adds the "
    "person's documents and verifications to it, as Beltic's identity guides describe "
    "(https://docs.beltic.com/guides/identity/overview); in sandbox mode, drive it with "
    "POST /sandbox/beltic/sessions/{providerSessionId}/simulate."
)
OUTCOMES: dict[str, Outcome] = {
    "approved": Outcome.APPROVED,
    "declined": Outcome.DECLINED,
    "marked_for_review": Outcome.REVIEW,
}
PENDING = "pending"
DECISION_PATHS: dict[DecisionAction, str] = {
    DecisionAction.APPROVE: inferred.APPROVE_PATH,
    DecisionAction.DECLINE: inferred.DECLINE_PATH,
}
#: Any HTTP status: `_call` maps non-success itself, with the request's error context.
_ANY_STATUS = range(100, 600)
#: A check name used as a reason code must look like a code, never like free text.
_CODE = re.compile(r"[A-Za-z][A-Za-z0-9_.:/\-]{0,63}")


#: A session of a list page: its resource, its own document (what a snapshot keeps raw) and
#: the page's `included`.
_ListedRow = tuple[SessionResource, JSON, tuple[Resource, ...]]


class _ListedPage(NamedTuple):
    rows: list[_ListedRow]
    next_link: str | None


def _session_path(template: str, session_id: str) -> str:
    if not isinstance(session_id, str) or not session_id:
        raise bad_input("a provider session id is required", "providerSessionId")
    return template.format(id=quote(session_id, safe=""))


class BelticAdapter(ProviderAdapter):
    rate_limit_per_minute = inferred.RATE_LIMIT_PER_MINUTE
    name = "beltic"
    default_base_url = inferred.DEFAULT_BASE_URL
    # The webhook secret is optional: without it document webhooks are refused, polling works.
    credential_keys = ("api_key",)
    capabilities: ClassVar[frozenset[Capability]] = SESSION_BASICS | frozenset(
        {
            Capability.DECIDE,  # approve / decline only: no resubmission
            Capability.CANCEL,  # = expire
            Capability.REDACT,
            # No UPDATE_METADATA: a Beltic session has no metadata, and its applicant data
            # is not the integrator's metadata (docs/vendors/beltic.md, Corrections).
            Capability.LIST,
            Capability.POLLING,
            Capability.WEBHOOKS,  # document events, as hints to poll
        }
    )
    input_support = INPUT_SUPPORT
    #: docs/results.md, Beltic: a verification's verdict, and its checks.
    check_tables = TABLES
    #: A normal flow verifies an identity document (`verification/idv`).
    check_kinds = frozenset({CheckKind.DOCUMENT})
    status_table = BELTIC_STATUS_MAP
    always_allowed = ALWAYS_ALLOWED
    actions_by_status = ACTIONS_BY_STATUS
    #: Beltic has no session webhooks: everything not final is polled (unknown too).
    poll_non_final = True
    person_flow_note = PERSON_FLOW_NOTE
    #: A Beltic session has no metadata field (docs/vendors/beltic.md): ours is the copy.
    metadata_at_vendor = False
    #: docs/vendors/beltic.md, Redaction: the session is redacted, its account is not.
    redaction_leaves = (
        "Beltic's redact erases the session's personal data, not its account: the account "
        "(external_id = clientReference) keeps the person's name, birth date, e-mail and "
        "phone, and Beltic documents no way to redact an account.",
    )
    poll_policy = PollPolicy(
        interval_s=inferred.POLL_INTERVAL_S,
        max_interval_s=inferred.POLL_MAX_INTERVAL_S,
        requests_per_minute=inferred.REQUESTS_PER_MINUTE,
    )

    def __init__(self, config: AdapterConfig) -> None:
        super().__init__(config)
        self._scrub = Scrubber.of(config)
        self._api_root = api_root(config.base_url)
        self._http = VendorHttp(
            replace(config, base_url=self._api_root),
            vendor=VENDOR,
            headers={"X-Api-Key": config.api_key, "Accept": "application/json"},
            error_mapper=lambda response: map_error(response, self._scrub, now=config.clock()),
        )

    # -- sessions -----------------------------------------------------------------------
    async def create_session(self, request: CreateSessionRequest) -> SessionSnapshot:
        options = _options(request.provider_options)
        entity_type = options.get("entity_type", inferred.DEFAULT_ENTITY_TYPE)
        # Always a new session: an account's existing session is never handed back (dedupe
        # is the gateway's idempotencyKey), and the POST is never retried (VendorHttp).
        account_id = await self._account_for(request, entity_type, options)
        body = CreateSessionBody(
            data=NewSession(
                attributes=NewSessionAttributes(entity_type=entity_type),  # type: ignore[arg-type]
                relationships=NewSessionRelationships(
                    account=ToOne(data=ResourceIdentifier(type="account", id=account_id))
                ),
            )
        )
        response = await self._create(inferred.SESSIONS_PATH, body)
        return self._session_snapshot(
            self._http.json_of(response), client_reference=request.client_reference
        )

    async def fetch_session(self, provider_session_id: str) -> SessionSnapshot:
        path = _session_path(inferred.SESSION_PATH, provider_session_id)
        response = await self._call("GET", path)
        data = self._http.json_of(response)
        document = self._parse(SessionDocument, data)
        included = tuple(document.included or ())
        included += await self._missing_verifications(document.data, included)
        return self._snapshot(document.data, included, data)

    async def _missing_verifications(
        self, resource: SessionResource, included: tuple[Resource, ...]
    ) -> tuple[Resource, ...]:
        """The session's verifications its document names but does not include, from the
        documented verifications list (`session_id`): they carry the checks (Results). A
        refusal of that list (a key without the scope) or an unreadable answer leaves the read
        without them."""
        have = {item.id for item in included}
        if not _linked_ids(resource, "verifications") - have:
            return ()
        path = accounts.query(
            inferred.VERIFICATIONS_PATH,
            {
                inferred.VERIFICATIONS_SESSION_PARAM: resource.id,
                inferred.PAGE_SIZE_PARAM: inferred.MAX_PAGE_SIZE,
            },
        )
        try:
            response = await self._call("GET", path)
        except ProviderError as exc:
            if exc.http_status is not None and 400 <= exc.http_status < 500:
                return ()
            raise
        try:
            listed = self._parse(ResourceListDocument, self._http.json_of(response)).data
        except ProviderError:
            return ()  # an unreadable list must not make the session unreadable
        return tuple(item for item in listed if item.id not in have)

    async def list_page(self, cursor: str | None, *, page_size: int) -> SessionPage:
        """`GET /v1/identity/sessions?page[size]=`, newest first (inferred.LIST_NEWEST_FIRST);
        the cursor is the page's `links.next` as a path of this list (`listing.py`). Each
        session is the list's session resource, read as a fetch reads it (status, times,
        `created_at`); verifications the list does not include are left to each session's
        read."""
        path = listing.first_page(page_size) if cursor is None else listing.checked_cursor(cursor)
        page = await self._list_request(path)
        sessions = tuple(
            self._snapshot(resource, included, raw) for resource, raw, included in page.rows
        )
        _check_order(sessions)
        next_cursor = None
        if page.next_link and page.rows:
            next_cursor = listing.cursor_of(self._follow(page.next_link), self._api_root)
            if next_cursor == path:
                next_cursor = None  # a pagination loop: stop rather than spin
        return SessionPage(sessions, next_cursor)

    async def list_sessions(
        self, *, client_reference: str | None = None, limit: int = 100
    ) -> list[SessionSnapshot]:
        if limit <= 0:
            return []
        params: dict[str, str | int] = {
            inferred.PAGE_SIZE_PARAM: min(limit, inferred.MAX_PAGE_SIZE)
        }
        account_id: str | None = None
        if client_reference is not None:
            account_id = await self._find_account(client_reference)
            if account_id is None:
                return []  # no account, no sessions: and nothing is created by a read
            params[inferred.FILTER_ACCOUNT_PARAM] = account_id
        found: list[_ListedRow] = []
        path = accounts.query(inferred.SESSIONS_PATH, params)
        seen = {path}
        for _ in range(inferred.MAX_LIST_PAGES):
            page = await self._list_request(path)
            for resource, raw, included in page.rows:
                owner = resource.related_id("account")
                if account_id is not None and owner is not None and owner != account_id:
                    continue  # the server ignored the filter: not this account's session
                found.append((resource, raw, included))
            if len(found) >= limit or not page.next_link:
                break
            path = self._follow(page.next_link)
            if path in seen:
                break  # a pagination loop: stop rather than spin
            seen.add(path)
        found.sort(key=lambda item: item[0].time("created_at") or _EPOCH, reverse=True)
        return [
            self._snapshot(resource, included, raw, client_reference=client_reference)
            for resource, raw, included in found[:limit]
        ]

    async def _list_request(self, path: str) -> _ListedPage:
        """One page of the session list: each session with its own document (`{"data": …}`,
        what a snapshot keeps raw) and the page's `included`, and the page's `links.next`."""
        response = await self._call("GET", path)
        data = self._http.json_of(response)
        page = self._parse(SessionListDocument, data)
        included = tuple(page.included or ())
        rows = [
            (resource, {"data": raw}, included)
            for resource, raw in zip(page.data, data["data"], strict=True)
        ]
        return _ListedPage(rows, page.links.next if page.links else None)

    async def decide_session(
        self, provider_session_id: str, action: DecisionAction, reason: str | None
    ) -> SessionSnapshot | None:
        template = DECISION_PATHS.get(action)
        if template is None:
            raise UnsupportedByProvider(self.name, "request resubmission")
        path = _session_path(template, provider_session_id)
        # `reason` is not sent: the decline reference shows no body (inferred.DECLINE_PATH).
        try:
            response = await self._call("POST", path, ok=inferred.ACTION_SUCCESS_STATUSES)
        except ProviderError as exc:
            if exc.http_status == 403:
                raise ProviderError(
                    ErrorCode.PROVIDER_REJECTED,
                    f"Beltic refused to {action.value.lower()} the session: the API key needs "
                    f"the '{inferred.DECIDE_PERMISSION}' permission ({exc.message})",
                    provider_code=exc.provider_code,
                    http_status=exc.http_status,
                ) from exc
            raise
        return await self._action_result(response, provider_session_id, DecidedBy.INTEGRATOR)

    async def cancel_session(self, provider_session_id: str) -> SessionSnapshot | None:
        path = _session_path(inferred.EXPIRE_PATH, provider_session_id)
        response = await self._call("POST", path, ok=inferred.ACTION_SUCCESS_STATUSES)
        return await self._action_result(response, provider_session_id)

    async def redact_session(self, provider_session_id: str) -> None:
        path = _session_path(inferred.REDACT_PATH, provider_session_id)
        await self._call(inferred.REDACT_METHOD, path, ok=inferred.REDACT_SUCCESS_STATUSES)

    # -- webhooks ---------------------------------------------------------------------------
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[WebhookEvent]:
        """A document-status event → a hint: no snapshot, `refetch` for its session. The
        signature is checked on the raw bytes before anything is parsed (`BelticScheme`)."""
        token = self.config.options.get(inferred.WEBHOOK_TOKEN_OPTION) or None
        payload = BelticScheme(token=token).check(body, headers, self.config).body
        document = parse_webhook_body("a JSON:API Beltic event", WebhookDocument, payload)
        resource = document.data
        if not resource.id or not resource.type:
            raise WebhookRejected(WebhookRejectReason.MALFORMED, "resource without id or type")
        if resource.type == "session":
            session_id: str | None = resource.id
        else:
            session_id = resource.related_id(inferred.WEBHOOK_SESSION_RELATIONSHIP) or None
        status = resource.attribute("status")
        has_status = isinstance(status, str) and status
        event_type = f"{resource.type}.{status}" if has_status else resource.type
        return [
            WebhookEvent(
                dedupe_key=_dedupe_key(resource, payload),
                event_type=event_type[:128],
                provider_session_id=session_id,
                snapshot=None,
                received_payload=payload,
                refetch=session_id is not None,
            )
        ]

    # -- sandbox ----------------------------------------------------------------------------
    @classmethod
    def build_sandbox(cls, config: SandboxConfig) -> SandboxHandle | None:
        from adapters.beltic.sandbox import BelticSandbox  # lazy: sandbox deps load on demand

        return BelticSandbox(config)

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- http -------------------------------------------------------------------------------
    async def _create(self, path: str, body: RequestModel) -> httpx.Response:
        """Creating an account and creating its session: the same POST, read as a create."""
        return await self._call(
            "POST",
            path,
            json=body.to_json(),
            ok=inferred.CREATE_SUCCESS_STATUSES,
            context=ErrorContext.CREATE,
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        ok: Collection[int] = (200,),
        context: ErrorContext = ErrorContext.OTHER,
    ) -> httpx.Response:
        """One request; a non-success answer is mapped with what the request carried."""
        response = await self._http.request(method, path, json=json, expected=_ANY_STATUS)
        if response.status_code not in ok:
            raise map_error(response, self._scrub, context=context, now=self.config.clock())
        return response

    def _follow(self, link: str) -> str:
        """A `links.next` as a URL to request. Only links to the configured API are followed:
        the API key is sent with it."""
        root = urlsplit(self._api_root)
        target = urlsplit(link)
        if target.scheme or target.netloc:
            if (target.scheme, target.netloc) != (root.scheme, root.netloc):
                raise ProviderError(
                    ErrorCode.PROVIDER_UNAVAILABLE,
                    "Beltic returned a pagination link to another host",
                )
            return link
        origin = f"{root.scheme}://{root.netloc}"
        if root.path and link.startswith(root.path + "/"):
            return origin + link  # root-relative, already under a mounted API
        if link.startswith(inferred.API_VERSION_PREFIX + "/"):
            return self._api_root + link  # root-relative, as the documented paths
        return f"{self._api_root}{inferred.API_VERSION_PREFIX}/{link.lstrip('/')}"

    def _parse(self, model: type[ModelT], data: Any) -> ModelT:
        return parse_answer(VENDOR, model, data)

    async def _action_result(
        self, response: httpx.Response, session_id: str, decided_by: DecidedBy | None = None
    ) -> SessionSnapshot:
        """The session document an action answered with, or a fresh read when it had none."""
        if response.content.strip():
            return self._session_snapshot(self._http.json_of(response), decided_by=decided_by)
        snapshot = await self.fetch_session(session_id)
        if decided_by is None or snapshot.decision is None:
            return snapshot
        return _with_decided_by(snapshot, decided_by)

    # -- accounts ---------------------------------------------------------------------------
    async def _account_for(
        self, request: CreateSessionRequest, entity_type: str, options: Mapping[str, Any]
    ) -> str:
        """The id of the account the new session belongs to: the one named in the options,
        else the one whose `external_id` is our client reference (made if there is none)."""
        if options.get("account_id"):
            return str(options["account_id"])
        reference = request.client_reference
        if not reference:
            anonymous = inferred.ANONYMOUS_ACCOUNT_EXTERNAL_ID
            return await self._create_account(request, entity_type, anonymous)
        found = await self._find_account(reference)
        if found is not None:
            return found
        try:
            return await self._create_account(request, entity_type, reference)
        except ProviderError as exc:
            if not _is_account_conflict(exc):
                raise
            found = await self._find_account(reference)  # created concurrently
            if found is None:
                raise
            return found

    async def _find_account(self, external_id: str) -> str | None:
        response = await self._call("GET", accounts.find_account_path(external_id))
        page = self._parse(AccountListDocument, self._http.json_of(response))
        return accounts.pick_account(page, external_id)

    async def _create_account(
        self, request: CreateSessionRequest, entity_type: str, external_id: str | None
    ) -> str:
        body = accounts.account_body(request, entity_type, external_id=external_id)
        response = await self._create(inferred.ACCOUNTS_PATH, body)
        return self._parse(AccountDocument, self._http.json_of(response)).data.id

    # -- translation ------------------------------------------------------------------------
    def _session_snapshot(
        self,
        data: Any,
        *,
        client_reference: str | None = None,
        decided_by: DecidedBy | None = None,
    ) -> SessionSnapshot:
        document = self._parse(SessionDocument, data)
        return self._snapshot(
            document.data,
            tuple(document.included or ()),
            data,
            client_reference=client_reference,
            decided_by=decided_by,
        )

    def _snapshot(
        self,
        resource: SessionResource,
        included: tuple[Resource, ...] | Collection[Resource],
        raw: JSON,
        *,
        client_reference: str | None = None,
        decided_by: DecidedBy | None = None,
    ) -> SessionSnapshot:
        provider_status = resource.status
        occurred_at = status_time(resource, provider_status)
        return self.snapshot_of(
            resource.id,
            provider_status,
            environment=self.environment,
            verification_url=None,  # Beltic has no hosted page (person_flow_note)
            client_reference=client_reference or _external_id(resource, included),
            metadata=None,  # Beltic sessions carry no metadata (applicant data stays in raw)
            expires_at=resource.time("expires_at"),
            decision=_decision(resource, included, decided_by),
            occurred_at=occurred_at,
            raw=raw,
            timeline=timeline(resource, provider_status, occurred_at),
            results=session_results(resource.attributes, resource.id, included),
            created_at=resource.time("created_at"),
        )


_EPOCH = datetime.fromisoformat("1970-01-01T00:00:00+00:00")


def _check_order(sessions: tuple[SessionSnapshot, ...]) -> None:
    """A list page against the order we assume (inferred.LIST_NEWEST_FIRST): a page that
    contradicts it is logged, not refused (its sessions are still true; an import's --since
    may then end its walk early)."""
    times = [s.created_at for s in sessions if s.created_at is not None]
    pairs = list(pairwise(times))
    if inferred.LIST_NEWEST_FIRST:
        in_order = all(first >= second for first, second in pairs)
    else:
        in_order = all(first <= second for first, second in pairs)
    if not in_order:
        log.warning(
            "beltic list: a page is not in the order the adapter assumes",
            extra={"newest_first": inferred.LIST_NEWEST_FIRST},
        )


def api_root(base_url: str) -> str:
    """The base URL without its API version: `https://api.beltic.com/v1` →
    `https://api.beltic.com` (requests use the documented `/v1/identity/...` paths)."""
    root = base_url.rstrip("/")
    return root.removesuffix(inferred.API_VERSION_PREFIX)


def status_time(resource: SessionResource, provider_status: str) -> datetime | None:
    """Beltic's time for the current status: its own timestamp, else `updated_at`."""
    attribute = inferred.STATUS_TIMESTAMPS.get(provider_status)
    when = resource.time(attribute) if attribute else None
    return when or resource.time(inferred.OCCURRED_AT_FALLBACK)


def timeline(
    resource: SessionResource, provider_status: str, occurred_at: datetime | None
) -> tuple[TimelineEntry, ...]:
    """Earlier states with their vendor times, oldest first. Final states are never earlier
    states, and a time after the current state's is inconsistent and left out."""
    entries: list[TimelineEntry] = []
    for raw_status, attribute in inferred.STATUS_TIMESTAMPS.items():
        status = BELTIC_STATUS_MAP.get(raw_status)
        if raw_status == provider_status or status is None or status.is_final:
            continue
        when = resource.time(attribute)
        if when is None or (occurred_at is not None and when > occurred_at):
            continue
        entries.append(TimelineEntry(status=status, provider_status=raw_status, occurred_at=when))
    pending = _inferred_pending(resource, provider_status, occurred_at)
    if pending is not None:
        entries.append(pending)
    entries.sort(key=lambda e: (e.occurred_at, e.status.rank))
    return tuple(entries)


def _inferred_pending(
    resource: SessionResource, provider_status: str, occurred_at: datetime | None
) -> TimelineEntry | None:
    """`pending` has no timestamp: dated by the end of it (inferred.PENDING_ENDED_BY)."""
    if provider_status == PENDING:
        return None
    ends = [
        when
        for attribute in inferred.PENDING_ENDED_BY
        if (when := resource.time(attribute)) is not None
        and (occurred_at is None or when <= occurred_at)
    ]
    if not ends:
        return None
    return TimelineEntry(
        status=BELTIC_STATUS_MAP[PENDING], provider_status=PENDING, occurred_at=min(ends)
    )


def _decision(
    resource: SessionResource,
    included: Collection[Resource],
    decided_by: DecidedBy | None,
) -> Decision | None:
    """The outcome for decided (and reviewed) statuses; check names only, no PII."""
    outcome = OUTCOMES.get(resource.status)
    if outcome is None:
        return None
    if outcome is Outcome.REVIEW:
        by = DecidedBy.PROVIDER  # Beltic flagged it; nobody has decided yet
    else:
        by = decided_by or inferred.DEFAULT_DECIDED_BY
    reasons, warnings = _verification_codes(resource, included)
    return Decision(
        outcome=outcome,
        decided_by=by,
        reason_codes=reasons,
        warnings=warnings,
        decided_at=resource.time(inferred.STATUS_TIMESTAMPS[resource.status]),
    )


def _verification_codes(
    resource: SessionResource, included: Collection[Resource]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Failed check names → reason codes; checks to retry → warnings. Only verifications
    linked to this session (either direction) count."""
    linked = _linked_ids(resource, "verifications")
    reasons: list[str] = []
    warnings: list[str] = []
    for item in included:
        if not item.type.startswith(inferred.VERIFICATION_TYPE_PREFIX):
            continue
        if item.related_id("session") != resource.id and item.id not in linked:
            continue
        try:
            attributes = VerificationAttributes.model_validate(item.attributes or {})
        except ValidationError:
            continue
        failed_names: list[str] = []
        for check in attributes.checks or ():
            if not check.name or not _CODE.fullmatch(check.name):
                continue
            if check.status in inferred.FAILED_CHECK_STATUSES:
                failed_names.append(check.name)
            elif check.status in inferred.RETRY_CHECK_STATUSES and check.name not in warnings:
                warnings.append(check.name)
        if not failed_names and attributes.status in inferred.FAILED_CHECK_STATUSES:
            failed_names.append(f"{item.type}:{attributes.status}")
        for name in failed_names:
            if name not in reasons and _CODE.fullmatch(name):
                reasons.append(name)
    return tuple(reasons), tuple(warnings)


def _linked_ids(resource: Resource, relationship: str) -> set[str]:
    relation = (resource.relationships or {}).get(relationship)
    data = relation.data if relation is not None else None
    if isinstance(data, list):
        return {d.id for d in data if d.id}
    return {data.id} if data is not None and data.id else set()


def _external_id(resource: SessionResource, included: Collection[Resource]) -> str | None:
    account_id = resource.related_id("account")
    for item in included:
        if item.type == "account" and item.id == account_id:
            value = item.attribute("external_id")
            return value if isinstance(value, str) and value else None
    return None


def _with_decided_by(snapshot: SessionSnapshot, decided_by: DecidedBy) -> SessionSnapshot:
    decision = snapshot.decision
    if decision is None or decision.outcome is Outcome.REVIEW:
        return snapshot
    return replace(snapshot, decision=replace(decision, decided_by=decided_by))


def _is_account_conflict(exc: ProviderError) -> bool:
    """A refused account create that may mean "this external_id exists already"."""
    if exc.http_status in inferred.ACCOUNT_CONFLICT_STATUSES:
        return True
    return exc.http_status in (400, 422) and exc.field == (INPUT, "clientReference")


def _options(options: Mapping[str, Any] | None) -> dict[str, Any]:
    values = dict(options or {})
    for key in values:
        if key not in PROVIDER_OPTIONS:
            raise bad_input(f"unknown Beltic option '{key}'", "providerOptions", key)
    entity_type = values.get("entity_type")
    if entity_type is not None and entity_type not in inferred.ENTITY_TYPES:
        raise bad_input(
            "entity_type must be one of " + ", ".join(sorted(inferred.ENTITY_TYPES)),
            "providerOptions",
            "entity_type",
        )
    account_id = values.get("account_id")
    if account_id is not None and (not isinstance(account_id, str) or not account_id.strip()):
        raise bad_input("account_id must be a non-empty string", "providerOptions", "account_id")
    return values


def _dedupe_key(resource: Resource, payload: JSON) -> str:
    """From signed content only. Beltic's own advice: "Use the document ID and status from the
    webhook payload to handle duplicate deliveries" (docs/vendors/beltic.md, Webhooks and
    signature). Without a status, a hash of the signed content."""
    status = resource.attribute("status")
    if isinstance(status, str) and status.strip():
        return f"{resource.type}:{resource.id}:{status.strip()}"[:255]
    return "sha256:" + hashlib.sha256(canonical_json(payload)).hexdigest()
