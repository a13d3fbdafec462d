"""The GraphQL HTTP/websocket endpoint: authenticates websockets in `connection_init` and
refuses request bodies strawberry cannot use before it tries to."""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UnsetType

from gateway.api.context import Context
from gateway.auth import PrincipalKind


class GatewayGraphQLRouter(GraphQLRouter[Context, None]):
    def parse_json(self, data: str | bytes) -> Any:
        """A request body (or `variables`/`extensions` parameter) must be a JSON object, or a
        list for a batch. Invalid UTF-8, nesting deep enough to exhaust the parser, and bare
        scalars such as `0` are the caller's mistake: 400, not a crash further in."""
        try:
            value = self.decode_json(data)
        except (ValueError, RecursionError) as error:  # UnicodeDecodeError is a ValueError
            raise HTTPException(400, "Unable to parse request body as JSON") from error
        if not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object with a `query`")
        return value

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, Any] | None:
        """Credentials in `connectionParams` win over the handshake headers; wrong ones
        close the socket (4403) before any subscription starts."""
        params = context.connection_params
        if params:
            context.principal = context.auth.from_connection_params(params)
        if context.principal.kind is PrincipalKind.INVALID:
            raise ConnectionRejectionError({"reason": context.principal.problem})
        return await super().on_ws_connect(context)
