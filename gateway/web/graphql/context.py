"""Per-request context: the service every resolver talks to, and who is calling."""

from __future__ import annotations

from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info as _Info

from gateway.auth import Authenticator, Principal
from gateway.outbound.service import OutboundWebhooks
from gateway.sessions.service import SessionService
from gateway.store.models import StatusChangeRow


class Context(BaseContext):
    """A new one per HTTP request, one per websocket connection (strawberry sets `request`
    and, on websockets, `connection_params`)."""

    def __init__(
        self,
        service: SessionService,
        auth: Authenticator,
        principal: Principal,
        webhooks: OutboundWebhooks | None = None,
    ) -> None:
        super().__init__()
        self.service = service
        self.webhooks = webhooks
        self.auth = auth
        self.principal = principal
        self.connection_params: dict[str, Any] | None = None
        self._histories: DataLoader[str, list[StatusChangeRow]] | None = None

    @property
    def histories(self) -> DataLoader[str, list[StatusChangeRow]]:
        """`history` of every session in one answer with one query, not one per session
        (a page of `sessions` asked 100). No cache: a websocket's context lives as long as
        the connection, and a history read there must not be an old one."""
        if self._histories is None:
            self._histories = DataLoader(self._load_histories, cache=False)
        return self._histories

    async def _load_histories(self, session_ids: list[str]) -> list[list[StatusChangeRow]]:
        return await self.service.histories(session_ids)


Info = _Info[Context, Any]
