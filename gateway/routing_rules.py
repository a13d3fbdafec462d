"""The shape of `KYCGW_ROUTING` (rules, splits, failover): configuration the settings object
validates at start-up, so it sits beside `gateway/settings.py`; `gateway/vendors/routing.py`
applies it to each new session."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

from adapters.base import Capability, CreateSessionRequest


def required_capabilities(request: CreateSessionRequest) -> set[Capability]:
    return {Capability.STEPS} if request.steps else set()


class RuleConditions(BaseModel):
    document_country: list[str] = Field(default_factory=list)  # ISO 3166-1 alpha-3
    nationality: list[str] = Field(default_factory=list)
    capability: list[Capability] = Field(default_factory=list)

    def matches(self, request: CreateSessionRequest) -> bool:
        person = request.expected_person
        if self.document_country and (
            person is None or person.document_country not in self.document_country
        ):
            return False
        if self.nationality and (person is None or person.nationality not in self.nationality):
            return False
        return not self.capability or set(self.capability) <= required_capabilities(request)


class RoutingRule(BaseModel):
    name: str
    when: RuleConditions = Field(default_factory=RuleConditions)
    provider: str | None = None
    #: vendor → weight; sticky per clientReference
    split: dict[str, float] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_target(self) -> RoutingRule:
        if bool(self.provider) == bool(self.split):
            raise ValueError(f"rule {self.name!r}: give exactly one of provider or split")
        if any(weight <= 0 for weight in self.split.values()):
            raise ValueError(f"rule {self.name!r}: split weights must be positive")
        return self

    def vendors(self) -> list[str]:
        return [self.provider] if self.provider else list(self.split)


class RoutingConfig(BaseModel):
    default: str | None = None  # falls back to KYCGW_DEFAULT_PROVIDER
    rules: list[RoutingRule] = Field(default_factory=list)
    #: Vendors to try, in order, when the chosen one fails transiently.
    failover: list[str] = Field(default_factory=list)
