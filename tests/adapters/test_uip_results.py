"""UIP's results (docs/vendors/uip.md, Results; docs/results.md, UIP): the step table value by
value, odd input, the documented payloads through the adapter's real parsing path, and the
sandbox's approve / decline paths read back by the adapter."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest

from adapters.base import (
    AdapterConfig,
    CreateSessionRequest,
    Environment,
    SessionStatus,
    StepRequest,
    StepType,
)
from adapters.results import (
    REASON_CODES,
    CheckKind,
    CheckOutcome,
    Results,
    VerifiedPerson,
)
from adapters.uip.adapter import UipAdapter
from adapters.uip.results import STEP_CHECKS, failure_results, step_check
from adapters.uip.sandbox import UipSandbox
from adapters.uip.wire import VerifiedStep
from tests.adapters.uip_results_payloads import (
    CASSETTES,
    READS,
    WEBHOOKS,
    WITHOUT_RESULTS,
    fixture_body,
    signed_fixture,
)
from tests.support.cassettes import replayer
from tests.support.sandbox_harness import SandboxHarness, harness_fixture
from tests.support.scripted_vendor import LiveConfig
from tests.support.signing.uip import sign_webhook

NOW = datetime(2026, 6, 7, 12, 5, tzinfo=UTC)
make_config = LiveConfig(
    base_url="https://api.uip.digital/v1",
    api_key="test-api-key",
    webhook_secret="placeholder-signing-key",
    now=NOW,
)
recorder = replayer(CASSETTES)


@pytest.fixture
async def uip() -> AsyncIterator[UipAdapter]:
    adapter = UipAdapter(make_config())
    yield adapter
    await adapter.aclose()


# -- the table, value by value (docs/vendors/uip.md, Results) ----------------------------------
KINDS = {
    "identify": CheckKind.DOCUMENT,
    "age_verify": CheckKind.AGE,
    "sign": CheckKind.SIGNATURE,
    "light_sign": CheckKind.SIGNATURE,
}
OUTCOMES = {
    "verified": CheckOutcome.PASSED,
    "satisfied=true": CheckOutcome.PASSED,
    "satisfied=false": CheckOutcome.FAILED,
    "failed": CheckOutcome.FAILED,
    "failed:insufficient_funds": CheckOutcome.NOT_RUN,
    "failed:internal_error": CheckOutcome.NOT_RUN,
}
REASONS = {
    **{code: code for code in REASON_CODES - {"other"}},
    "insufficient_funds": "technical_error",
    "internal_error": "technical_error",
}


def test_the_table_holds_exactly_the_documented_values() -> None:
    assert dict(STEP_CHECKS.kinds) == KINDS
    assert dict(STEP_CHECKS.outcomes) == OUTCOMES
    assert dict(STEP_CHECKS.reasons) == REASONS


#: (STEP_CHECKS.check's arguments, what the check must hold): each primitive is a kind, each
#: value an outcome, each reason a code (with the vendor's own kept); every one recognized.
TABLE_VALUES = [
    *(((name, "verified"), {"kind": kind}) for name, kind in sorted(KINDS.items())),
    *((("identify", value), {"outcome": outcome}) for value, outcome in sorted(OUTCOMES.items())),
    *(
        (("identify", "failed", [raw]), {"reasons": (code,), "provider_reasons": (raw,)})
        for raw, code in sorted(REASONS.items())
    ),
]


@pytest.mark.parametrize(("args", "expected"), TABLE_VALUES, ids=repr)
def test_each_table_value(args: tuple[Any, ...], expected: dict[str, Any]) -> None:
    check = STEP_CHECKS.check(*args)
    assert {name: getattr(check, name) for name in expected} == expected
    assert check.recognized


def test_the_tables_speak_the_normalized_vocabulary() -> None:
    assert all(not t.vocabulary_problems() for t in UipAdapter.check_tables)
    assert UipAdapter.check_kinds == {CheckKind.DOCUMENT, CheckKind.AGE, CheckKind.SIGNATURE}


# -- odd input ---------------------------------------------------------------------------------
def test_an_unknown_primitive_is_other_and_in_review() -> None:
    check = step_check(VerifiedStep(stage=2, primitive="face_scan"))
    assert check is not None
    assert (check.kind, check.outcome, check.recognized) == (
        CheckKind.OTHER,
        CheckOutcome.REVIEW,
        False,
    )
    assert check.provider_name == "step 2: face_scan"


@pytest.mark.parametrize("satisfied", [None, "yes", 1, [True]])
def test_an_age_step_without_a_boolean_verdict_is_in_review(satisfied: Any) -> None:
    check = step_check(VerifiedStep(stage=0, primitive="age_verify", satisfied=satisfied))
    assert check is not None
    assert (check.kind, check.outcome, check.recognized) == (
        CheckKind.AGE,
        CheckOutcome.REVIEW,
        False,
    )


def test_an_unknown_outcome_is_review() -> None:
    check = STEP_CHECKS.check("identify", "maybe")
    assert (check.outcome, check.recognized) == (CheckOutcome.REVIEW, False)


def test_an_unknown_reason_is_other_with_the_message_kept() -> None:
    results = failure_results("failed:mdoc issuer signature invalid", (0, "identify"))
    assert results is not None
    (check,) = results.checks
    assert (check.kind, check.outcome, check.provider_name) == (
        CheckKind.DOCUMENT,
        CheckOutcome.FAILED,
        "step 0: identify",
    )
    assert check.reasons == ("other",)
    assert check.provider_reasons == ("mdoc issuer signature invalid",)
    assert check.recognized is False


def test_a_failure_without_a_reason_fails_without_one() -> None:
    results = failure_results("failed", None)
    assert results is not None
    (check,) = results.checks
    assert (check.outcome, check.reasons, check.recognized) == (CheckOutcome.FAILED, (), True)
    assert failure_results("completed", None) is None


GARBAGE_DATA: list[dict[str, Any]] = [
    {"stage": "x", "primitive": 5, "claims": "abc"},
    {"stage": -1, "primitive": "identify", "claims": ["Jane"]},
    {"stage": 0, "primitive": "identify", "claims": {"first_name": 7, "dob": "1990-13-45"}},
    {"stage": 0, "primitive": "identify", "claims": {"dob": "12/04/1990", "country": ""}},
    {"stage": True, "primitive": "age_verify", "satisfied": "no"},
    {"stage": 1, "primitive": None, "signature": {"x": 1}},
]


@pytest.mark.parametrize("data", GARBAGE_DATA)
def test_garbage_step_events_do_not_crash(uip: UipAdapter, data: dict[str, Any]) -> None:
    body = {"event": "step.completed", "data": {"session_id": "sess_abc123", **data}}
    (event,) = uip.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None
    results = event.snapshot.results
    assert results is not None
    person = results.person
    assert person is None or person.date_of_birth is None
    assert person is None or person.first_name is None


async def test_garbage_read_results_do_not_crash(uip: UipAdapter) -> None:
    body = {
        "id": "sess_abc123",
        "status": "completed",
        "results": [
            {"step": "0", "primitive": "identify", "claims": None},
            {"step": 1, "primitive": "identify", "claims": {"first_name": "unavailable"}},
            {"step": 2, "primitive": ["sign"]},
            {"step": 3, "primitive": "age_verify", "satisfied": True, "claims": {"x": 1}},
        ],
    }
    adapter = UipAdapter(
        make_config(transport=httpx.MockTransport(lambda r: httpx.Response(200, json=body)))
    )
    snapshot = await adapter.fetch_session("sess_abc123")
    await adapter.aclose()
    assert snapshot.results is not None
    names = [c.provider_name for c in snapshot.results.checks]
    assert names == ["step 1: identify", "step 2: unknown", "step 3: age_verify"]
    assert snapshot.results.person is None


# -- the documented payloads through the adapter ------------------------------------------------
@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_documented_webhooks_read_as_results(uip: UipAdapter, name: str) -> None:
    (event,) = uip.parse_webhook(*signed_fixture(name))
    assert event.snapshot is not None
    assert event.snapshot.results == WEBHOOKS[name]


@pytest.mark.parametrize("name", WITHOUT_RESULTS)
def test_session_events_say_nothing_about_results(uip: UipAdapter, name: str) -> None:
    (event,) = uip.parse_webhook(*signed_fixture(name))
    assert event.snapshot is not None
    assert event.snapshot.results is None


@pytest.mark.parametrize("name", sorted(READS))
async def test_documented_version_b_reads_read_as_results(uip: UipAdapter, name: str) -> None:
    with recorder.use_cassette(name):
        snapshot = await uip.fetch_session("sess_abc123")
    assert snapshot.results == READS[name]


async def test_the_declined_read_is_declined_with_the_check_reason(uip: UipAdapter) -> None:
    with recorder.use_cassette("results_declined.yaml"):
        snapshot = await uip.fetch_session("sess_abc123")
    assert snapshot.status is SessionStatus.DECLINED
    assert snapshot.decision is not None
    assert snapshot.results is not None
    failed = [c for c in snapshot.results.checks if c.outcome is CheckOutcome.FAILED]
    assert [c.reasons for c in failed] == [snapshot.decision.reason_codes]


async def test_a_version_a_read_says_nothing_about_results(uip: UipAdapter) -> None:
    with recorder.use_cassette("get_session_shape_a.yaml"):
        snapshot = await uip.fetch_session("sess_abc123")
    assert snapshot.results is None


async def test_a_failure_fails_the_step_after_the_last_verified_one(uip: UipAdapter) -> None:
    """Version A lists the primitives; step 0 verified (its webhook); the failure is step 1's."""
    with recorder.use_cassette("get_session_shape_a.yaml"):
        await uip.fetch_session("sess_abc123")
    uip.parse_webhook(*signed_fixture("webhook_step_completed_identify.json"))
    (event,) = uip.parse_webhook(*signed_fixture("webhook_session_failed_verification.json"))
    assert event.snapshot is not None and event.snapshot.results is not None
    (check,) = event.snapshot.results.checks
    assert (check.kind, check.outcome, check.provider_name) == (
        CheckKind.SIGNATURE,
        CheckOutcome.FAILED,
        "step 1: sign",
    )


