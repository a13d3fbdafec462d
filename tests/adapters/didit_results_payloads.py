"""Didit's documented result payloads for the results tests: the decision bodies of
`cassettes/didit/results_*.yaml` (docs/vendors/didit.md, Results), the same decision embedded
in a signed `status.updated` envelope (the webhook carries the decision object GET /decision/
returns), and the `Results` each must read as."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from adapters.results import (
    Address,
    Check,
    CheckKind,
    CheckOutcome,
    Results,
    VerifiedDocument,
    VerifiedPerson,
)
from tests.support.cassettes import interaction
from tests.support.signing.didit import documented_envelope, sign_webhook

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "didit"
#: cassette → (session id, Didit status)
DOCUMENTED = {
    "results_approved.yaml": ("33333333-4444-5555-6666-777777777777", "Approved"),
    "results_declined.yaml": ("44444444-5555-6666-7777-888888888888", "Declined"),
    "results_review.yaml": ("55555555-6666-7777-8888-999999999999", "In Review"),
}

K, OUT = CheckKind, CheckOutcome
CARMEN = VerifiedPerson(
    first_name="Carmen",
    last_name="Española Española",
    full_name="Carmen Española Española",
    date_of_birth=date(1980, 1, 1),
    nationality="ESP",
)
PASSPORT = VerifiedDocument(
    type="PASSPORT",
    country="ESP",
    number="PAA000000",
    issued_on=date(2021, 6, 2),
    expires_on=date(2031, 6, 2),
)


def _passing(*, aml_score: float | None = 0.0) -> tuple[Check, ...]:
    return (
        Check(K.LIVENESS, OUT.PASSED, "LIVENESS", score=95.1),
        Check(K.FACE_MATCH, OUT.PASSED, "FACE_MATCH", score=91.3),
        Check(K.AML, OUT.PASSED, "AML", score=aml_score),
        Check(K.OTHER, OUT.PASSED, "IP_ANALYSIS"),
    )


def _without(checks: tuple[Check, ...], name: str) -> tuple[Check, ...]:
    return tuple(c for c in checks if c.provider_name != name)


LIVENESS, FACE, AML, IP = _passing()

#: The Results each documented decision reads as (docs/results.md, Didit).
EXPECTED: dict[str, Results] = {
    "results_approved.yaml": Results(
        checks=(Check(K.DOCUMENT, OUT.PASSED, "ID_VERIFICATION"), LIVENESS, FACE, AML, IP),
        person=replace(
            CARMEN,
            address=Address(
                line1="Calle Mayor 1",
                city="Madrid",
                region="Comunidad de Madrid",
                postal_code="28013",
            ),
        ),
        documents=(PASSPORT,),
    ),
    "results_declined.yaml": Results(
        checks=(
            Check(
                K.DOCUMENT,
                OUT.FAILED,
                "ID_VERIFICATION",
                reasons=("document_expired",),
                provider_reasons=("DOCUMENT_EXPIRED",),
            ),
            LIVENESS,
            FACE,
            AML,
            IP,
        ),
        person=replace(CARMEN, address=Address(line1="Calle Mayor 1, 28013 Madrid")),
        documents=(
            VerifiedDocument(
                type="PASSPORT",
                country="ESP",
                number="PAA000000",
                issued_on=date(2015, 3, 1),
                expires_on=date(2025, 3, 1),
            ),
        ),
    ),
    "results_review.yaml": Results(
        checks=(
            Check(K.DOCUMENT, OUT.PASSED, "ID_VERIFICATION"),  # its warning is information
            LIVENESS,
            FACE,
            Check(
                K.AML,
                OUT.REVIEW,
                "AML",
                reasons=("aml_hit",),
                provider_reasons=("POSSIBLE_MATCH_FOUND",),
                score=85.0,
            ),
            IP,
        ),
        person=replace(CARMEN, address=Address(line1="Calle Mayor 1, 28013 Madrid")),
        documents=(PASSPORT,),
    ),
}


def documented_decision(name: str) -> dict[str, Any]:
    """The decision body of one results cassette."""
    _, body = interaction(CASSETTES, name)
    return body


def signed_status_webhook(name: str, timestamp: int) -> tuple[bytes, dict[str, str]]:
    """A signed v3 `status.updated` whose `decision` is the cassette's decision."""
    session_id, status = DOCUMENTED[name]
    body = documented_envelope(
        session_id=session_id,
        status=status,
        timestamp=timestamp,
        created_at=timestamp,
        decision=documented_decision(name),
    )
    return sign_webhook(body)
