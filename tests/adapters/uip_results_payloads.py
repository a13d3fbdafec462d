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

from adapters.results import (
    Check,
    CheckKind,
    CheckOutcome,
    Results,
    VerifiedDocument,
    VerifiedPerson,
)
from tests.support.signing.uip import sign_webhook

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "uip"
DRIVERS_LICENSE = "DRIVERS_LICENSE"


def fixture_body(name: str) -> dict[str, Any]:
    return json.loads((CASSETTES / name).read_text(encoding="utf-8"))["body"]


def signed_fixture(name: str) -> tuple[bytes, dict[str, str]]:
    data = json.loads((CASSETTES / name).read_text(encoding="utf-8"))
    return sign_webhook(data["body"], delivery_id=data["delivery_id"])


def passed(kind: CheckKind, name: str) -> Check:
    return Check(kind, CheckOutcome.PASSED, name)


AGE_UNMET = Check(
    CheckKind.AGE,
    CheckOutcome.FAILED,
    "step 1: age_verify",
    reasons=("age_not_satisfied",),
    provider_reasons=("age_not_satisfied",),
)
ADA = VerifiedPerson(first_name="Ada", last_name="Lovelace", date_of_birth=date(1815, 12, 10))
ADA_LICENCE = VerifiedDocument(type=DRIVERS_LICENSE, country="US", number="D1234567")

#: webhook fixture → the `Results` of its snapshot.
WEBHOOKS: dict[str, Results] = {
    "webhook_step_completed_identify.json": Results(
        checks=(passed(CheckKind.DOCUMENT, "step 0: identify"),),
        person=VerifiedPerson(first_name="Jane", last_name="Doe"),
        documents=(VerifiedDocument(type=DRIVERS_LICENSE, country="US"),),
    ),
    "webhook_step_completed_age_verify.json": Results(
        checks=(passed(CheckKind.AGE, "step 1: age_verify"),)
    ),
    "webhook_step_completed_age_verify_not_satisfied.json": Results(checks=(AGE_UNMET,)),
    "webhook_step_completed_sign.json": Results(
        checks=(passed(CheckKind.SIGNATURE, "step 1: sign"),)
    ),
    "webhook_step_completed_light_sign.json": Results(
        checks=(passed(CheckKind.SIGNATURE, "step 0: light_sign"),)
    ),
    # The step is not known to an adapter that saw nothing else of the session.
    "webhook_session_failed_verification.json": Results(
        checks=(
            Check(
                CheckKind.OTHER,
                CheckOutcome.FAILED,
                "session.failed",
                reasons=("other",),
                provider_reasons=("credential verification failed",),
                recognized=False,  # a free-text message: our table does not know it
            ),
        )
    ),
    "webhook_session_failed_internal_error.json": Results(
        checks=(
            Check(
                CheckKind.OTHER,
                CheckOutcome.NOT_RUN,
                "session.failed",
                reasons=("technical_error",),
                provider_reasons=("internal_error",),
            ),
        )
    ),
    "webhook_session_failed_insufficient_funds.json": Results(
        checks=(
            Check(
                CheckKind.OTHER,
                CheckOutcome.NOT_RUN,
                "session.failed",
                reasons=("technical_error",),
                provider_reasons=("insufficient_funds",),
            ),
        )
    ),
}
#: Webhooks that say nothing about results.
WITHOUT_RESULTS = ("webhook_session_completed.json", "webhook_session_stopped.json")

#: Version B read cassette → the `Results` of its snapshot.
READS: dict[str, Results] = {
    "results_approved.yaml": Results(
        checks=(
            passed(CheckKind.DOCUMENT, "step 0: identify"),
            passed(CheckKind.AGE, "step 1: age_verify"),
        ),
        person=ADA,
        documents=(ADA_LICENCE,),
    ),
    "results_declined.yaml": Results(
        checks=(passed(CheckKind.DOCUMENT, "step 0: identify"), AGE_UNMET),
        person=ADA,
        documents=(ADA_LICENCE,),
    ),
    "get_session_shape_b.yaml": Results(
        checks=(passed(CheckKind.DOCUMENT, "step 0: identify"),),
        person=ADA,
        documents=(VerifiedDocument(type=DRIVERS_LICENSE, country="US"),),
    ),
}
