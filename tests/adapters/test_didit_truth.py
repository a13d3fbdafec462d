"""Didit's outcomes are the truth (issue 13, items 4, 6, 7, 16; docs/vendors/didit.md), each
built from a payload Didit documents:

- the v3 session envelope (https://docs.didit.me/integration/webhooks): `created_at` is when
  the status changed, `timestamp` the dispatch time, refreshed on every redelivery (the
  page's example: timestamp 1774970000, created_at 1774969994);
- the decision's `reviews` items `{user, new_status, comment, created_at}`
  (https://docs.didit.me/sessions-api/retrieve-session; the same shape create-review answers,
  https://docs.didit.me/management-api/sessions/create-review: `user` is "typically"
  "API Client" for API keys, a console user's e-mail or display name otherwise). `actor_type`
  exists only in the separate feed (https://docs.didit.me/management-api/sessions/list-reviews);
- create-session (https://docs.didit.me/sessions-api/create-session): "The session expires
  after the workflow's configured session expiration time" — no per-session expiry.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.base import (
    Capability,
    CreateSessionRequest,
    DecidedBy,
    DecisionAction,
    InputSupport,
    Outcome,
    SessionStatus,
    input_fields,
)
from adapters.didit.adapter import DiditAdapter
from adapters.didit.inputs import INPUT_SUPPORT
from gateway.sessions.ordering import Current, Incoming, Verdict, judge
from tests.adapters.test_didit_adapter import S2, Script, full_request, make_config, ok
from tests.support.cassettes import interaction, replayer
from tests.support.signing.didit import (
    DOC_CREATED_AT,
    DOC_TIMESTAMP,
    at,
    documented_envelope,
    sign_webhook,
)

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "didit"


def adapter_at(unix: int) -> DiditAdapter:
    return DiditAdapter(make_config(clock=lambda: at(unix)))


def parse_at(body: dict[str, Any], unix: int | None = None) -> Any:
    (event,) = adapter_at(unix or body["timestamp"]).parse_webhook(*sign_webhook(body))
    return event


# -- item 4: order by created_at, dedupe across redeliveries ---------------------------------
def test_the_event_time_is_created_at_not_the_dispatch_time() -> None:
    event = parse_at(documented_envelope())
    assert event.snapshot.occurred_at == at(DOC_CREATED_AT)
    assert event.snapshot.decision.decided_at == at(DOC_CREATED_AT)


def test_a_redelivery_is_the_same_event() -> None:
    """Didit re-signs a redelivery: a new event_id and timestamp (and so a new signature),
    the same created_at. Same dedupe key; no part of it is the per-attempt timestamp."""
    first = parse_at(documented_envelope())
    later = DOC_TIMESTAMP + 240
    again = parse_at(
        documented_envelope(event_id="0b7e6a52-0000-4000-8000-000000000002", timestamp=later)
    )
    assert again.dedupe_key == first.dedupe_key
    assert str(DOC_TIMESTAMP) not in first.dedupe_key and str(later) not in again.dedupe_key
    assert again.snapshot.occurred_at == first.snapshot.occurred_at == at(DOC_CREATED_AT)


def test_events_that_differ_in_what_happened_differ_in_key() -> None:
    base = parse_at(documented_envelope()).dedupe_key
    assert parse_at(documented_envelope(status="Declined")).dedupe_key != base
    assert parse_at(documented_envelope(created_at=DOC_CREATED_AT + 1)).dedupe_key != base
    assert parse_at(documented_envelope(webhook_type="data.updated")).dedupe_key != base


def test_an_older_redelivery_after_a_reviewers_newer_decision_changes_nothing() -> None:
    """Approved at created_at T (dispatched, then redelivered much later), Declined by a
    reviewer at T + 60. Judged by the gateway's rules on the snapshots the adapter makes."""
    declined = parse_at(
        documented_envelope(
            status="Declined", created_at=DOC_CREATED_AT + 60, timestamp=DOC_TIMESTAMP + 60
        )
    ).snapshot
    redelivered = parse_at(documented_envelope(timestamp=DOC_TIMESTAMP + 200)).snapshot
    assert redelivered.occurred_at < declined.occurred_at  # its timestamp is the newest
    current = Current(declined.status, declined.provider_status, declined.occurred_at)
    incoming = Incoming(redelivered.status, redelivered.provider_status, redelivered.occurred_at)
    assert judge(current, incoming) is Verdict.STALE


