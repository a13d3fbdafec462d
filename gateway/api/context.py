"""Per-request context: the service every resolver talks to, and who is calling."""

from __future__ import annotations

from typing import Any

from strawberry.fastapi import BaseContext
from strawberry.types import Info as _Info

from gateway.auth import Authenticator, Principal
from gateway.service import SessionService


class Context(BaseContext):
    """A new one per HTTP request, one per websocket connection (strawberry sets `request`
    and, on websockets, `connection_params`)."""

    def __init__(self, service: SessionService, auth: Authenticator, principal: Principal) -> None:
        super().__init__()
        self.service = service
        self.auth = auth
        self.principal = principal
        self.connection_params: dict[str, Any] | None = None


Info = _Info[Context, Any]
