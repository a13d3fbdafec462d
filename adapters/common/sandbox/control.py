"""The control endpoint every emulator serves (`POST /sessions/{id}/simulate`): one action
vocabulary, one body, and the script the `simulate` command follows.

The control endpoint is our tooling, not a vendor's API: its body is the same everywhere,
`{"action": <SimulateAction>, "reason"?: <text>}` (`rejection_reason` is still read as an
alias of `reason`, the name one emulator used first). Which actions an emulator accepts, and
what a refusal looks like, stays the vendor's: each answers in its vendor's error body.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from starlette.requests import Request

from adapters.results import REASON_CODES

#: Where an emulator serves its simulation script (a control path: `/simulate`).
SCRIPT_PATH = "/simulate"


class SimulateAction(enum.StrEnum):
    """Every action of the control endpoint. The first eight mean the same for every vendor
    (an emulator refuses, with 400, the ones its vendor has no state for); the rest are steps
    or paused states only some vendors have."""

    OPEN = "open"  # the person opens the flow
    SUBMIT = "submit"  # the person hands in what the flow asks
    APPROVE = "approve"
    DECLINE = "decline"
    REVIEW = "review"  # a human has to look
    ABANDON = "abandon"  # the person walks away
    EXPIRE = "expire"
    FAIL = "fail"  # the vendor fails the session (not a decline)
    HOLD = "hold"
    AWAIT_EXTERNAL = "await_external"
    REQUIRE_RESUBMISSION = "require_resubmission"
    SCAN = "scan"
    READ = "read"
    FACE = "face"
    BACKGROUND_CHECK = "background_check"
    DOCUMENTED_EXAMPLE = "documented_example"  # the vendor's own published example result


@dataclass(frozen=True)
class ControlRequest:
    """A well-formed control body: the action asked for and its optional reason (any JSON
    value: each emulator checks the reasons its actions take)."""

    action: str
    reason: Any = None


def control_request(raw: bytes) -> ControlRequest | None:
    """The control body in `raw`, or None when it is not `{"action": "<text>", ...}`."""
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("action"), str):
        return None
    reason = body["reason"] if "reason" in body else body.get("rejection_reason")
    return ControlRequest(body["action"], reason)


async def posted_control(request: Request) -> ControlRequest | None:
    return control_request(await request.body())


@dataclass(frozen=True)
class SimulatedPath:
    """One path `kyc-gateway simulate` may drive a session along: how often (`weight`), the
    control actions in order, the integrator's decision after them (None: none), and the
    gateway status the path ends in."""

    weight: int
    actions: tuple[SimulateAction, ...]
    expect: str
    decision: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "weight": self.weight,
            "actions": [str(a) for a in self.actions],
            "decision": self.decision,
            "expect": self.expect,
        }


@dataclass(frozen=True)
class SimulationScript:
    """What an emulator tells the `simulate` command: its paths, what a create needs beyond
    provider and client reference (GraphQL `CreateSessionInput` fields), and the normalized
    reasons (docs/results.md) each action takes as `reason` to choose which check fails or
    why a person must review (`{"decline": [...], "review": [...]}`)."""

    paths: tuple[SimulatedPath, ...]
    create: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    reasons: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {
            "paths": [p.to_json() for p in self.paths],
            "create": dict(self.create),
            "reasons": {action: sorted(codes) for action, codes in self.reasons.items()},
        }


def reason_menu(**by_action: Iterable[str]) -> Mapping[str, tuple[str, ...]]:
    """A script's `reasons`: the normalized codes among each action's accepted reasons (an
    emulator's tables also take its vendor's raw codes; those are not listed)."""
    return MappingProxyType(
        {
            action: tuple(sorted(code for code in set(codes) if code in REASON_CODES))
            for action, codes in by_action.items()
        }
    )


A = SimulateAction
#: The paths every emulator can take (open, then decide): the script of an emulator that
#: declares none.
DEFAULT_SCRIPT = SimulationScript(
    (
        SimulatedPath(3, (A.OPEN, A.APPROVE), "APPROVED"),
        SimulatedPath(1, (A.OPEN, A.DECLINE), "DECLINED"),
        SimulatedPath(1, (A.OPEN,), "IN_PROGRESS"),
    )
)

#: A flow where the person opens it and hands something in before the vendor decides.
SUBMIT_THEN_DECIDE = SimulationScript(
    (
        SimulatedPath(6, (A.OPEN, A.SUBMIT, A.APPROVE), "APPROVED"),
        SimulatedPath(2, (A.OPEN, A.SUBMIT, A.DECLINE), "DECLINED"),
        SimulatedPath(1, (A.OPEN, A.SUBMIT, A.REVIEW), "IN_REVIEW"),
        SimulatedPath(1, (A.OPEN,), "IN_PROGRESS"),
    )
)


def install_script(app: FastAPI, script: SimulationScript) -> None:
    """`GET /simulate`: the emulator's script, as JSON (read by `kyc-gateway simulate`)."""

    @app.get(SCRIPT_PATH)
    async def simulation_script() -> JSONResponse:
        return JSONResponse(script.to_json())
