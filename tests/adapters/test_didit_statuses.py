"""The Didit status table, one status at a time, against docs/vendors/didit.md (Status
vocabulary and our mapping) written out by hand."""

from __future__ import annotations

import pytest

from adapters.base import SessionStatus
from adapters.didit.adapter import DiditAdapter
from adapters.didit.statuses import DIDIT_STATUS_MAP, DIDIT_STATUSES

map_status = DiditAdapter.map_status

# docs/vendors/didit.md, Status vocabulary and our mapping — copied by hand, not derived from
# the module under test (strings: https://docs.didit.me/integration/verification-statuses).
EXPECTED: list[tuple[str, SessionStatus]] = [
    ("Not Started", SessionStatus.CREATED),
    ("In Progress", SessionStatus.IN_PROGRESS),
    ("Approved", SessionStatus.APPROVED),
    ("Declined", SessionStatus.DECLINED),
    ("In Review", SessionStatus.IN_REVIEW),
    ("Awaiting User", SessionStatus.AWAITING_USER),
    ("Resubmitted", SessionStatus.AWAITING_USER),
    ("Expired", SessionStatus.EXPIRED),
    ("Abandoned", SessionStatus.ABANDONED),
    ("Kyc Expired", SessionStatus.EXPIRED),
]


@pytest.mark.parametrize(("didit", "normalized"), EXPECTED, ids=[d for d, _ in EXPECTED])
def test_status_maps_per_the_vendor_page(didit: str, normalized: SessionStatus) -> None:
    assert map_status(didit) is normalized


def test_vocabulary_is_exactly_the_ten_documented_statuses() -> None:
    assert frozenset(d for d, _ in EXPECTED) == DIDIT_STATUSES
    assert len(DIDIT_STATUSES) == 10


def test_finality_follows_the_table() -> None:
    final = {d for d, _ in EXPECTED if map_status(d).is_final}  # type: ignore[union-attr]
    assert final == {"Approved", "Declined", "Expired", "Abandoned", "Kyc Expired"}


@pytest.mark.parametrize(
    "value",
    [
        "approved",
        "APPROVED",
        "KYC Expired",
        "Kyc expired",
        "In review",
        " Approved",
        "Approved ",
        "",
        "Unknown",
        "Determine",  # a workflow-node status, not a session status
        "ACTIVE",  # an entity status (user.status.updated)
        "completed",  # a web-SDK hint, not a status
        None,
        42,
        ["Approved"],
        {"status": "Approved"},
    ],
)
def test_unknown_values_map_to_none(value: object) -> None:
    assert map_status(value) is None


def test_table_is_read_only() -> None:
    with pytest.raises(TypeError):
        DIDIT_STATUS_MAP["Pending"] = SessionStatus.CREATED  # type: ignore[index]
