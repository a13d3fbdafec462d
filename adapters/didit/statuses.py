"""Didit's status declarations (docs/vendors/didit.md, Status vocabulary and our mapping):
the status table and what each status allows, read by `ProviderAdapter`.

The strings are Didit's own, case-sensitive (`Kyc Expired` has a single capital K). An
unknown value maps to None: the gateway then keeps the previous status and shows the raw one;
we never guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import Capability, SessionStatus, allowed_from
from adapters.didit import inferred

DIDIT_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        "Not Started": SessionStatus.CREATED,
        "In Progress": SessionStatus.IN_PROGRESS,
        "Approved": SessionStatus.APPROVED,
        "Declined": SessionStatus.DECLINED,
        "In Review": SessionStatus.IN_REVIEW,
        "Awaiting User": SessionStatus.AWAITING_USER,  # KYB parent waiting for key people
        "Resubmitted": SessionStatus.AWAITING_USER,  # the person must redo some steps
        "Expired": SessionStatus.EXPIRED,
        "Abandoned": SessionStatus.ABANDONED,
        "Kyc Expired": SessionStatus.EXPIRED,  # an approval whose document aged out
    }
)

DIDIT_STATUSES: frozenset[str] = frozenset(DIDIT_STATUS_MAP)

#: Offered on a session whatever its status.
ALWAYS_ALLOWED: frozenset[Capability] = frozenset(
    {
        Capability.READ,
        Capability.REFRESH,
        Capability.REDACT,
        Capability.WEBHOOKS,
        Capability.POLLING,
    }
)

#: generate-pdf renders a report only for these (https://docs.didit.me/sessions-api/generate-pdf,
#: "Eligible statuses", KYC sessions); any other status answers 403.
REPORT_STATUSES: frozenset[str] = frozenset({"Approved", "Declined", "In Review", "Kyc Expired"})

#: update-status is accepted only from some statuses, resubmission from fewer (both inferred).
ACTIONS_BY_STATUS: Mapping[str, frozenset[Capability]] = allowed_from(
    {
        Capability.DECIDE: inferred.UPDATE_STATUS_ALLOWED_FROM,
        Capability.REQUEST_RESUBMISSION: inferred.RESUBMIT_ALLOWED_FROM,
        Capability.REPORT: REPORT_STATUSES,
    }
)
