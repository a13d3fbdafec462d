"""Output types of the vendors this gateway runs (`providers`) and of its routing rules
(`routing`)."""

from __future__ import annotations

import enum

import strawberry

from gateway.web.graphql.enums import Capability, Environment, InputSupport


@strawberry.enum
class BreakerState(enum.Enum):
    CLOSED = "CLOSED"
    OPEN = "OPEN"
    HALF_OPEN = "HALF_OPEN"


@strawberry.type
class ProviderHealth:
    breaker: BreakerState = strawberry.field(
        description="CLOSED: healthy; OPEN: failing, skipped by routing; HALF_OPEN: the next "
        "call is a probe."
    )


@strawberry.type
class InputFieldSupport:
    field: str = strawberry.field(description='A createSession input field, e.g. "expiresIn".')
    support: InputSupport
    note: str = strawberry.field(description="How it is mapped, or why it is not honoured.")


@strawberry.type
class Provider:
    name: str
    mode: Environment
    configured: bool
    capabilities: list[Capability]
    health: ProviderHealth
    input_support: list[InputFieldSupport] = strawberry.field(
        description="What this vendor does with every createSession input field."
    )
    person_flow: str | None = strawberry.field(
        description="How a person progresses a session of this vendor when it has no hosted "
        "page (verificationUrl stays null); null for vendors with one."
    )


@strawberry.type
class RoutingSplit:
    provider: str
    weight: float


@strawberry.type
class RoutingRuleInfo:
    name: str
    provider: str | None
    split: list[RoutingSplit]
    document_country: list[str]
    nationality: list[str]
    capability: list[Capability]


@strawberry.type
class RoutingInfo:
    default: str
    rules: list[RoutingRuleInfo]
    failover: list[str]
