"""uqudo's derived status vocabulary → normalized status (docs/vendors/uqudo.md, Status
vocabulary and our mapping).

uqudo has no session-status resource: these values are ours, named after what we can see —
the QR create, the websocket milestones (`SCAN`, `READ`, `FACE`, `BACKGROUND_CHECK`, `INFO`,
spelled as uqudo sends them), a result received but not judged yet, the policy's verdict on
a verified result, the QR session deleted by us (cancel), and the session TTL running out.
An unknown value maps to None: the gateway keeps the previous status and shows the raw one.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from adapters.base import SessionStatus

QR_CREATED = "QR_CREATED"  # POST /api/v1/session answered
# The Info API has no result and this process does not know the session (created before a
# restart or on another replica): nothing more is known than "created, not finished".
PENDING_RESULT = "PENDING_RESULT"
SCAN = "SCAN"  # websocket: document scanned
READ = "READ"  # websocket: NFC chip read
FACE = "FACE"  # websocket: facial recognition done
BACKGROUND_CHECK = "BACKGROUND_CHECK"  # websocket: background check done
INFO = "INFO"  # websocket: the SDK fetched the JWS — the result is at the Info API
# A verified result that cannot be judged yet (a webhook JWS without verification scores):
# the gateway reads the Info API's full result.
RESULT_RECEIVED = "RESULT_RECEIVED"
RESULT_APPROVED = "RESULT_APPROVED"  # verified, the policy approves
RESULT_DECLINED = "RESULT_DECLINED"  # verified, the policy declines
RESULT_REVIEW = "RESULT_REVIEW"  # verified, the policy wants a human
EXPIRED = "EXPIRED"  # session TTL (+ grace) passed with no result
# We deleted the QR session (`DELETE /api/v1/session/{qrCodeText}`) before any result: the
# QR code no longer works (cancelSession).
QR_DELETED = "QR_DELETED"

UQUDO_STATUS_MAP: Mapping[str, SessionStatus] = MappingProxyType(
    {
        QR_CREATED: SessionStatus.CREATED,
        PENDING_RESULT: SessionStatus.CREATED,
        SCAN: SessionStatus.IN_PROGRESS,
        READ: SessionStatus.IN_PROGRESS,
        FACE: SessionStatus.IN_PROGRESS,
        BACKGROUND_CHECK: SessionStatus.IN_PROGRESS,
        INFO: SessionStatus.PROCESSING,
        RESULT_RECEIVED: SessionStatus.PROCESSING,
        RESULT_APPROVED: SessionStatus.APPROVED,
        RESULT_DECLINED: SessionStatus.DECLINED,
        RESULT_REVIEW: SessionStatus.IN_REVIEW,
        EXPIRED: SessionStatus.EXPIRED,
        QR_DELETED: SessionStatus.CANCELLED,
    }
)

UQUDO_STATUSES: frozenset[str] = frozenset(UQUDO_STATUS_MAP)

#: The websocket `service` values (docs/vendors/uqudo.md, Endpoints we call), in the order
#: the flow produces them.
CHANNEL_MILESTONES: tuple[str, ...] = (SCAN, READ, FACE, BACKGROUND_CHECK, INFO)
#: After these the result is (or is about to be) at the Info API: read it, no websocket.
RESULT_PENDING: frozenset[str] = frozenset({INFO, RESULT_RECEIVED})
#: While no result exists the QR session can still be deleted (cancelSession); afterwards
#: there is nothing left to stop.
CANCELLABLE: frozenset[str] = frozenset({QR_CREATED, PENDING_RESULT, *CHANNEL_MILESTONES}) - {INFO}
#: Every state that is not final is polled: polling the Info API is the only way to learn a
#: result (or the TTL running out) when the websocket is not followed — after a restart, on
#: another replica, or once it closed — and the adapter cannot tell from a status whether a
#: stream is live. Polls are cheap (one Info API read) and sessions live 30 minutes.
#: `RESULT_REVIEW` is not final but waits for a human: uqudo's result will not change.
POLLED: frozenset[str] = frozenset(
    s for s, v in UQUDO_STATUS_MAP.items() if not v.is_final and s != RESULT_REVIEW
)