def test_step_events_add_up_through_merging(uip: UipAdapter) -> None:
    stored: Results | None = None
    for name in (
        "webhook_step_completed_identify.json",
        "webhook_step_completed_age_verify_not_satisfied.json",
    ):
        (event,) = uip.parse_webhook(*signed_fixture(name))
        assert event.snapshot is not None and event.snapshot.results is not None
        stored = event.snapshot.results.merged_over(stored)
    assert stored is not None
    assert [(c.provider_name, c.outcome) for c in stored.checks] == [
        ("step 0: identify", CheckOutcome.PASSED),
        ("step 1: age_verify", CheckOutcome.FAILED),
    ]
    assert stored.person == VerifiedPerson(first_name="Jane", last_name="Doe")


def test_claims_are_the_fixture_values() -> None:
    """The identify fixture is UIP's own example (guards the expectations above)."""
    claims = fixture_body("webhook_step_completed_identify.json")["data"]["claims"]
    assert claims == {"first_name": "Jane", "last_name": "Doe", "country": "US"}


# -- the sandbox, read back by the adapter --------------------------------------------------------
START = datetime(2026, 6, 7, 12, 0, 0, tzinfo=UTC)
#: The normalized reasons the sandbox's `decline` accepts (docs/results.md, UIP).
SANDBOX_DECLINE_REASONS = {
    "age_not_satisfied",
    "document_expired",
    "document_not_authentic",
    "document_unsupported",
    "signature_invalid",
    "user_declined",
}


