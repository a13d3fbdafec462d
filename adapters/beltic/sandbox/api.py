"""HTTP face of the Beltic emulator: the Identity API (`/v1/identity/...`, JSON:API both
ways, `X-Api-Key` with scopes), and the sandbox control endpoint.

Order of checks on every API call: key (401) → scope (403) → resource (404) → request
document (400/409/415/422) → status rule (`TRANSITION_REFUSED_STATUS`, 422).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from adapters.beltic.sandbox.engine import ApiKey, BelticEmulator
from adapters.beltic.sandbox.jsonapi import (
    ApiError,
    account_resource,
    api_error,
    document_resource,
    found,
    session_resource,
    single,
    verification_resource,
)
from adapters.beltic.sandbox.model import (
    DEFAULT_PAGE_SIZE,
    ENTITY_TYPES,
    MAX_PAGE_SIZE,
    SCOPE_ACCOUNTS_READ,
    SCOPE_ACCOUNTS_WRITE,
    SCOPE_DOCUMENTS_READ,
    SCOPE_SESSIONS_DECIDE,
    SCOPE_SESSIONS_READ,
    SCOPE_SESSIONS_WRITE,
    SCOPE_VERIFICATIONS_READ,
    VERIFICATION_STATUSES,
    Session,
    Status,
)
from adapters.beltic.sandbox.validation import (
    ACCOUNT_CREATE,
    ACCOUNT_READ_ONLY,
    SESSION_CREATE,
    SESSION_READ_ONLY,
    SESSION_UPDATE,
    clean_attributes,
    no_other_relationships,
    primary_data,
    read_body,
    to_one,
)
from adapters.common.sandbox.control import posted_control
from adapters.common.sandbox.http import answer_routing_errors

JSON = dict[str, Any]
T = TypeVar("T")

PAGE_PARAMS = frozenset({"page[size]", "page[after]", "page[before]", "page[total]"})
#: Each list's filters: the record field a filter's value must equal (None: the sandbox
#: records nothing to match, so the filter never matches).
SESSION_FILTERS: dict[str, str | None] = {
    "filter[status]": "status",
    "filter[entity_type]": "entity_type",
    "filter[account]": "account_id",
    # The sandbox records no session devices: that filter never matches.
    "filter[session_device]": None,
}
#: Inferred names: the guide says accounts keep an external_id "for easy lookup", not with
#: which parameter.
ACCOUNT_FILTERS: dict[str, str | None] = {
    "filter[external_id]": "external_id",
    "filter[entity_type]": "entity_type",
    "filter[status]": "status",
}
VERIFICATION_FILTERS: dict[str, str | None] = {
    "filter[session]": "session_id",
    "filter[status]": "status",
}


def install_api(app: FastAPI, engine: BelticEmulator) -> None:
    """Register the vendor API and the control endpoint on `app` (routes at its root)."""

    answer_routing_errors(
        app,
        lambda status, code, message: api_error(status, code, message).body,
        not_allowed="{method} is not allowed here.",
        not_found="No such endpoint.",
    )

    def authorize(request: Request, scope: str) -> ApiKey:
        key = engine.authenticate(request.headers.get("x-api-key"))
        engine.require(key, scope)
        engine.expire_due()
        return key

    def self_url(request: Request) -> str:
        return str(request.url)

    def session_doc(request: Request, session: Session, url: str | None = None) -> JSON:
        resource = session_resource(session)
        body = single(resource, url or self_url(request))
        included = included_for(request, [session])
        if included is not None:
            body["included"] = included
        return body

    def included_for(request: Request, sessions: list[Session]) -> list[JSON] | None:
        """JSON:API `?include=account,documents,verifications` (compound documents); without
        the parameter nothing is included, like the documented examples."""
        names = parse_include(request)
        if names is None:
            return None
        out: list[JSON] = []
        seen: set[tuple[str, str]] = set()

        def add(resource: JSON) -> None:
            if (resource["type"], resource["id"]) not in seen:
                seen.add((resource["type"], resource["id"]))
                out.append(resource)

        for session in sessions:
            for name in names:
                if name == "account" and session.account_id in engine.store.accounts:
                    add(account_resource(engine.store.accounts[session.account_id]))
                elif name == "documents":
                    for document_id in session.document_ids:
                        add(document_resource(engine.store.documents[document_id]))
                elif name == "verifications":
                    for verification_id in session.verification_ids:
                        add(verification_resource(engine.store.verifications[verification_id]))
        return out

    def session_url(request: Request, session: Session) -> str:
        return str(request.url_for("get_session", session_id=session.id))

    # -- accounts -------------------------------------------------------------------------
    @app.post("/v1/identity/accounts")
    async def create_account(request: Request) -> JSONResponse:
        authorize(request, SCOPE_ACCOUNTS_WRITE)
        document = read_body(
            await request.body(), request.headers.get("content-type"), required=True
        )
        attributes, relationships = primary_data(document, "account")
        no_other_relationships(relationships, frozenset())
        clean = clean_attributes(
            attributes, ACCOUNT_CREATE, read_only=ACCOUNT_READ_ONLY, required=("entity_type",)
        )
        account = engine.create_account(clean)
        url = str(request.url_for("get_account", account_id=account.id))
        return JSONResponse(single(account_resource(account), url), status_code=201)

    @app.get("/v1/identity/accounts/{account_id}", name="get_account")
    async def get_account(account_id: str, request: Request) -> JSONResponse:
        authorize(request, SCOPE_ACCOUNTS_READ)
        account = engine.get_account(account_id)
        return JSONResponse(single(account_resource(account), self_url(request)))

    @app.get("/v1/identity/accounts")
    async def list_accounts(request: Request) -> JSONResponse:
        authorize(request, SCOPE_ACCOUNTS_READ)
        filters = query_filters(request, ACCOUNT_FILTERS)
        _choice(filters, "filter[entity_type]", ENTITY_TYPES)
        rows = _filtered(engine.store.accounts.values(), filters, ACCOUNT_FILTERS)
        return JSONResponse(paginate(request, rows, account_resource))

    # -- sessions -------------------------------------------------------------------------
    @app.post("/v1/identity/sessions")
    async def create_session(request: Request) -> JSONResponse:
        key = authorize(request, SCOPE_SESSIONS_WRITE)
        parse_include(request)  # a bad `include` is refused before anything changes
        document = read_body(
            await request.body(), request.headers.get("content-type"), required=True
        )
        attributes, relationships = primary_data(document, "session")
        no_other_relationships(relationships, frozenset({"account", "business"}))
        # Every problem at once: attribute errors and a missing account relationship.
        problems: list[JSON] = []
        clean = clean_attributes(
            attributes,
            SESSION_CREATE,
            read_only=SESSION_READ_ONLY,
            required=("entity_type",),
            errors=problems,
        )
        account_id = None
        try:
            account_id = to_one(relationships, "account", "account", required=True)
        except ApiError as exc:
            problems += exc.errors
        if problems:
            raise ApiError(422, problems)
        if to_one(relationships, "business", "business", required=False) is not None:
            raise api_error(
                404,
                "not_found",
                "No business with this id.",
                pointer="/data/relationships/business/data/id",
            )
        assert account_id is not None
        session = engine.create_session(clean, account_id, key)
        body = session_doc(request, session, session_url(request, session))
        return JSONResponse(body, status_code=201)

    @app.get("/v1/identity/sessions/{session_id}", name="get_session")
    async def get_session(session_id: str, request: Request) -> JSONResponse:
        authorize(request, SCOPE_SESSIONS_READ)
        return JSONResponse(session_doc(request, engine.get_session(session_id)))

    @app.patch("/v1/identity/sessions/{session_id}")
    async def update_session(session_id: str, request: Request) -> JSONResponse:
        authorize(request, SCOPE_SESSIONS_WRITE)
        parse_include(request)
        session = engine.get_session(session_id)
        document = read_body(
            await request.body(), request.headers.get("content-type"), required=True
        )
        attributes, relationships = primary_data(document, "session", path_id=session_id)
        no_other_relationships(relationships, frozenset())
        clean = clean_attributes(
            attributes,
            SESSION_UPDATE,
            read_only=SESSION_READ_ONLY | {"entity_type", "expires_at"},
        )
        engine.update_session(session, clean)
        return JSONResponse(session_doc(request, session))

    @app.get("/v1/identity/sessions")
    async def list_sessions(request: Request) -> JSONResponse:
        authorize(request, SCOPE_SESSIONS_READ)
        filters = query_filters(request, SESSION_FILTERS)
        _choice(filters, "filter[status]", tuple(Status))
        _choice(filters, "filter[entity_type]", ENTITY_TYPES)
        rows = _filtered(engine.store.sessions.values(), filters, SESSION_FILTERS)
        body = paginate(request, rows, session_resource)
        listed = [engine.store.sessions[item["id"]] for item in body["data"]]
        included = included_for(request, listed)
        if included is not None:
            body["included"] = included
        return JSONResponse(body)

    def action(verb: str, scope: str, apply: Callable[[Session], Session]) -> None:
        async def endpoint(session_id: str, request: Request) -> JSONResponse:
            authorize(request, scope)
            parse_include(request)
            session = engine.get_session(session_id)
            # No body is documented; one that is sent must at least be JSON.
            read_body(await request.body(), request.headers.get("content-type"), required=False)
            apply(session)
            return JSONResponse(session_doc(request, session, session_url(request, session)))

        app.add_api_route(
            f"/v1/identity/sessions/{{session_id}}/{verb}",
            endpoint,
            methods=["POST"],
            name=f"{verb}_session",
        )

    action("approve", SCOPE_SESSIONS_DECIDE, lambda s: engine.decide(s, Status.APPROVED))
    action("decline", SCOPE_SESSIONS_DECIDE, lambda s: engine.decide(s, Status.DECLINED))
    action("expire", SCOPE_SESSIONS_WRITE, engine.expire)
    action("redact", SCOPE_SESSIONS_WRITE, engine.redact)

    # -- documents, verifications (read-only: what the emulated flow produced) ----------------
    @app.get("/v1/identity/documents/idvs/{document_id}")
    async def get_document(document_id: str, request: Request) -> JSONResponse:
        authorize(request, SCOPE_DOCUMENTS_READ)
        document = found(engine.store.documents, document_id, "document")
        return JSONResponse(single(document_resource(document), self_url(request)))

    @app.get("/v1/identity/verifications/{verification_id}")
    async def get_verification(verification_id: str, request: Request) -> JSONResponse:
        authorize(request, SCOPE_VERIFICATIONS_READ)
        verification = found(engine.store.verifications, verification_id, "verification")
        return JSONResponse(single(verification_resource(verification), self_url(request)))

    @app.get("/v1/identity/verifications")
    async def list_verifications(request: Request) -> JSONResponse:
        authorize(request, SCOPE_VERIFICATIONS_READ)
        filters = query_filters(request, VERIFICATION_FILTERS)
        # The reference's own query parameters are `session_id` and `status`
        # (identity-verifications-list); `filter[...]` is kept for older callers.
        for name, documented in (("filter[session]", "session_id"), ("filter[status]", "status")):
            if documented in request.query_params:
                filters[name] = request.query_params[documented]
        _choice(filters, "filter[status]", VERIFICATION_STATUSES)
        rows = _filtered(engine.store.verifications.values(), filters, VERIFICATION_FILTERS)
        return JSONResponse(paginate(request, rows, verification_resource))

    # -- sandbox control (not a Beltic endpoint) ------------------------------------------------
    @app.post("/sessions/{session_id}/simulate")
    async def simulate(session_id: str, request: Request) -> JSONResponse:
        """Play the person's and Beltic's part. Never pushes the status change: Beltic has no
        session webhooks, so `webhook` is always "not delivered"; a document webhook (the only
        kind Beltic sends) is reported under `document_webhook`."""
        control = await posted_control(request)
        if control is None:
            raise api_error(
                400,
                "invalid_document",
                'Expected a JSON body {"action": "<action>"}.',
                pointer="/action",
            )
        engine.expire_due()
        session = engine.get_session(session_id)
        result = await engine.simulate(session, control.action, control.reason)
        return JSONResponse(
            {
                "session_id": session.id,
                "status": session.status,
                "webhook": {"delivered": False, "status_code": None},
                "document_webhook": (
                    result.document_webhook.to_json() if result.document_webhook else None
                ),
            }
        )


# -- query parameters and pagination (the sessions list reference) ---------------------------

INCLUDABLE = ("account", "documents", "verifications")


def parse_include(request: Request) -> list[str] | None:
    value = request.query_params.get("include")
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        if name not in INCLUDABLE:
            raise api_error(
                400,
                "invalid_parameter",
                f"Cannot include `{name}`; includable: {', '.join(INCLUDABLE)}.",
                parameter="include",
            )
    return list(dict.fromkeys(names))


def query_filters(request: Request, allowed_filters: Mapping[str, object]) -> dict[str, str]:
    """The request's `filter[...]` values; 400 for an unknown `filter[...]` or `page[...]`."""
    filters: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name.startswith("filter["):
            if name not in allowed_filters:
                raise api_error(
                    400, "invalid_parameter", f"Unknown filter `{name}`.", parameter=name
                )
            filters[name] = value
        elif name.startswith("page[") and name not in PAGE_PARAMS:
            raise api_error(
                400, "invalid_parameter", f"Unknown page parameter `{name}`.", parameter=name
            )
    return filters


