"""Base classes of the vendors' wire models (each vendor's `wire.py` holds its own shapes).

Requests are strict: we build them, so `extra="forbid"` catches a typo in an adapter.
Responses and webhooks are lenient: vendors add fields over time, so unknown fields are kept
(in `model_extra`) rather than refused.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """A body we send. `to_json()` leaves out unset (None) fields."""

    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class LenientModel(BaseModel):
    """A body a vendor sends: unknown fields are kept."""

    model_config = ConfigDict(extra="allow")
