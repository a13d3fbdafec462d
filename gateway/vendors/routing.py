"""Which vendor a new session goes to, and which ones to fail over to.

Configured in settings (`KYCGW_ROUTING`, JSON), shown by the `routing` query. Order of
precedence: an explicit `provider` in the input always wins (and never fails over); else the
first rule whose conditions match; else the default vendor. A rule names one vendor or a
weighted split that is sticky per `clientReference` (the same person always lands on the same
vendor). Requests that need a capability (e.g. `steps` → STEPS) only go to vendors that have it.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from adapters.base import Capability, CreateSessionRequest
from gateway.routing_rules import RoutingConfig, required_capabilities


@dataclass(frozen=True)
class RoutePlan:
    candidates: list[str]  # the chosen vendor first, then failover vendors
    rule: str  # "explicit", a rule's name, or "default"
    explicit: bool


def sticky_bucket(key: str) -> float:
    """A stable position in [0, 1) for a client reference."""
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def pick_weighted(split: dict[str, float], key: str | None) -> str:
    position = sticky_bucket(key) if key else secrets.randbelow(10**9) / 10**9
    total = sum(split.values())
    cumulative = 0.0
    for vendor, weight in sorted(split.items()):
        cumulative += weight / total
        if position < cumulative:
            return vendor
    return sorted(split)[-1]


class Router:
    def __init__(
        self,
        config: RoutingConfig,
        default: str,
        vendors: list[str],
        capabilities_of: Callable[[str], frozenset[Capability]],
    ) -> None:
        self.config = config
        self.default = config.default or default
        self.vendors = vendors
        self._capabilities_of = capabilities_of

    def known_vendors(self) -> set[str]:
        vendors = {self.default, *self.config.failover}
        for rule in self.config.rules:
            vendors.update(rule.vendors())
        return vendors

    def plan(self, request: CreateSessionRequest, explicit: str | None) -> RoutePlan:
        if explicit:
            return RoutePlan([explicit], "explicit", True)
        needs = required_capabilities(request)
        able = [
            vendor for vendor in self._ordered_vendors() if needs <= self._capabilities_of(vendor)
        ]
        chosen, rule = self._choose(request, needs)
        candidates = [chosen] if chosen else []
        candidates += [v for v in self.config.failover if v in able and v not in candidates]
        if not candidates:
            # Nothing configured can take it (e.g. steps): any registered vendor that can.
            candidates = able[:1]
            rule = "capability"
        return RoutePlan(candidates, rule, False)

    def _choose(
        self, request: CreateSessionRequest, needs: set[Capability]
    ) -> tuple[str | None, str]:
        for rule in self.config.rules:
            if not rule.when.matches(request):
                continue
            if rule.provider:
                vendor = rule.provider
            else:
                vendor = pick_weighted(rule.split, request.client_reference)
            if needs <= self._capabilities_of(vendor):
                return vendor, rule.name
        if needs <= self._capabilities_of(self.default):
            return self.default, "default"
        return None, "capability"

    def _ordered_vendors(self) -> list[str]:
        ordered = [self.default, *self.config.failover]
        for rule in self.config.rules:
            ordered += rule.vendors()
        ordered += sorted(self.vendors)
        return list(dict.fromkeys(v for v in ordered if v in self.vendors))