def _filtered(
    rows: Iterable[T], filters: dict[str, str], fields: Mapping[str, str | None]
) -> list[T]:
    """The rows every given filter matches: `fields` names the field each filter compares."""
    return [
        row
        for row in rows
        if all(
            (field := fields[name]) is not None and getattr(row, field) == wanted
            for name, wanted in filters.items()
        )
    ]


def _choice(filters: dict[str, str], name: str, allowed: Sequence[str]) -> None:
    if name in filters and filters[name] not in allowed:
        raise api_error(
            400,
            "invalid_parameter",
            f"`{name}` must be one of: {', '.join(allowed)}.",
            parameter=name,
        )


def encode_cursor(row: Any) -> str:
    """Opaque cursor: base64 of `{"values":{"created_at":…},"id":…}` (the doc's example)."""
    raw = json.dumps(
        {"values": {"created_at": row.created_at}, "id": row.id}, separators=(",", ":")
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str, parameter: str) -> str:
    try:
        padded = text + "=" * (-len(text) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        ident = data["id"]
        if not isinstance(ident, str):
            raise TypeError(ident)
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise api_error(
            400, "invalid_parameter", f"`{parameter}` is not a valid cursor.", parameter=parameter
        ) from None
    return ident


def paginate(request: Request, rows: list[T], render: Callable[[T], JSON]) -> JSON:
    """Newest first; `page[size]` (1-100, default 15), `page[after]` / `page[before]`
    cursors, `page[total]`; `links.next` / `links.prev` carry the cursors."""
    params = request.query_params
    size_text = params.get("page[size]", str(DEFAULT_PAGE_SIZE))
    if not size_text.isdigit() or not 1 <= int(size_text) <= MAX_PAGE_SIZE:
        raise api_error(
            400,
            "invalid_parameter",
            f"`page[size]` must be an integer from 1 to {MAX_PAGE_SIZE}.",
            parameter="page[size]",
        )
    size = int(size_text)
    total_text = params.get("page[total]", "false")
    if total_text not in ("true", "false"):
        raise api_error(
            400,
            "invalid_parameter",
            "`page[total]` must be true or false.",
            parameter="page[total]",
        )
    after, before = params.get("page[after]"), params.get("page[before]")
    if after is not None and before is not None:
        raise api_error(
            400,
            "invalid_parameter",
            "Send `page[after]` or `page[before]`, not both.",
            parameter="page[before]",
        )
    ordered = sorted(rows, key=lambda r: r.id, reverse=True)  # ids sort by creation
    if after is not None:
        cursor = decode_cursor(after, "page[after]")
        start = sum(1 for r in ordered if r.id >= cursor)
        end = min(start + size, len(ordered))
    elif before is not None:
        cursor = decode_cursor(before, "page[before]")
        end = sum(1 for r in ordered if r.id > cursor)
        start = max(0, end - size)
    else:
        start, end = 0, min(size, len(ordered))
    page = ordered[start:end]
    has_next, has_previous = end < len(ordered), start > 0

    def link(**page_params: str) -> str:
        kept = [
            (k, v)
            for k, v in params.multi_items()
            if k not in ("page[after]", "page[before]", "page[size]")
        ]
        kept.append(("page[size]", str(size)))
        kept += list(page_params.items())
        base = str(request.url.remove_query_params(list(params.keys())))
        return f"{base}?{urlencode(kept, safe='[]')}"

    if len(ordered) > size:
        last = link(**{"page[after]": encode_cursor(ordered[len(ordered) - size - 1])})
    else:
        last = link()
    meta_page: JSON = {"size": size, "hasNext": has_next, "hasPrevious": has_previous}
    if total_text == "true":
        meta_page["total"] = len(ordered)
    return {
        "data": [render(row) for row in page],
        "meta": {"page": meta_page},
        "links": {
            "self": str(request.url),
            "first": link(),
            "last": last,
            "next": link(**{"page[after]": encode_cursor(page[-1])}) if has_next else None,
            "prev": link(**{"page[before]": encode_cursor(page[0])}) if has_previous else None,
        },
    }
