"""The Verifa status tables, one combination at a time, against docs/vendors/verifa.md (Status
vocabulary and our mapping) written out by hand: session status, for `completed` the result
status too, and the raw status `session.resubmission-required` gives. Sources: the session
statuses of https://docs.withverifa.com/core-concepts/sessions, the result statuses of
https://docs.withverifa.com/best-practices/testing and the official demo."""

from __future__ import annotations

import pytest

from adapters.base import Capability, SessionStatus
from adapters.verifa.adapter import VerifaAdapter
from adapters.verifa.statuses import (
    RESULT_STATUS_MAP,
    SESSION_STATUS_MAP,
    VERIFA_STATUSES,
    VOCABULARY,
    join_status,
    result_is_out,
    split_status,
)
from tests.support.scripted_vendor import offline_adapter

map_status = VerifaAdapter.map_status
allowed_actions = offline_adapter(VerifaAdapter).session_capabilities

# docs/vendors/verifa.md, Status vocabulary — copied by hand, not derived from the module.
SESSION: list[tuple[str, SessionStatus]] = [
    ("pending", SessionStatus.CREATED),
    ("capturing", SessionStatus.IN_PROGRESS),
    ("processing", SessionStatus.PROCESSING),
    ("completed", SessionStatus.PROCESSING),  # while the result is not out yet
    ("awaiting_external", SessionStatus.AWAITING_DECISION),
    ("sandbox_pending", SessionStatus.AWAITING_DECISION),
    ("under_review", SessionStatus.IN_REVIEW),
    ("expired", SessionStatus.EXPIRED),
    ("failed", SessionStatus.FAILED),
]
COMPLETED_WITH_RESULT: list[tuple[str, SessionStatus]] = [
    ("approved", SessionStatus.APPROVED),
    ("passed", SessionStatus.APPROVED),
    ("rejected", SessionStatus.DECLINED),
    ("declined", SessionStatus.DECLINED),
    ("failed", SessionStatus.DECLINED),
    ("needs_review", SessionStatus.IN_REVIEW),
]


@pytest.mark.parametrize(("verifa", "normalized"), SESSION, ids=[v for v, _ in SESSION])
def test_session_status_maps_per_the_table(verifa: str, normalized: SessionStatus) -> None:
    assert map_status(verifa) is normalized


@pytest.mark.parametrize(
    ("result", "normalized"), COMPLETED_WITH_RESULT, ids=[r for r, _ in COMPLETED_WITH_RESULT]
)
def test_completed_plus_result_maps_per_the_table(result: str, normalized: SessionStatus) -> None:
    raw = join_status("completed", result)
    assert raw == f"completed:{result}"
    assert map_status(raw) is normalized
    assert result_is_out(raw)


@pytest.mark.parametrize(("session", "_"), [s for s in SESSION if s[0] != "completed"])
@pytest.mark.parametrize("result", [r for r, _ in COMPLETED_WITH_RESULT])
def test_a_result_only_counts_on_a_completed_session(
    session: str, _: SessionStatus, result: str
) -> None:
    assert join_status(session, result) == session  # never joined
    assert map_status(f"{session}:{result}") is None
    assert not result_is_out(f"{session}:{result}")


def test_vocabulary_is_exactly_the_nine_documented_session_statuses() -> None:
    assert frozenset(v for v, _ in SESSION) == VERIFA_STATUSES == frozenset(SESSION_STATUS_MAP)
    assert len(VERIFA_STATUSES) == 9
    assert frozenset(r for r, _ in COMPLETED_WITH_RESULT) == frozenset(RESULT_STATUS_MAP)


def test_finality_follows_the_table() -> None:
    final = {v for v, _ in SESSION if map_status(v).is_final}  # type: ignore[union-attr]
    assert final == {"expired", "failed"}  # `completed` alone is not final: no decision yet
    outcomes = {r for r, _ in COMPLETED_WITH_RESULT}
    decided = {r for r in outcomes if map_status(f"completed:{r}").is_final}  # type: ignore[union-attr]
    assert decided == outcomes - {"needs_review"}


