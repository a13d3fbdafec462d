"""The GraphQL HTTP/websocket endpoint: authenticates websockets in `connection_init`."""

from __future__ import annotations

from typing import Any

from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.types.unset import UnsetType

from gateway.api.context import Context
from gateway.auth import PrincipalKind


class GatewayGraphQLRouter(GraphQLRouter[Context, None]):
    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, Any] | None:
        """Credentials in `connectionParams` win over the handshake headers; wrong ones
        close the socket (4403) before any subscription starts."""
        params = context.connection_params
        if params:
            context.principal = context.auth.from_connection_params(params)
        if context.principal.kind is PrincipalKind.INVALID:
            raise ConnectionRejectionError({"reason": context.principal.problem})
        return await super().on_ws_connect(context)