# -- item 6: decidedBy from the documented decision payload ---------------------------------
def decision_with(reviews: list[dict[str, Any]], status: str = "Declined") -> dict[str, Any]:
    """The documented decision (cassettes/didit/get_decision_200.yaml, reviewer decline)."""
    _, body = interaction(CASSETTES, "get_decision_200.yaml", 1)
    return {**body, "status": status, "reviews": reviews}


def review(user: str, new_status: str | None, created_at: str, **extra: Any) -> dict[str, Any]:
    return {
        "user": user,
        "new_status": new_status,
        "comment": None,
        "created_at": created_at,
        **extra,
    }


async def fetched(body: dict[str, Any]) -> Any:
    return await Script(ok(body)).adapter().fetch_session(S2)


async def test_a_console_reviewers_decision_is_reviewer() -> None:
    snap = await fetched(
        decision_with([review("jane@example.com", "Declined", "2026-01-15T10:00Z")])
    )
    assert snap.decision.outcome is Outcome.DECLINED
    assert snap.decision.decided_by is DecidedBy.REVIEWER
    assert snap.decision.decided_at == datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


async def test_the_recorded_reviewer_decline_is_reviewer() -> None:
    with replayer(CASSETTES).use_cassette("get_decision_200.yaml"):
        snap = await DiditAdapter(make_config()).fetch_session(S2)
    assert snap.decision.decided_by is DecidedBy.REVIEWER


async def test_a_decision_made_with_the_api_key_is_the_integrators() -> None:
    snap = await fetched(decision_with([review("API Client", "Declined", "2026-01-15T10:00Z")]))
    assert snap.decision.decided_by is DecidedBy.INTEGRATOR


async def test_no_review_is_the_vendors_automatic_decision() -> None:
    snap = await fetched(decision_with([]))
    assert snap.decision.decided_by is DecidedBy.PROVIDER
    assert snap.decision.decided_at is None


async def test_actor_type_is_not_read_only_the_documented_fields() -> None:
    """A feed-only `actor_type` beside the documented fields changes nothing."""
    api = review("API Client", "Declined", "2026-01-15T10:00Z", actor_type="CONSOLE_USER")
    assert (await fetched(decision_with([api]))).decision.decided_by is DecidedBy.INTEGRATOR
    person = review("jane@example.com", "Declined", "2026-01-15T10:00Z", actor_type="API_KEY")
    assert (await fetched(decision_with([person]))).decision.decided_by is DecidedBy.REVIEWER


async def test_the_newest_status_review_decides_and_notes_do_not() -> None:
    reviews = [
        review("jane@example.com", "Declined", "2026-01-15T11:00:00Z"),
        review("API Client", "In Review", "2026-01-15T10:00:00Z"),
        review("joe@example.com", None, "2026-01-15T12:00:00Z"),  # a note
    ]
    assert (await fetched(decision_with(reviews))).decision.decided_by is DecidedBy.REVIEWER


async def test_the_workflow_deciding_after_a_resubmission_is_the_provider() -> None:
    """A reviewer asked for a resubmission; the person redid the flow and Didit's workflow
    approved it: the last review set another status, so nobody but Didit decided."""
    reviews = [review("jane@example.com", "Resubmitted", "2026-01-15T10:00:00Z")]
    snap = await fetched(decision_with(reviews, status="Approved"))
    assert snap.decision.outcome is Outcome.APPROVED
    assert snap.decision.decided_by is DecidedBy.PROVIDER