def test_completed_without_result_is_plain_completed() -> None:
    assert join_status("completed", None) == "completed"
    assert join_status("completed", "") == "completed"
    assert split_status("completed") == ("completed", None)
    assert not result_is_out("completed")


def test_unknown_result_keeps_raw_and_maps_to_none() -> None:
    raw = join_status("completed", "expired")  # the demo also accepts `expired`: not ours
    assert raw == "completed:expired"
    assert map_status(raw) is None
    assert not result_is_out(raw)


def test_long_result_status_is_cut() -> None:
    assert join_status("completed", "x" * 500) == "completed:" + "x" * 64


@pytest.mark.parametrize(
    "value",
    [
        "Pending",
        "COMPLETED",
        " pending",
        "pending ",
        "",
        "abandoned",  # resume speaks of abandoned sessions, but no such status exists
        "approved",  # a result / webhook status, not a session status
        "needs_review",
        "redacted",  # a retention status
        "open",  # a case status
        "completed:",
        "completed:Approved",
        "completed: approved",
        ":approved",
        "completed:approved:extra",
        None,
        42,
        ["pending"],
    ],
)
def test_unknown_values_map_to_none(value: object) -> None:
    assert map_status(value) is None


def test_the_resubmission_event_status_is_awaiting_user() -> None:
    assert map_status("resubmission_required") is SessionStatus.AWAITING_USER
    assert map_status("completed:resubmission_required") is None
    assert "resubmission_required" in VOCABULARY and "resubmission_required" not in VERIFA_STATUSES


def test_tables_are_read_only() -> None:
    with pytest.raises(TypeError):
        SESSION_STATUS_MAP["new"] = SessionStatus.CREATED  # type: ignore[index]
    with pytest.raises(TypeError):
        RESULT_STATUS_MAP["ok"] = SessionStatus.APPROVED  # type: ignore[index]


# -- actions per status (docs/vendors/verifa.md, Endpoints we call) -----------------------------
ALWAYS = {
    Capability.READ,
    Capability.REFRESH,
    Capability.UPDATE_METADATA,
    Capability.REDACT,
    Capability.WEBHOOKS,
    Capability.POLLING,
}
CANCEL = {Capability.CANCEL}
RESUME = {Capability.RESUME}
REPROCESS = {Capability.REPROCESS}
LINK = {Capability.ISSUE_LINK}
#: "The session must be in `awaiting_external` status" (submit-external-decision); a session
#: under review has its review case to approve or reject (core-concepts/cases).
GATE = {Capability.CONTINUE, Capability.DECIDE}
CASE = {Capability.DECIDE}


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("pending", ALWAYS | CANCEL | LINK),
        ("capturing", ALWAYS | CANCEL | LINK),
        ("processing", ALWAYS | CANCEL | LINK),
        ("awaiting_external", ALWAYS | CANCEL | LINK | GATE),
        ("under_review", ALWAYS | CANCEL | LINK | CASE),
        ("resubmission_required", ALWAYS | CANCEL | LINK),
        ("sandbox_pending", ALWAYS | CANCEL | LINK),
        ("completed", ALWAYS | REPROCESS),
        ("completed:approved", ALWAYS | REPROCESS),
        ("completed:rejected", ALWAYS | REPROCESS),
        ("completed:needs_review", ALWAYS | REPROCESS),
        ("expired", ALWAYS | RESUME | LINK),
        ("failed", ALWAYS | REPROCESS),
        (None, ALWAYS),
        ("unknown", ALWAYS),
        ("Completed", ALWAYS),
        ("pending:approved", ALWAYS),
    ],
)
def test_allowed_actions(status: str | None, expected: set[Capability]) -> None:
    assert allowed_actions(status) == expected