class Harness(SandboxHarness[UipSandbox]):
    def adapter(self) -> UipAdapter:
        return UipAdapter(
            AdapterConfig(
                environment=Environment.SANDBOX,
                base_url="http://sandbox",
                api_key=self.sandbox.api_key,
                webhook_secret=self.sandbox.webhook_secret,
                transport=httpx.ASGITransport(app=self.sandbox.app),
                retry_wait_s=0.0,
                clock=self.clock,
            )
        )

    def results(self, adapter: UipAdapter) -> Results | None:
        """Every delivery so far through the adapter, merged as the gateway stores them."""
        stored: Results | None = None
        for request in self.sink.requests:
            for event in adapter.parse_webhook(request.content, request.headers):
                if event.snapshot is not None and event.snapshot.results is not None:
                    stored = event.snapshot.results.merged_over(stored)
        return stored


make = harness_fixture(
    Harness,
    UipSandbox,
    start=START,
    public_base_url="http://127.0.0.1:8000/sandbox/uip",
    webhook_url="http://gateway.test/webhooks/uip",
    headers=lambda sandbox: {"Authorization": f"Bearer {sandbox.api_key}"},
)


@pytest.fixture
async def sandbox(make: Any) -> AsyncIterator[tuple[Harness, UipAdapter]]:
    harness = make(get_shape="b")
    adapter = harness.adapter()
    yield harness, adapter
    await adapter.aclose()


async def create(adapter: UipAdapter, *types: StepType) -> str:
    steps = tuple(step(t) for t in types or (StepType.IDENTIFY, StepType.AGE_VERIFY))
    snapshot = await adapter.create_session(CreateSessionRequest(steps=steps))
    return snapshot.provider_session_id


def step(step_type: StepType) -> StepRequest:
    if step_type is StepType.LIGHT_SIGN:
        return StepRequest(step_type, {"text": "I accept the terms."})
    return StepRequest(step_type)


