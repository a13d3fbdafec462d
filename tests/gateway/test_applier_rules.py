"""Small applier rules that hold for every vendor."""

from __future__ import annotations

from gateway.sessions.applier import keep_integrator


def test_our_own_decision_stays_ours_when_a_poll_repeats_it() -> None:
    ours = {"outcome": "APPROVED", "decided_by": "INTEGRATOR"}
    polled = {"outcome": "APPROVED", "decided_by": "REVIEWER", "reason_codes": []}
    assert keep_integrator(ours, polled)["decided_by"] == "INTEGRATOR"
    assert keep_integrator(ours, polled)["reason_codes"] == []


def test_a_different_later_outcome_is_taken_as_the_vendor_says() -> None:
    ours = {"outcome": "APPROVED", "decided_by": "INTEGRATOR"}
    flipped = {"outcome": "DECLINED", "decided_by": "REVIEWER"}
    assert keep_integrator(ours, flipped) == flipped
    assert keep_integrator(None, flipped) == flipped


def test_step_gates_and_types_survive_partial_reports() -> None:
    from gateway.sessions.applier import merge_steps

    stored = [
        {"index": 0, "type": "IDENTIFY", "state": "COMPLETED", "gate": True},
        {"index": 1, "type": "SIGN", "state": "PENDING", "gate": False},
    ]
    incoming = [
        {"index": 0, "type": "", "state": "COMPLETED", "gate": False},
        {"index": 1, "type": "SIGN", "state": "IN_PROGRESS", "gate": False},
    ]
    merged = merge_steps(stored, incoming)
    assert merged[0]["gate"] is True and merged[0]["type"] == "IDENTIFY"
    assert merged[1]["state"] == "IN_PROGRESS"


def test_a_report_naming_one_step_keeps_the_others() -> None:
    """A step event may carry only its own step: the others are not dropped."""
    from gateway.sessions.applier import merge_steps

    stored = [
        {"index": 0, "type": "IDENTIFY", "state": "COMPLETED", "gate": False, "result": None},
        {"index": 1, "type": "AGE_VERIFY", "state": "PENDING", "gate": False, "result": None},
        {"index": 2, "type": "SIGN", "state": "PENDING", "gate": False, "result": None},
    ]
    incoming = [{"index": 1, "type": "AGE_VERIFY", "state": "COMPLETED", "result": "NOT_SATISFIED"}]
    merged = merge_steps(stored, incoming)
    assert [step["index"] for step in merged] == [0, 1, 2]
    assert merged[1]["result"] == "NOT_SATISFIED"
    assert merged[2] == stored[2]
