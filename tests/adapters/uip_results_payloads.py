"""UIP's documented result payloads and the `Results` each must read as (docs/vendors/uip.md,
Results; the pages are cited in each fixture's `source` and each cassette's header).

Webhook bodies are the `cassettes/uip/webhook_*.json` fixtures (`step.completed` per primitive,
`session.failed`); reads are the Version B cassettes `results_*.yaml` and
`get_session_shape_b.yaml` (the page's own example). UIP has no review state, so there is no
review payload.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from adapters import results as normalized
from tests.support.signing.uip import sign_webhook

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "uip"
DRIVERS_LICENSE = "DRIVERS_LICENSE"


def fixture_body(name: str) -> dict[str, Any]:
    return json.loads((CASSETTES / name).read_text(encoding="utf-8"))["body"]


def signed_fixture(name: str) -> tuple[bytes, dict[str, str]]:
    data = json.loads((CASSETTES / name).read_text(encoding="utf-8"))
    return sign_webhook(data["body"], delivery_id=data["delivery_id"])


def version_b_body(
    session_id: str,
    status: str,
    claims: dict[str, Any],
    *,
    satisfied: bool,
    audit_ids: tuple[str, str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """GET's Version B (https://uip.mintlify.app/api-reference/sessions/get) of a session of two
    verified steps, identify (with `claims`) then age_verify (min_age 21, `satisfied`);
    `fields` are further top-level fields."""
    audits: list[dict[str, Any]] = (
        [{"audit_id": audit_id} for audit_id in audit_ids] if audit_ids else [{}, {}]
    )
    return {
        "id": session_id,
        "status": status,
        "current_step": 2,
        "step_count": 2,
        "results": [
            {
                "step": 0,
                "primitive": "identify",
                "verified_at": "2026-06-07T12:01:30Z",
                **audits[0],
                "claims": claims,
            },
            {
                "step": 1,
                "primitive": "age_verify",
                "verified_at": "2026-06-07T12:03:00Z",
                **audits[1],
                "satisfied": satisfied,
                "min_age": 21,
            },
        ],
        "outcome": status,
        **fields,
        "updated_at": "2026-06-07T12:03:00Z",
    }


def passed(kind: normalized.CheckKind, name: str) -> normalized.Check:
    return normalized.Check(kind, normalized.CheckOutcome.PASSED, name)


def session_failed(
    outcome: normalized.CheckOutcome, reason: str, provider_reason: str, **extra: Any
) -> normalized.Results:
    """A `session.failed` webhook's one check; the step is not known to an adapter that saw
    nothing else of the session."""
    return normalized.Results(
        checks=(
            normalized.Check(
                normalized.CheckKind.OTHER,
                outcome,
                "session.failed",
                reasons=(reason,),
                provider_reasons=(provider_reason,),
                **extra,
            ),
        )
    )


AGE_UNMET = normalized.Check(
    normalized.CheckKind.AGE,
    normalized.CheckOutcome.FAILED,
    "step 1: age_verify",
    reasons=("age_not_satisfied",),
    provider_reasons=("age_not_satisfied",),
)
ADA = normalized.VerifiedPerson(
    first_name="Ada", last_name="Lovelace", date_of_birth=date(1815, 12, 10)
)
ADA_LICENCE = normalized.VerifiedDocument(type=DRIVERS_LICENSE, country="US", number="D1234567")

#: webhook fixture → the `Results` of its snapshot.
WEBHOOKS: dict[str, normalized.Results] = {
    "webhook_step_completed_identify.json": normalized.Results(
        checks=(passed(normalized.CheckKind.DOCUMENT, "step 0: identify"),),
        person=normalized.VerifiedPerson(first_name="Jane", last_name="Doe"),
        documents=(normalized.VerifiedDocument(type=DRIVERS_LICENSE, country="US"),),
    ),
    "webhook_step_completed_age_verify.json": normalized.Results(
        checks=(passed(normalized.CheckKind.AGE, "step 1: age_verify"),)
    ),
    "webhook_step_completed_age_verify_not_satisfied.json": normalized.Results(checks=(AGE_UNMET,)),
    "webhook_step_completed_sign.json": normalized.Results(
        checks=(passed(normalized.CheckKind.SIGNATURE, "step 1: sign"),)
    ),
    "webhook_step_completed_light_sign.json": normalized.Results(
        checks=(passed(normalized.CheckKind.SIGNATURE, "step 0: light_sign"),)
    ),
    "webhook_session_failed_verification.json": session_failed(
        normalized.CheckOutcome.FAILED,
        "other",
        "credential verification failed",
        recognized=False,  # a free-text message: our table does not know it
    ),
    "webhook_session_failed_internal_error.json": session_failed(
        normalized.CheckOutcome.NOT_RUN, "technical_error", "internal_error"
    ),
    "webhook_session_failed_insufficient_funds.json": session_failed(
        normalized.CheckOutcome.NOT_RUN, "technical_error", "insufficient_funds"
    ),
}
#: Webhooks that say nothing about results.
WITHOUT_RESULTS = ("webhook_session_completed.json", "webhook_session_stopped.json")

#: Version B read cassette → the `Results` of its snapshot.
READS: dict[str, normalized.Results] = {
    "results_approved.yaml": normalized.Results(
        checks=(
            passed(normalized.CheckKind.DOCUMENT, "step 0: identify"),
            passed(normalized.CheckKind.AGE, "step 1: age_verify"),
        ),
        person=ADA,
        documents=(ADA_LICENCE,),
    ),
    "results_declined.yaml": normalized.Results(
        checks=(passed(normalized.CheckKind.DOCUMENT, "step 0: identify"), AGE_UNMET),
        person=ADA,
        documents=(ADA_LICENCE,),
    ),
    "get_session_shape_b.yaml": normalized.Results(
        checks=(passed(normalized.CheckKind.DOCUMENT, "step 0: identify"),),
        person=ADA,
        documents=(normalized.VerifiedDocument(type=DRIVERS_LICENSE, country="US"),),
    ),
}
