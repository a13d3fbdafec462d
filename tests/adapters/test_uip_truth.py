"""Issue 13 for UIP: the normalized answer follows what UIP documents, whichever way the news
arrives (docs/vendors/uip.md). Every input here is a documented payload, cited where it is used:

- the `step.completed` fields, https://docs.uip.digital/api-reference/webhooks ("satisfied:
  age_verify only — the threshold result"; "min_age: the threshold that was checked");
- `session.completed` / `session.failed`, same page ("reason ... e.g. a verification error
  message, insufficient_funds, or internal_error");
- GET Version A, https://docs.uip.digital/api-reference/sessions/get (status and progress only)
  and Version B, https://uip.mintlify.app/api-reference/sessions/get ("the derived verdicts
  produced so far, one per completed step — the same payloads delivered by webhook").

The ordering checks run the adapter's snapshots through the gateway's own `judge`, the way the
applier does (status, raw status, vendor time); tests/e2e/test_truth_uip.py runs the whole path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.base import (
    KnownSession,
    Outcome,
    SessionSnapshot,
    SessionStatus,
    StepProgress,
    StepResult,
    StepState,
)
from adapters.uip.adapter import UipAdapter
from gateway.sessions.applier import merge_steps, step_json
from gateway.sessions.ordering import Current, Incoming, Verdict, judge, next_order_time
from tests.adapters.test_uip_adapter import NOW, S1, Script, make_config, ok
from tests.adapters.uip_results_payloads import version_b_body
from tests.support.signing.uip import sign_webhook

SIGNED_AT = int(NOW.timestamp())

#: https://docs.uip.digital/api-reference/webhooks, step.completed for an age_verify step
#: (the fields the page lists for it; the person is younger than min_age).
AGE_NOT_MET = {
    "event": "step.completed",
    "data": {
        "session_id": S1,
        "client_reference_id": "order_4815",
        "stage": 1,
        "primitive": "age_verify",
        "audit_id": "sess_abc123_1",
        "satisfied": False,
        "min_age": 21,
    },
}
AGE_MET = {"event": "step.completed", "data": {**AGE_NOT_MET["data"], "satisfied": True}}
#: Same page, step.completed for identify (verbatim example).
IDENTIFY_DONE = {
    "event": "step.completed",
    "data": {
        "session_id": S1,
        "client_reference_id": "order_4815",
        "stage": 0,
        "primitive": "identify",
        "audit_id": "sess_abc123_0",
        "claims": {"first_name": "Jane", "last_name": "Doe", "country": "US"},
    },
}
#: Same page, session.completed (verbatim example).
COMPLETED = {"event": "session.completed", "data": {"session_id": S1, "status": "completed"}}


def failed_event(reason: str) -> dict[str, Any]:
    """Same page, session.failed with one of its documented reasons."""
    return {"event": "session.failed", "data": {"session_id": S1, "reason": reason}}


def version_a(status: str, **fields: Any) -> dict[str, Any]:
    """https://docs.uip.digital/api-reference/sessions/get: the example's fields (Version A:
    no results, no reason), for a session of two steps, identify then age_verify."""
    return {
        "id": S1,
        "status": status,
        "current_step": 1,
        "step_count": 2,
        "primitives": ["identify", "age_verify"],
        "current_primitive": "age_verify",
        "created_at": "2026-06-07T12:00:00Z",
        "updated_at": "2026-06-07T12:03:00Z",
        "expires_at": "2026-06-07T13:00:00Z",
        **fields,
    }


def version_b(status: str, satisfied: bool) -> dict[str, Any]:
    """https://uip.mintlify.app/api-reference/sessions/get: results carry the per-step
    verdicts, "the same payloads delivered by webhook" (so age_verify's `satisfied`)."""
    return version_b_body(
        S1,
        status,
        {"first_name": "Ada", "last_name": "Lovelace", "country": "US"},
        satisfied=satisfied,
        audit_ids=("aud_9f2c1e", "aud_9f2c1f"),
        client_reference_id="order_4417",
        metadata={"checkout": "abc"},
    )


def webhook(adapter: UipAdapter, body: dict[str, Any], **signing: Any) -> SessionSnapshot:
    (event,) = adapter.parse_webhook(*sign_webhook(body, **signing))
    assert event.snapshot is not None
    return event.snapshot


async def read(body: dict[str, Any], known: KnownSession | None = None) -> SessionSnapshot:
    """A read by an adapter that knows only what the store hands it (`restore`)."""
    script = Script(ok(body))
    adapter = script.adapter()
    if known is not None:
        adapter.restore(known)
    try:
        return await adapter.fetch_session(S1)
    finally:
        await adapter.aclose()


def stored(provider_status: str, raw: dict[str, Any] | None = None) -> KnownSession:
    return KnownSession(
        provider_session_id=S1,
        provider_status=provider_status,
        raw=raw,
        created_at=datetime(2026, 6, 7, 12, tzinfo=UTC),
        expires_at=None,
    )


@dataclass(frozen=True)
class Stored:
    """The part of a stored session the gateway's ordering looks at
    (gateway/sessions/applier.py)."""

    status: SessionStatus
    provider_status: str
    order_time: datetime | None
    decision: Any = None


def apply(state: Stored, snapshot: SessionSnapshot) -> Stored:
    """What the applier keeps of one snapshot: `judge`, then the fields it overwrites."""
    assert snapshot.status is not None
    verdict = judge(
        Current(state.status, state.provider_status, state.order_time),
        Incoming(snapshot.status, snapshot.provider_status, snapshot.occurred_at),
    )
    if verdict is Verdict.STALE:
        return state
    decision = snapshot.decision if snapshot.decision is not None else state.decision
    if snapshot.decision is None and not snapshot.status.is_final:
        decision = None
    return Stored(
        snapshot.status,
        snapshot.provider_status,
        next_order_time(state.order_time, snapshot.occurred_at),
        decision,
    )


def in_progress() -> Stored:
    return Stored(SessionStatus.IN_PROGRESS, "in_progress", datetime(2026, 6, 7, 12, 2, tzinfo=UTC))


def knowing_the_steps(adapter: UipAdapter) -> UipAdapter:
    """An adapter that has seen the session's step list, as the one that created it has, or
    one handed a stored read (`restore`)."""
    body = version_a("in_progress", current_step=0, current_primitive="identify")
    adapter.restore(stored("in_progress", body))
    return adapter


@pytest.fixture
async def uip() -> Any:
    adapter = knowing_the_steps(UipAdapter(make_config()))
    yield adapter
    await adapter.aclose()


# -- item 1: a completed session whose age step was not met is DECLINED ---------------------------
def test_an_unmet_age_step_declines_the_session(uip: UipAdapter) -> None:
    snapshot = webhook(uip, AGE_NOT_MET)
    assert snapshot.status is SessionStatus.DECLINED
    assert uip.map_status(snapshot.provider_status) is SessionStatus.DECLINED
    assert snapshot.decision is not None
    assert snapshot.decision.outcome is Outcome.DECLINED
    assert snapshot.decision.reason_codes == ("age_not_satisfied",)
    step = snapshot.steps[1]
    assert (step.index, step.type, step.state) == (1, "AGE_VERIFY", StepState.COMPLETED)
    assert step.result is StepResult.NOT_SATISFIED


def test_a_met_age_step_is_satisfied_and_the_session_goes_on(uip: UipAdapter) -> None:
    snapshot = webhook(uip, AGE_MET)
    assert snapshot.status is SessionStatus.IN_PROGRESS
    assert snapshot.steps[1].result is StepResult.SATISFIED
    assert snapshot.decision is None


def test_a_step_completed_never_shortens_the_stored_step_list() -> None:
    """step.completed does not say how many steps follow: an adapter that does not know them
    (another replica, a restart) reports no list, never a partial one the gateway would keep
    instead of its own (gateway/sessions/applier.py merge_steps)."""
    created = [step_json(s) for s in version_a_steps()]
    cold = UipAdapter(make_config())
    assert webhook(cold, IDENTIFY_DONE).steps == ()
    warm = webhook(knowing_the_steps(UipAdapter(make_config())), IDENTIFY_DONE)
    merged = merge_steps(created, [step_json(s) for s in warm.steps])
    assert [(s["index"], s["type"], s["state"], s["result"]) for s in merged] == [
        (0, "IDENTIFY", "COMPLETED", "SATISFIED"),
        (1, "AGE_VERIFY", "PENDING", None),
    ]


async def test_a_cold_adapter_learns_the_verdict_from_the_event_and_the_read_shows_it() -> None:
    """The read a step.completed asks for (refetch) runs on the adapter that parsed it."""
    script = Script(ok(version_a("in_progress", current_step=2)))
    adapter = script.adapter()
    assert webhook(adapter, AGE_NOT_MET).status is SessionStatus.DECLINED
    read_back = await adapter.fetch_session(S1)
    await adapter.aclose()
    assert read_back.status is SessionStatus.DECLINED
    assert [s.result for s in read_back.steps] == [StepResult.SATISFIED, StepResult.NOT_SATISFIED]


def version_a_steps() -> tuple[Any, ...]:
    """The two pending steps of the session `version_a` describes, as created."""
    return tuple(
        StepProgress(index=i, type=t, state=StepState.PENDING)
        for i, t in enumerate(("IDENTIFY", "AGE_VERIFY"))
    )


def test_identify_completing_is_its_verdict(uip: UipAdapter) -> None:
    """identify has no pass/fail field: "a requested block the credential doesn't carry comes
    back as unavailable rather than failing the step" (https://docs.uip.digital/core-concepts/
    primitives)."""
    snapshot = webhook(uip, IDENTIFY_DONE)
    assert snapshot.steps[0].result is StepResult.SATISFIED


@pytest.mark.parametrize("same_adapter", [True, False])
def test_session_completed_after_an_unmet_age_step_is_never_approved(
    same_adapter: bool,
) -> None:
    """Documented order: step.completed (stage order) then the terminal session.* event. The
    later session.completed says only `completed`; it must not turn the outcome around, even
    when another replica (a fresh adapter) parses it."""
    first = UipAdapter(make_config())
    second = first if same_adapter else UipAdapter(make_config())
    state = in_progress()
    for adapter, body in ((first, IDENTIFY_DONE), (first, AGE_NOT_MET), (second, COMPLETED)):
        state = apply(state, webhook(adapter, body))
    assert state.status is SessionStatus.DECLINED
    assert state.decision.reason_codes == ("age_not_satisfied",)


@pytest.mark.parametrize("satisfied", [False, True])
async def test_session_completed_before_the_age_verdict_is_not_approved(satisfied: bool) -> None:
    """Out of the documented order ("step.completed fires in step order ..., followed by the
    terminal session.* event", https://docs.uip.digital/core-concepts/webhooks), e.g. while the
    age step's delivery is retried ("At-least-once"): an adapter that knows the session has an
    age step does not approve before its verdict, and asks for a read."""
    script = Script(ok(version_a("completed", current_step=2)))
    adapter = knowing_the_steps(script.adapter())
    state = apply(in_progress(), webhook(adapter, IDENTIFY_DONE))
    (early,) = adapter.parse_webhook(*sign_webhook(COMPLETED))
    assert early.snapshot is not None and early.refetch is True
    assert early.snapshot.status is SessionStatus.PROCESSING and early.snapshot.decision is None
    state = apply(state, early.snapshot)
    state = apply(state, webhook(adapter, AGE_MET if satisfied else AGE_NOT_MET))
    state = apply(state, await adapter.fetch_session(S1))  # the read the event asked for
    await adapter.aclose()
    assert state.status is (SessionStatus.APPROVED if satisfied else SessionStatus.DECLINED)


def test_session_completed_in_order_after_a_met_age_step_is_approved(uip: UipAdapter) -> None:
    state = in_progress()
    for body in (IDENTIFY_DONE, AGE_MET, COMPLETED):
        state = apply(state, webhook(uip, body))
    assert state.status is SessionStatus.APPROVED
    assert state.decision.outcome is Outcome.APPROVED


async def test_a_version_b_read_with_an_unmet_age_step_is_declined() -> None:
    snapshot = await read(version_b("completed", satisfied=False))
    assert snapshot.status is SessionStatus.DECLINED
    assert snapshot.decision is not None
    assert snapshot.decision.reason_codes == ("age_not_satisfied",)
    assert [s.result for s in snapshot.steps] == [StepResult.SATISFIED, StepResult.NOT_SATISFIED]


async def test_a_version_b_read_with_every_step_met_is_approved() -> None:
    snapshot = await read(version_b("completed", satisfied=True))
    assert snapshot.status is SessionStatus.APPROVED
    assert snapshot.decision is not None and snapshot.decision.outcome is Outcome.APPROVED
    assert [s.result for s in snapshot.steps] == [StepResult.SATISFIED, StepResult.SATISFIED]


async def test_a_version_a_completed_read_does_not_approve_an_unseen_age_verdict() -> None:
    """Version A never shows `satisfied`: a poll that lands before the age step's webhook
    cannot tell APPROVED from DECLINED, so it is not final yet."""
    snapshot = await read(version_a("completed", current_step=2))
    assert snapshot.status is SessionStatus.PROCESSING
    assert snapshot.decision is None
    assert [s.result for s in snapshot.steps] == [StepResult.SATISFIED, None]
    # ...and the webhook that follows decides.
    uip = UipAdapter(make_config())
    state = apply(in_progress(), snapshot)
    state = apply(state, webhook(uip, AGE_NOT_MET))
    assert state.status is SessionStatus.DECLINED


async def test_a_version_a_read_after_the_unmet_webhook_stays_declined() -> None:
    """The store hands back what the webhook said (restore): every later read keeps it."""
    uip = UipAdapter(make_config())
    state = apply(in_progress(), webhook(uip, AGE_NOT_MET))
    for status in ("completed", "expired"):
        snapshot = await read(version_a(status), stored(state.provider_status, AGE_NOT_MET))
        assert snapshot.status is SessionStatus.DECLINED, status
        state = apply(state, snapshot)
    assert state.status is SessionStatus.DECLINED


async def test_a_version_a_read_right_after_a_met_webhook_approves() -> None:
    snapshot = await read(version_a("completed", current_step=2), stored("in_progress", AGE_MET))
    assert snapshot.status is SessionStatus.APPROVED
    assert [s.result for s in snapshot.steps] == [StepResult.SATISFIED, StepResult.SATISFIED]


async def test_an_approved_session_stays_approved_on_a_later_version_a_read() -> None:
    snapshot = await read(version_a("completed", current_step=2), stored("completed"))
    assert snapshot.status is SessionStatus.APPROVED


async def test_continuing_at_a_gate_after_an_unmet_age_step_keeps_the_verdict() -> None:
    """https://docs.uip.digital/api-reference/sessions/continue answers in_progress; the age
    verdict learnt before still stands (our own mutation is applied unconditionally)."""
    script = Script(
        ok(
            {
                "id": S1,
                "status": "in_progress",
                "current_step": 2,
                "step_count": 3,
                "current_primitive": "sign",
            }
        )
    )
    adapter = script.adapter()
    webhook(adapter, AGE_NOT_MET)
    resumed = await adapter.continue_session(S1)
    await adapter.aclose()
    assert resumed is not None and resumed.status is SessionStatus.DECLINED


# -- item 2: a failed person is DECLINED whichever arrives first -----------------------------------
async def test_a_read_that_shows_failed_without_a_reason_is_declined() -> None:
    snapshot = await read(version_a("failed"))
    assert snapshot.status is SessionStatus.DECLINED
    assert snapshot.decision is not None
    assert snapshot.decision.reason_codes == ("verification_failed",)
    # No vendor time: a reason-less read never outranks the webhook that has the reason.
    assert snapshot.occurred_at is None


def test_session_failed_carries_the_time_it_was_signed(uip: UipAdapter) -> None:
    snapshot = webhook(uip, failed_event("insufficient_funds"))
    assert snapshot.status is SessionStatus.FAILED
    # "Unix seconds when signed": the last instant of that second (the failure is no later).
    assert snapshot.occurred_at == datetime.fromtimestamp(SIGNED_AT, UTC) + timedelta(
        seconds=1, microseconds=-1
    )


def test_session_failed_outranks_progress_read_earlier_in_its_signing_second(
    uip: UipAdapter,
) -> None:
    """A read of the step before, timed 0.6 s into the second the failure was signed in (UIP
    may print fractions; the examples do not), is older than the failure: it applies."""
    before = Stored(
        SessionStatus.IN_PROGRESS,
        "in_progress",
        datetime.fromtimestamp(SIGNED_AT, UTC) + timedelta(milliseconds=600),
    )
    state = apply(before, webhook(uip, failed_event("internal_error")))
    assert (state.status, state.provider_status) == (SessionStatus.FAILED, "failed:internal_error")


@pytest.mark.parametrize(
    ("reason", "status", "codes"),
    [
        ("credential verification failed", SessionStatus.DECLINED, ("verification_failed",)),
        ("document_expired", SessionStatus.DECLINED, ("document_expired",)),
        ("insufficient_funds", SessionStatus.FAILED, None),
        ("internal_error", SessionStatus.FAILED, None),
    ],
)
async def test_poll_first_then_the_webhook(
    uip: UipAdapter, reason: str, status: SessionStatus, codes: tuple[str, ...] | None
) -> None:
    state = apply(in_progress(), await read(version_a("failed")))
    assert state.status is SessionStatus.DECLINED
    state = apply(state, webhook(uip, failed_event(reason)))
    assert state.status is status
    if codes is not None:
        assert state.decision.reason_codes == codes


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        ("credential verification failed", SessionStatus.DECLINED),
        ("document_expired", SessionStatus.DECLINED),
        ("insufficient_funds", SessionStatus.FAILED),
        ("internal_error", SessionStatus.FAILED),
    ],
)
async def test_webhook_then_refresh(uip: UipAdapter, reason: str, status: SessionStatus) -> None:
    state = apply(in_progress(), webhook(uip, failed_event(reason)))
    assert state.status is status
    before = state

    def seen(s: Stored) -> tuple[Any, ...]:
        return s.status, s.provider_status, s.decision and s.decision.reason_codes

    # The refresh reads with what the store kept (restore), as the gateway's poll does...
    state = apply(state, await read(version_a("failed"), stored(state.provider_status)))
    assert seen(state) == seen(before)
    # ...and even a read that knows nothing (another replica, a cold cache) cannot flip it.
    after = apply(before, await read(version_a("failed")))
    assert after.status is status


# -- item 17: dedupe on signed content ------------------------------------------------------------
def test_a_replay_with_a_new_delivery_id_is_the_same_event(uip: UipAdapter) -> None:
    """X-UIP-Delivery-Id is not signed (only "{timestamp}.{raw_body}" is): a captured delivery
    replayed inside the window with another id must still be a duplicate."""
    raw, headers = sign_webhook(COMPLETED, delivery_id="dlv_0001")
    (first,) = uip.parse_webhook(raw, headers)
    (replayed,) = uip.parse_webhook(raw, {**headers, "X-UIP-Delivery-Id": "dlv_attacker"})
    (stripped,) = uip.parse_webhook(
        raw, {k: v for k, v in headers.items() if k != "X-UIP-Delivery-Id"}
    )
    assert first.dedupe_key == replayed.dedupe_key == stripped.dedupe_key
    (other,) = uip.parse_webhook(*sign_webhook(failed_event("internal_error")))
    (next_step,) = uip.parse_webhook(*sign_webhook(AGE_MET, delivery_id="dlv_0001"))
    assert len({first.dedupe_key, other.dedupe_key, next_step.dedupe_key}) == 3
