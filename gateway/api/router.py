"""The GraphQL HTTP/websocket endpoint: authenticates websockets in `connection_init`,
refuses request bodies strawberry cannot use before it tries to, and negotiates the
GraphQL-over-HTTP response media type (`gateway/api/media.py`)."""

from __future__ import annotations

from typing import Any

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.http import GraphQLHTTPResponse
from strawberry.types.unset import UnsetType

from gateway.api.context import Context
from gateway.api.media import GRAPHQL_RESPONSE_JSON, negotiate, request_error_status
from gateway.api.shared_streams import SharedStreams
from gateway.api.ws_handler import SharingTransportWSHandler
from gateway.auth import PrincipalKind

#: Headers a cross-site form cannot set: one of them makes a multipart request acceptable.
PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)


class GatewayGraphQLRouter(GraphQLRouter[Context, None]):
    graphql_transport_ws_handler_class = SharingTransportWSHandler

    def __init__(
        self,
        *args: Any,
        subscriber_queue_size: int = 256,
        max_request_bytes: int = 1_048_576,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        #: Subscriptions of one shape share an execution (gateway/api/shared_streams.py).
        self.shared_streams = SharedStreams(self.schema, subscriber_queue_size)
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
        close the socket (4403) before any subscription starts."""
        params = context.connection_params
        if params:
            context.principal = context.auth.from_connection_params(params)
        if context.principal.kind is PrincipalKind.INVALID:
            raise ConnectionRejectionError({"reason": context.principal.problem})
        return await super().on_ws_connect(context)
