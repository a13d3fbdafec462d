"""UIP's own request/response shapes (docs/vendors/uip.md, Endpoints we call; Webhooks and
signature).

Requests are strict (we control them; `extra="forbid"` catches typos in the adapter).
Responses and webhooks are lenient: two published versions of GET exist, so unknown fields are
kept and nearly everything is optional. Claims (`claims`) are parsed as opaque values and only
ever travel in a snapshot's restricted `raw`.
"""

from __future__ import annotations

import json
from datetime import datetime
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt

from adapters.base import StepRequest, StepType
from adapters.uip import inferred

#: Normalized step type → UIP primitive (api-reference/sessions/create `steps[].primitive`).
PRIMITIVES = MappingProxyType(
    {
        StepType.IDENTIFY: "identify",
        StepType.AGE_VERIFY: "age_verify",
        StepType.SIGN: "sign",
        StepType.LIGHT_SIGN: "light_sign",
    }
)
STEP_TYPES = MappingProxyType({primitive: step for step, primitive in PRIMITIVES.items()})

#: Create limits (https://docs.uip.digital/api-reference/sessions/create, core-concepts/primitives).
METADATA_MAX_KEYS = 50
EXPIRES_IN_MIN = 60
EXPIRES_IN_MAX = 86_400
MIN_AGE_RANGE = (1, 120)
#: sign: "Up to 50 files, 50 MB combined" (core-concepts/primitives).
SIGN_MAX_BYTES = 50 * 1024 * 1024
#: identify: a block the credential lacks comes back as this string.
UNAVAILABLE = "unavailable"


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_none=True)


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="allow")


def step_json(step: StepRequest) -> dict[str, Any]:
    """One `steps[]` item: `primitive`, `params` when given, the gate in its one place."""
    item: dict[str, Any] = {"primitive": PRIMITIVES[step.type]}
    if step.params:
        item["params"] = dict(step.params)
    if step.gate:
        item[inferred.GATE_KEY] = inferred.GATE_ON_VALUE
    return item


class CreateSessionBody(_Request):
    steps: list[dict[str, Any]] = Field(min_length=1)
    client_reference_id: str | None = None
    metadata: dict[str, str] | None = None
    return_url: str | None = None
    expires_in: int | None = None

    def to_form(self) -> dict[str, str]:
        """The same fields as multipart form fields (inferred.MULTIPART_JSON_FIELDS as JSON
        text, the others as text)."""
        form: dict[str, str] = {}
        for name, value in self.to_json().items():
            if name in inferred.MULTIPART_JSON_FIELDS:
                form[name] = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            else:
                form[name] = str(value)
        return form


class CreateResponse(_Lenient):
    """`{id, status, url, expires}` — note `expires`, where GET says `expires_at`."""

    id: str = Field(min_length=1)
    status: str = Field(min_length=1)
    url: str | None = None
    expires: datetime | None = None
    expires_at: datetime | None = None
    created_at: datetime | None = None


class VerifiedStep(_Lenient):
    """One verified step: Version B's `results[]` item (`step`) or a `step.completed` payload
    (`stage`). Claims are opaque here; PII never leaves `raw`."""

    step: Any = None
    stage: Any = None
    primitive: Any = None
    verified_at: datetime | None = None
    audit_id: Any = None
    claims: Any = None
    satisfied: Any = None
    min_age: Any = None
    signature: Any = None
    document_hash: Any = None

    @property
    def index(self) -> int | None:
        """The 0-based step index (`step` on reads, `stage` on webhooks), if usable."""
        for value in (self.step, self.stage):
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                return value
        return None

    @property
    def primitive_name(self) -> str | None:
        return self.primitive if isinstance(self.primitive, str) and self.primitive else None


class SessionResource(_Lenient):
    """GET (both versions) and the continue / stop answers: only `id` and `status` are
    common to all of them."""

    id: str = Field(min_length=1)
    status: str = Field(min_length=1)
    current_step: StrictInt | None = Field(default=None, ge=0)
    step_count: StrictInt | None = Field(default=None, ge=0)
    primitives: list[str] | None = None  # Version A
    current_primitive: str | None = None  # Version A, continue
    results: list[VerifiedStep] | None = None  # Version B
    outcome: str | None = None  # Version B: terminal reason, "" while in progress
    client_reference_id: str | None = None
    metadata: Any = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expires_at: datetime | None = None
    expires: datetime | None = None  # the create spelling, tolerated
    url: str | None = None  # not documented on reads; used when present


class WebhookData(VerifiedStep):
    """`data` of every event: `session_id` always, `client_reference_id` / `metadata` when
    set; step fields on `step.completed`; `status` / `reason` on `session.*`."""

    session_id: str | None = None
    client_reference_id: str | None = None
    metadata: Any = None
    status: str | None = None
    reason: Any = None


class WebhookEnvelope(_Lenient):
    event: str = Field(min_length=1)
    data: WebhookData


class AuditRecord(_Lenient):
    """`GET /v1/audits/{id}` (https://docs.uip.digital/api-reference/audits/get): the redacted
    record of one verified step. `proof` is "PII-free by construction" by UIP's word; it is
    still kept out of logs and shown only to `pii:read` (docs/vendors/uip.md, Audit)."""

    id: str = Field(min_length=1)
    session_id: str | None = None
    stage: StrictInt = Field(ge=0)
    primitive: str | None = None
    wallet: str | None = None
    proof: dict[str, Any] | None = None
    record_hash: str | None = None
    prev_hash: str | None = None
    ts_token: str | None = None
    occurred_at: datetime | None = None
    client_reference_id: str | None = None
    business_redacted: bool | None = None
