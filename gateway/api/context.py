"""Per-request context: the service every resolver talks to."""

from __future__ import annotations

from typing import Any

from strawberry.fastapi import BaseContext
from strawberry.types import Info as _Info

from gateway.service import SessionService


class Context(BaseContext):
    """A new one per request (strawberry sets `request` on it)."""

    def __init__(self, service: SessionService) -> None:
        super().__init__()
        self.service = service


Info = _Info[Context, Any]