async def decline(
    sandbox: tuple[Harness, UipAdapter], reason: str
) -> tuple[Harness, UipAdapter, str, httpx.Response]:
    """A session of the default steps, declined through the control API with `reason`."""
    harness, adapter = sandbox
    sid = await create(adapter)
    return harness, adapter, sid, await harness.simulate(sid, "decline", reason=reason)


def assert_person(person: VerifiedPerson | None) -> None:
    assert person is not None
    assert person.first_name and person.last_name
    assert isinstance(person.date_of_birth, date)


async def test_sandbox_approve_passes_every_step(sandbox: tuple[Harness, UipAdapter]) -> None:
    harness, adapter = sandbox
    sid = await create(adapter, StepType.IDENTIFY, StepType.AGE_VERIFY, StepType.LIGHT_SIGN)
    await harness.drive(sid, "approve")
    read = await adapter.fetch_session(sid)
    for results in (harness.results(adapter), read.results):
        assert results is not None
        passed = {c.kind for c in results.checks if c.outcome is CheckOutcome.PASSED}
        assert passed & UipAdapter.check_kinds
        assert passed == UipAdapter.check_kinds  # one step of each kind, each passed
        assert all(c.recognized for c in results.checks)
        assert_person(results.person)
    assert read.status is SessionStatus.APPROVED


@pytest.mark.parametrize("reason", sorted(SANDBOX_DECLINE_REASONS))
async def test_sandbox_decline_fails_a_check_with_the_reason(
    sandbox: tuple[Harness, UipAdapter], reason: str
) -> None:
    harness, adapter, sid, response = await decline(sandbox, reason)
    assert response.status_code == 200, response.text
    results = harness.results(adapter)
    assert results is not None
    failed = [c for c in results.checks if c.outcome is CheckOutcome.FAILED]
    assert [c.reasons for c in failed] == [(reason,)]
    assert failed[0].recognized
    assert (await adapter.fetch_session(sid)).status is SessionStatus.DECLINED


async def test_sandbox_decline_by_age_still_reads_the_person(
    sandbox: tuple[Harness, UipAdapter],
) -> None:
    harness, adapter = sandbox
    sid = await create(adapter)
    await harness.simulate(sid, "decline", reason="age_not_satisfied")
    read = await adapter.fetch_session(sid)
    assert read.results is not None
    assert [(c.kind, c.outcome) for c in read.results.checks] == [
        (CheckKind.DOCUMENT, CheckOutcome.PASSED),
        (CheckKind.AGE, CheckOutcome.FAILED),
    ]
    assert_person(read.results.person)


async def test_sandbox_decline_with_a_message_keeps_it(
    sandbox: tuple[Harness, UipAdapter],
) -> None:
    harness, adapter = sandbox
    sid = await create(adapter, StepType.IDENTIFY, StepType.AGE_VERIFY)
    await harness.drive(sid, "open", "submit")
    response = await harness.simulate(sid, "decline", reason="mdoc issuer signature invalid")
    assert response.status_code == 200
    results = harness.results(adapter)
    assert results is not None
    failed = [c for c in results.checks if c.outcome is CheckOutcome.FAILED]
    assert [(c.kind, c.provider_name, c.reasons, c.provider_reasons) for c in failed] == [
        (CheckKind.AGE, "step 1: age_verify", ("other",), ("mdoc issuer signature invalid",))
    ]


@pytest.mark.parametrize("reason", sorted(REASON_CODES - SANDBOX_DECLINE_REASONS))
async def test_sandbox_refuses_reasons_uip_cannot_give(
    sandbox: tuple[Harness, UipAdapter], reason: str
) -> None:
    harness, _, _, response = await decline(sandbox, reason)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "code"}
    assert response.json()["code"] == "request/invalid-payload"
    assert harness.sink.requests == []


async def test_sandbox_age_decline_needs_an_age_step(
    sandbox: tuple[Harness, UipAdapter],
) -> None:
    harness, adapter = sandbox
    sid = await create(adapter, StepType.IDENTIFY)
    response = await harness.simulate(sid, "decline", reason="age_not_satisfied")
    assert response.status_code == 409
    assert response.json()["code"] == "session/invalid-state"


async def test_sandbox_has_no_review(sandbox: tuple[Harness, UipAdapter]) -> None:
    """UIP has no review state nor a documented review cause: review is refused."""
    harness, adapter = sandbox
    sid = await create(adapter)
    response = await harness.simulate(sid, "review", reason="manual_review")
    assert response.status_code == 400
    assert json.loads(response.content)["code"] == "request/invalid-payload"