def test_a_webhook_carrying_a_reviewers_decision_is_reviewer() -> None:
    decision = decision_with([review("jane@example.com", "Declined", "2026-03-31T15:13:00Z")])
    event = parse_at(documented_envelope(status="Declined", decision=decision))
    assert event.snapshot.decision.decided_by is DecidedBy.REVIEWER
    assert event.snapshot.decision.decided_at == at(DOC_CREATED_AT)  # when the status changed


@pytest.mark.parametrize("reviews", [[], [review("jane@example.com", "In Review", "2026-01-15")]])
async def test_our_own_decision_reports_integrator(reviews: list[dict[str, Any]]) -> None:
    """decideSession: whatever the re-read's reviews show, our update-status decided."""
    script = Script(ok({"session_id": S2}), ok(decision_with(reviews, status="Approved")))
    snap = await script.adapter().decide_session(S2, DecisionAction.APPROVE, "checked")
    assert snap is not None and snap.decision.decided_by is DecidedBy.INTEGRATOR


async def test_a_re_read_showing_another_outcome_is_not_claimed() -> None:
    script = Script(ok({"session_id": S2}), ok(decision_with([], status="Approved")))
    snap = await script.adapter().decide_session(S2, DecisionAction.DECLINE, None)
    assert snap is not None and snap.decision.decided_by is DecidedBy.PROVIDER


# -- items 7 and 16: what each input becomes ------------------------------------------------
def test_every_input_field_is_declared_with_a_reason() -> None:
    assert DiditAdapter.input_support is INPUT_SUPPORT
    assert set(INPUT_SUPPORT) == set(input_fields())
    for name, declared in INPUT_SUPPORT.items():
        if declared.support is not InputSupport.SENT:
            assert declared.note and "\n" not in declared.note, name


def test_expiry_is_ignored_and_steps_refused() -> None:
    assert INPUT_SUPPORT["expires_in"].support is InputSupport.IGNORED
    assert Capability.STEPS not in DiditAdapter.capabilities
    assert INPUT_SUPPORT["steps"].support is InputSupport.REFUSED
    ignored = {n for n, d in INPUT_SUPPORT.items() if d.support is InputSupport.IGNORED}
    assert ignored == {"expires_in"}  # everything else has a documented place


#: Where each honoured field lands in the create body (create-session's request fields).
BODY_PATHS: dict[str, tuple[str, ...]] = {
    "client_reference": ("vendor_data",),
    "metadata": ("metadata",),
    "return_url": ("callback",),
    "language": ("language",),
    "contact.email": ("contact_details", "email"),
    "contact.phone": ("contact_details", "phone"),
    "expected_person.first_name": ("expected_details", "first_name"),
    "expected_person.last_name": ("expected_details", "last_name"),
    "expected_person.date_of_birth": ("expected_details", "date_of_birth"),
    "expected_person.nationality": ("expected_details", "nationality"),
    "expected_person.document_country": ("expected_details", "id_country"),
    "expected_person.document_types": ("expected_details", "expected_document_types"),
    "workflow_id": ("workflow_id",),
    "provider_options": ("callback_method",),
}


def _at(body: dict[str, Any], path: tuple[str, ...]) -> Any:
    for key in path:
        body = body[key]
    return body


async def test_every_sent_or_mapped_field_reaches_didit() -> None:
    script = Script(ok(status=201))
    snap = await script.adapter().create_session(full_request())
    sent = script.sent_json()
    for name, path in BODY_PATHS.items():
        assert INPUT_SUPPORT[name].support in (InputSupport.SENT, InputSupport.MAPPED), name
        assert _at(sent, path) not in (None, "", []), name
    assert "3600" not in json.dumps(sent) and "expires" not in json.dumps(sent)
    assert snap.expires_at is None  # never invented


async def test_a_create_with_only_an_expiry_sends_none() -> None:
    script = Script(ok(status=201))
    snap = await script.adapter().create_session(
        CreateSessionRequest(workflow_id="wf", expires_in=600)
    )
    assert script.sent_json() == {"workflow_id": "wf"}
    assert snap.expires_at is None
    assert snap.status is SessionStatus.CREATED
