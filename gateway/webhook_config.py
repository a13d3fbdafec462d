"""The shape of an endpoint fixed in configuration (`KYCGW_WEBHOOK_ENDPOINTS`); what the
delivery worker does with it is `gateway/outbound/`."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field, SecretStr, field_validator

#: Every event type an endpoint may ask for (docs/webhooks.md).
EVENT_STATUS_CHANGED = "session.status_changed"
EVENT_FINAL = "session.final"
EVENT_TYPES = (EVENT_STATUS_CHANGED, EVENT_FINAL)
SECRET_PREFIX = "whsec_"


def events_problem(events: Sequence[str]) -> str | None:
    """Why a list of event types is refused (empty, or naming one not in EVENT_TYPES), or
    None: the one check for settings and GraphQL alike."""
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if not unknown and events:
        return None
    return f"events must be some of {', '.join(EVENT_TYPES)}" + (
        f" (unknown: {', '.join(unknown)})" if unknown else ""
    )


class StaticWebhookEndpoint(BaseModel):
    url: str
    secret: SecretStr
    events: list[str] = Field(default_factory=lambda: list(EVENT_TYPES))
    providers: list[str] = Field(default_factory=list)
    description: str = ""

    @field_validator("events")
    @classmethod
    def _known_events(cls, events: list[str]) -> list[str]:
        problem = events_problem(events)
        if problem is not None:
            raise ValueError(problem)
        return events

    @field_validator("secret")
    @classmethod
    def _whsec(cls, secret: SecretStr) -> SecretStr:
        if not secret.get_secret_value().startswith(SECRET_PREFIX):
            raise ValueError(f"a webhook secret starts with {SECRET_PREFIX}")
        return secret
