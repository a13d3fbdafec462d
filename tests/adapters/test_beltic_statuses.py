"""The Beltic status table, one status at a time, against docs/vendors/beltic.md (Status
vocabulary and our mapping) written out by hand; the nine statuses are those of
https://docs.beltic.com/guides/identity/sessions."""

from __future__ import annotations

import pytest

from adapters.base import SessionStatus
from adapters.beltic.adapter import BelticAdapter
from adapters.beltic.statuses import (
    BELTIC_STATUS_MAP,
    BELTIC_STATUSES,
    FINAL_BELTIC_STATUSES,
)

map_status = BelticAdapter.map_status

# docs/vendors/beltic.md's mapping — copied by hand, not derived from the module under test.
EXPECTED: list[tuple[str, SessionStatus]] = [
    ("created", SessionStatus.CREATED),
    ("started", SessionStatus.IN_PROGRESS),
    ("pending", SessionStatus.PROCESSING),
    ("completed", SessionStatus.AWAITING_DECISION),
    ("marked_for_review", SessionStatus.IN_REVIEW),
    ("approved", SessionStatus.APPROVED),
    ("declined", SessionStatus.DECLINED),
    ("expired", SessionStatus.EXPIRED),
    ("failed", SessionStatus.FAILED),
]


@pytest.mark.parametrize(("beltic", "normalized"), EXPECTED, ids=[b for b, _ in EXPECTED])
def test_status_maps_as_documented(beltic: str, normalized: SessionStatus) -> None:
    assert map_status(beltic) is normalized


def test_vocabulary_is_exactly_the_nine_documented_statuses() -> None:
    assert frozenset(b for b, _ in EXPECTED) == BELTIC_STATUSES
    assert len(BELTIC_STATUSES) == 9


def test_finality_follows_the_table() -> None:
    final = {b for b, s in EXPECTED if s.is_final}
    assert final == {"approved", "declined", "expired", "failed"} == FINAL_BELTIC_STATUSES


def test_completed_is_not_final_it_awaits_the_integrator() -> None:
    status = map_status("completed")
    assert status is SessionStatus.AWAITING_DECISION and not status.is_final


@pytest.mark.parametrize(
    "value",
    [
        "Created",
        "APPROVED",
        "Marked_For_Review",
        "marked-for-review",
        "marked for review",
        " approved",
        "approved ",
        "",
        "unknown",
        "passed",  # a verification status, not a session status
        "requires_retry",  # idem
        "processed",  # a document status
        "active",  # an account status
        "redacted",  # a timestamp (`redacted_at`), not a status
        None,
        42,
        ["approved"],
        {"status": "approved"},
    ],
)
def test_unknown_values_map_to_none(value: object) -> None:
    assert map_status(value) is None


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        BELTIC_STATUS_MAP["on_hold"] = SessionStatus.CREATED  # type: ignore[index]
