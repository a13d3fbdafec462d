"""The control endpoint's one body and one action vocabulary (adapters/common/sandbox)."""

from __future__ import annotations

import pytest

from adapters.common.sandbox.control import (
    DEFAULT_SCRIPT,
    ControlRequest,
    SimulateAction,
    control_request,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b'{"action": "open"}', ControlRequest("open")),
        (b'{"action": "decline", "reason": "blurry"}', ControlRequest("decline", "blurry")),
        # the name one emulator used first is still read
        (b'{"action": "decline", "rejection_reason": "x"}', ControlRequest("decline", "x")),
        (
            b'{"action": "decline", "reason": "a", "rejection_reason": "b"}',
            ControlRequest("decline", "a"),
        ),
    ],
)
def test_a_control_body_is_an_action_and_an_optional_reason(
    raw: bytes, expected: ControlRequest
) -> None:
    assert control_request(raw) == expected


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[]", b"null", b"{}", b'{"action": 3}', b'{"verb": "open"}']
)
def test_anything_else_is_no_control_body(raw: bytes) -> None:
    assert control_request(raw) is None


def test_actions_are_plain_strings_and_the_default_script_uses_shared_ones() -> None:
    assert SimulateAction.OPEN == "open" and f"{SimulateAction.REVIEW}" == "review"
    shared = set(list(SimulateAction)[:8])
    assert {a for p in DEFAULT_SCRIPT.paths for a in p.actions} <= shared
    assert DEFAULT_SCRIPT.to_json()["paths"][0] == {
        "weight": 3,
        "actions": ["open", "approve"],
        "decision": None,
        "expect": "APPROVED",
    }
