"""The GraphQL HTTP/websocket endpoint: authenticates websockets in `connection_init`,
refuses request bodies strawberry cannot use before it tries to, negotiates the
GraphQL-over-HTTP response media type (`gateway/web/graphql/media.py`) and, in a keyed deployment,
refuses HTTP operations without valid credentials before their document is parsed and
GraphiQL to callers without an API key (docs/security.md). Subscriptions run over websockets
or Apollo's multipart HTTP protocol only (`gateway/web/graphql/http_subscriptions.py`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from gateway.auth import PrincipalKind
from gateway.errors import ErrorCode
from gateway.web.graphql.context import Context
from gateway.web.graphql.http_subscriptions import (
    MULTIPART_SUBSCRIPTION_PROTOCOL,
    SUBSCRIPTION_TRANSPORTS,
    MultipartSubscriptions,
    until_expiry,
)
from gateway.web.graphql.media import GRAPHQL_RESPONSE_JSON, negotiate, request_error_status
from gateway.web.graphql.permissions import schema_refusal
from gateway.web.graphql.shared_streams import SharedStreams
from gateway.web.graphql.ws_handler import GuardedLegacyWSHandler, SharingTransportWSHandler
from gateway.web.pages.graphiql import graphiql_response

#: Headers a cross-site form cannot set: one of them makes a multipart request acceptable.
PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
#: Answer to a request error of only these codes, instead of 400 (graphql-response+json).
AUTH_STATUS = {"UNAUTHENTICATED": 401, "FORBIDDEN": 403}


class GatewayGraphQLRouter(GraphQLRouter[Context, None]):
    graphql_transport_ws_handler_class = SharingTransportWSHandler
    graphql_ws_handler_class = GuardedLegacyWSHandler
    stream_transport_classes_by_protocol = {
        **GraphQLRouter.stream_transport_classes_by_protocol,
        MULTIPART_SUBSCRIPTION_PROTOCOL: MultipartSubscriptions,
    }

    def __init__(
        self,
        *args: Any,
        subscriber_queue_size: int = 256,
        subscriber_queue_bytes: int | None = None,
        subscriber_send_timeout_s: float = 30.0,
        max_request_bytes: int = 1_048_576,
        public_schema: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if MULTIPART_SUBSCRIPTION_PROTOCOL not in self.protocols:
            self.protocols = [*self.protocols, MULTIPART_SUBSCRIPTION_PROTOCOL]
        #: With API keys configured, GraphiQL (and introspection) need one unless this is set.
        self.public_schema = public_schema
        #: Subscriptions of one shape share an execution (gateway/web/graphql/shared_streams.py).
        self.shared_streams = SharedStreams(
            self.schema, subscriber_queue_size, subscriber_queue_bytes, self.encode_json_string
        )
        #: A websocket that takes no frame for this long is dropped
        #: (gateway/web/graphql/ws_handler.py).
        self.subscriber_send_timeout_s = subscriber_send_timeout_s
        self.max_request_bytes = max_request_bytes

    def parse_json(self, data: str | bytes) -> Any:
        """A request body (or `variables`/`extensions` parameter) must be a JSON object, or a
        list for a batch. Invalid UTF-8, nesting deep enough to exhaust the parser, and bare
        scalars such as `0` are the caller's mistake: 400, not a crash further in. The route
        admits multipart uploads up to their own limit; JSON keeps the request limit."""
        if len(data) > self.max_request_bytes:
            raise HTTPException(413, "Request body too large")
        try:
            value = self.decode_json(data)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object with a `query`")
        return value

    async def run(
        self,
        request: Request | WebSocket,
        context: Context | UnsetType = UNSET,
        root_value: UnsetType | None = UNSET,
    ) -> Response | WebSocket:
        """In a keyed deployment, before strawberry reads anything of an HTTP request:
        GraphiQL (it shows the whole schema) needs an API key, and an operation without
        valid credentials is answered UNAUTHENTICATED before its body or document is parsed
        or validated, so an anonymous caller costs nothing but the request (issue 14). Every
        root field needs credentials, so no answer changes. With a public schema anonymous
        callers may introspect: their documents are parsed and validated as everyone's."""
        if isinstance(request, Request) and isinstance(context, Context):
            if self.graphql_ide and self.should_render_graphql_ide(
                self.request_adapter_class(request)
            ):
                refusal = self._schema_refusal(context)
                if refusal is not None:
                    status, reason = refusal
                    headers = {"www-authenticate": "Bearer"} if status == 401 else None
                    return PlainTextResponse(reason, status_code=status, headers=headers)
            elif self._refuses_unauthenticated(context):
                error = GraphQLError(
                    context.principal.problem or "credentials required",
                    extensions={"code": "UNAUTHENTICATED"},
                )
                return self.create_response(
                    {"data": None, "errors": [error.formatted]},
                    await self.get_sub_response(request),
                )
        return await super().run(request, context, root_value)

    async def render_graphql_ide(self, request: Request) -> Response:
        """GraphiQL with its assets served by the gateway, not a CDN
        (gateway/web/pages/graphiql.py); `run` above has already checked the caller may see it."""
        return graphiql_response()

    def _refuses_unauthenticated(self, context: Context) -> bool:
        return (
            not context.auth.dev_mode
            and not self.public_schema
            and not context.principal.authenticated
        )

    def _schema_refusal(self, context: Context) -> tuple[int, str] | None:
        code = schema_refusal(
            context.principal, dev_mode=context.auth.dev_mode, public=self.public_schema
        )
        if code is None:
            return None
        return (401 if code is ErrorCode.UNAUTHENTICATED else 403), "GraphiQL needs an API key"

    async def parse_multipart(self, request: AsyncHTTPRequestAdapter) -> dict[str, str]:
        """GraphQL multipart requests (file uploads). A browser sends a multipart form
        cross-site without a CORS preflight, so one must carry a header only a script can set
        (as Apollo Server requires): without it, a page elsewhere could make a logged-in
        browser post a mutation."""
        if not any(request.headers.get(name) for name in PREFLIGHT_HEADERS):
            raise HTTPException(
                400,
                "multipart requests must carry a non-empty "
                + " or ".join(PREFLIGHT_HEADERS)
                + " header (CSRF protection)",
            )
        return await super().parse_multipart(request)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: None,
        sub_response: Response,
    ) -> Any:
        """A multipart subscription ends when a client token's credential expires, as its
        websocket would be closed."""
        result = await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )
        streamed = isinstance(request_data, GraphQLRequestData) and self._get_stream_transport(
            request_data.protocol
        )
        if streamed and context.principal.expires_at is not None:
            return until_expiry(result, context)
        return result

    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """strawberry's, without subscriptions: outside a streaming transport one would run
        to its first event and answer null for its non-null root field, a masked crash. It
        is refused before validation with a 400 naming the transports that work."""
        allowed = OperationType.from_http(request_adapter.method) - {OperationType.SUBSCRIPTION}
        if not self.allow_queries_via_get and request_adapter.method == "GET":
            allowed -= {OperationType.QUERY}
        try:
            return await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except InvalidOperationTypeError as error:
            if error.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(400, SUBSCRIPTION_TRANSPORTS) from error
            raise HTTPException(400, error.as_http_error_reason(request_adapter.method)) from error
        except CannotGetOperationTypeError as error:
            raise HTTPException(400, error.as_http_error_reason()) from error
        except MissingQueryError as error:
            raise HTTPException(400, "No GraphQL query found in the request") from error

    async def create_streaming_response(
        self,
        request: Request,
        stream: Any,
        sub_response: Response,
        headers: Mapping[str, str],
    ) -> Response:
        """The answer depends on Accept (a multipart stream or JSON), and a stream of live
        changes must not be cached."""
        response = await super().create_streaming_response(request, stream, sub_response, headers)
        response.headers.append("vary", "accept")
        response.headers["cache-control"] = "no-store"
        return response

    async def get_sub_response(self, request: Request) -> Response:
        """Record the negotiated media type on the per-request sub-response, the only thing
        `create_response` is given."""
        sub_response = await super().get_sub_response(request)
        sub_response.media_type = negotiate(request.headers.get("accept"))
        return sub_response

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        """`application/graphql-response+json` when negotiated: a request error (no execution)
        loses its `data` entry and gets a 4xx/5xx, as that media type's spec requires. Batches
        (not part of the spec) and `application/json` keep strawberry's answer: 200 even for
        errors. Either way the answer depends on Accept, so caches must `Vary` on it."""
        if sub_response.media_type != GRAPHQL_RESPONSE_JSON or isinstance(response_data, list):
            response = super().create_response(response_data, sub_response)
        else:
            status = request_error_status(response_data)
            if status == 400:
                codes = {(e.get("extensions") or {}).get("code") for e in response_data["errors"]}
                status = AUTH_STATUS.get(codes.pop(), 400) if len(codes) == 1 else 400
                if status == 401:
                    sub_response.headers["www-authenticate"] = "Bearer"
            if status is not None:
                response_data = response_data.copy()
                response_data.pop("data", None)
            response = Response(
                self.encode_json(response_data),
                media_type=f"{GRAPHQL_RESPONSE_JSON}; charset=utf-8",
                status_code=status or sub_response.status_code or 200,
            )
            response.headers.raw.extend(sub_response.headers.raw)
        response.headers.append("vary", "accept")
        return response

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, Any] | None:
        """Credentials in `connectionParams` win over the handshake headers; wrong ones
        close the socket (4403) before any subscription starts. The principal found here
        stays the connection's until its expiry, when the handler closes the socket."""
        params = context.connection_params
        if params:
            context.principal = context.auth.from_connection_params(params)
        kind = context.principal.kind
        if kind is PrincipalKind.INVALID or (
            kind is PrincipalKind.ANONYMOUS and not context.auth.dev_mode
        ):
            # In a keyed deployment nothing of an unauthenticated socket is ever parsed.
            raise ConnectionRejectionError(
                {"reason": context.principal.problem or "credentials required"}
            )
        return await super().on_ws_connect(context)
