"""UIP's status table (docs/vendors/uip.md, Status vocabulary and our mapping) and the
per-status actions, exhaustively. Statuses: https://docs.uip.digital/core-concepts/sessions;
failure reasons: https://docs.uip.digital/api-reference/webhooks (session.failed)."""

from __future__ import annotations

import pytest

from adapters.base import Capability, Outcome, SessionStatus
from adapters.uip import inferred
from adapters.uip.adapter import UipAdapter
from adapters.uip.statuses import (
    ACTIVE_STATUSES,
    ALWAYS_ALLOWED,
    MAX_REASON_LENGTH,
    OUTCOMES,
    TECHNICAL_FAILURE_REASONS,
    UIP_STATUSES,
    VOCABULARY,
    join_failed,
    join_verdict,
    split_status,
)
from tests.support.scripted_vendor import offline_adapter

map_status = UipAdapter.map_status
allowed_actions = offline_adapter(UipAdapter).session_capabilities

#: docs/vendors/uip.md, Status vocabulary and our mapping, written out.
DESIGN_TABLE = {
    "created": SessionStatus.CREATED,
    "in_progress": SessionStatus.IN_PROGRESS,
    "awaiting_decision": SessionStatus.AWAITING_DECISION,
    "completed": SessionStatus.APPROVED,
    "stopped": SessionStatus.CANCELLED,
    "expired": SessionStatus.EXPIRED,
    "failed": SessionStatus.DECLINED,
    "failed:insufficient_funds": SessionStatus.FAILED,
    "failed:internal_error": SessionStatus.FAILED,
    "in_progress:age_not_satisfied": SessionStatus.DECLINED,
    "awaiting_decision:age_not_satisfied": SessionStatus.DECLINED,
    "completed:age_not_satisfied": SessionStatus.DECLINED,
    "stopped:age_not_satisfied": SessionStatus.DECLINED,
    "expired:age_not_satisfied": SessionStatus.DECLINED,
    "completed:results_pending": SessionStatus.PROCESSING,
}


def test_the_documented_statuses_are_the_seven_of_the_doc() -> None:
    assert UIP_STATUSES == {
        "created",
        "in_progress",
        "awaiting_decision",
        "completed",
        "stopped",
        "failed",
        "expired",
    }


def test_vocabulary_is_the_table() -> None:
    assert frozenset(DESIGN_TABLE) == VOCABULARY
    assert UIP_STATUSES <= VOCABULARY
    assert TECHNICAL_FAILURE_REASONS == {"insufficient_funds", "internal_error"}


@pytest.mark.parametrize(("raw", "want"), sorted(DESIGN_TABLE.items()))
def test_design_table(raw: str, want: SessionStatus) -> None:
    assert map_status(raw) is want


@pytest.mark.parametrize(
    "reason",
    [
        "credential verification failed",
        "document_expired",
        "age requirement not met",
        "insufficient_funds_later",  # not the documented value
        "internal",
        "x",
    ],
)
def test_a_verification_reason_is_declined(reason: str) -> None:
    assert map_status(f"failed:{reason}") is SessionStatus.DECLINED


@pytest.mark.parametrize("reason", ["INSUFFICIENT_FUNDS", "Internal_Error"])
def test_technical_reasons_ignore_case(reason: str) -> None:
    assert map_status(f"failed:{reason}") is SessionStatus.FAILED


def test_failed_without_a_reason_is_the_inferred_status() -> None:
    """ "failed: A step failed verification, or funds ran out" (core-concepts/sessions): without
    the reason it is the person's failure; the technical reasons come with the webhook."""
    assert map_status("failed") is inferred.FAILED_WITHOUT_REASON is SessionStatus.DECLINED


@pytest.mark.parametrize("status", ["created", "failed", "completed_x", "in-progress"])
def test_an_unmet_verdict_only_follows_a_verified_step(status: str) -> None:
    raw = f"{status}:age_not_satisfied"
    assert map_status(raw) is (SessionStatus.DECLINED if status == "failed" else None)


@pytest.mark.parametrize("raw", ["in_progress:results_pending", "completed:unknown_code"])
def test_other_qualifiers_are_not_ours(raw: str) -> None:
    assert map_status(raw) is None


def test_a_reason_may_contain_the_separator() -> None:
    assert map_status("failed:step 0: credential revoked") is SessionStatus.DECLINED


@pytest.mark.parametrize(
    "raw",
    [
        "",
        " ",
        "failed:",
        "failed: ",
        "failed: padded ",
        "completed:approved",
        "stopped:by integrator",
        "expired:late",
        ":insufficient_funds",
        "FAILED:internal_error",
        " failed",
        "Completed",
        "in-progress",
        "awaiting decision",
        "cancelled",
        None,
        0,
        b"completed",
    ],
)
def test_anything_else_maps_to_none(raw: object) -> None:
    assert map_status(raw) is None


# -- joining a reason --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reason", "raw"),
    [
        ("insufficient_funds", "failed:insufficient_funds"),
        ("  internal_error \n", "failed:internal_error"),
        (None, "failed"),
        ("", "failed"),
        ("   ", "failed"),
    ],
)
def test_join_failed(reason: str | None, raw: str) -> None:
    assert join_failed(reason) == raw


def test_long_reasons_are_cut_and_still_map() -> None:
    raw = join_failed("a" * 200 + " ")
    assert raw == "failed:" + "a" * MAX_REASON_LENGTH
    assert map_status(raw) is SessionStatus.DECLINED


def test_a_reason_cut_at_a_space_still_maps() -> None:
    raw = join_failed("a" * (MAX_REASON_LENGTH - 1) + " bcd")
    assert not raw.endswith(" ")
    assert map_status(raw) is SessionStatus.DECLINED


@pytest.mark.parametrize("raw", [*sorted(VOCABULARY), "failed:step 0: revoked"])
def test_split_inverts_join(raw: str) -> None:
    status, reason = split_status(raw)
    assert (join_failed(reason) if status == "failed" else join_verdict(status, reason)) == raw


# -- outcomes and actions ---------------------------------------------------------------------
def test_outcomes() -> None:
    assert dict(OUTCOMES) == {
        SessionStatus.APPROVED: Outcome.APPROVED,
        SessionStatus.DECLINED: Outcome.DECLINED,
    }


def test_active_statuses_are_uips_non_terminal_ones() -> None:
    assert ACTIVE_STATUSES == {
        raw for raw in UIP_STATUSES if not (map_status(raw) or SessionStatus.FAILED).is_final
    }
    # ...and the one joined value that is terminal at UIP but not decided for us.
    assert {raw for raw in VOCABULARY - UIP_STATUSES if not map_status(raw).is_final} == {
        "completed:results_pending"
    }


@pytest.mark.parametrize("raw", [*sorted(VOCABULARY), None, "unknown", "failed:x"])
def test_continue_and_stop_only_at_a_gate(raw: str | None) -> None:
    allowed = allowed_actions(raw)
    gate = {Capability.CONTINUE, Capability.CANCEL}
    if raw in ("awaiting_decision", "awaiting_decision:age_not_satisfied"):
        assert allowed == ALWAYS_ALLOWED | gate
    else:
        assert allowed == ALWAYS_ALLOWED
        assert not allowed & gate


def test_always_allowed() -> None:
    assert ALWAYS_ALLOWED == {
        Capability.READ,
        Capability.REFRESH,
        Capability.WEBHOOKS,
        Capability.POLLING,
    }
