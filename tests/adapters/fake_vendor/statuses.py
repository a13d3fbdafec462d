"""Acme's status declarations: its five statuses, what each allows, what is polled."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import Capability, SessionStatus, allowed_from

STATUS_TABLE: Mapping[str, SessionStatus] = MappingProxyType(
    {
        "new": SessionStatus.CREATED,
        "started": SessionStatus.IN_PROGRESS,
        "passed": SessionStatus.APPROVED,
        "failed": SessionStatus.DECLINED,
        "cancelled": SessionStatus.CANCELLED,
    }
)
ALWAYS_ALLOWED: frozenset[Capability] = frozenset(
    {Capability.READ, Capability.REFRESH, Capability.WEBHOOKS, Capability.POLLING}
)
#: A session can be cancelled until the person has finished.
ACTIONS_BY_STATUS: Mapping[str, frozenset[Capability]] = allowed_from(
    {Capability.CANCEL: {"new", "started"}}
)
#: `started` has no webhook: the person's progress is only seen by reading.
POLLED: frozenset[str] = frozenset({"started"})
