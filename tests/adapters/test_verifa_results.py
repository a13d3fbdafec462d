"""Verifa's result read into `Results` (docs/vendors/verifa.md, Results; docs/results.md,
Verifa): the check tables value by value, odd input, the documented payloads through the
adapter's real paths (cassette replay, signed webhooks), and the sandbox's results."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from adapters.base import CreateSessionRequest, ExpectedPerson, SessionStatus
from adapters.results import (
    REASON_CODES,
    Address,
    Check,
    CheckKind,
    CheckOutcome,
    Results,
    VerifiedDocument,
    VerifiedPerson,
)
from adapters.verifa.adapter import VerifaAdapter
from adapters.verifa.results import CHECKS_TABLE, RISK_TABLE, read_result
from adapters.verifa.sandbox.outcomes import DECLINE_CODES, REVIEW_SIGNALS
from tests.adapters.verifa_results_payloads import (
    APPROVED_WEBHOOK,
    DECLINED_WEBHOOK,
    REVIEW_WEBHOOK,
    wired,
)
from tests.support.cassettes import replayer
from tests.support.scripted_vendor import LiveConfig
from tests.support.signing.verifa import NOW, sign_webhook

CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "verifa"
recorder = replayer(CASSETTES)
make_config = LiveConfig(
    base_url="https://api.withverifa.com",
    api_key="test-api-key",
    webhook_secret="placeholder-signing-key",
    now=NOW,
)

# -- the tables, value by value --------------------------------------------------------------------
CHECK_KINDS = {
    "document_ocr": CheckKind.DOCUMENT,
    "nfc_chip_auth": CheckKind.DOCUMENT,
    "document_expiration": CheckKind.DOCUMENT,
    "id_document_filter": CheckKind.DOCUMENT,
    "face_match": CheckKind.FACE_MATCH,
    "age_check": CheckKind.AGE,
    "proof_of_address_check": CheckKind.PROOF_OF_ADDRESS,
    "watchlist_screening": CheckKind.AML,
    "aml_screening": CheckKind.AML,
    "identity_crossref": CheckKind.OTHER,
    "duplicate_detection": CheckKind.OTHER,
    "check_against_list": CheckKind.OTHER,
}
STATUS_OUTCOMES = {
    "passed": CheckOutcome.PASSED,
    "failed": CheckOutcome.FAILED,
    "error": CheckOutcome.NOT_RUN,
    "skipped": CheckOutcome.NOT_RUN,
    "pending": CheckOutcome.NOT_RUN,
    "requires_retry": CheckOutcome.NOT_RUN,
}
RISK_OUTCOMES = {
    **STATUS_OUTCOMES,
    "low": CheckOutcome.PASSED,
    "medium": CheckOutcome.PASSED,
    "high": CheckOutcome.REVIEW,
    "critical": CheckOutcome.FAILED,
}
REASONS = {
    "document_unreadable": "document_unreadable",
    "face_mismatch": "face_mismatch",
    "liveness_failed": "liveness_failed",
    "document_expired": "document_expired",
    "document_unsupported": "document_unsupported",
    "document_tampered": "document_not_authentic",
    "underage": "age_not_satisfied",
    "watchlist_match": "sanctions_hit",
    "pep_match": "pep_hit",
    "adverse_media_match": "adverse_media_hit",
    "duplicate_detected": "duplicate_identity",
    "blocklist_match": "blocklisted",
    "high_risk_score": "high_risk",
    "identity_mismatch": "expected_data_mismatch",
    "proof_of_address_failed": "address_not_verified",
    **{
        signal: "high_risk"
        for signal in (
            "completion_too_fast",
            "completion_too_slow",
            "high_hesitation",
            "high_distraction",
            "copy_paste_name",
            "mouse_bot_pattern",
            "keystroke_bot_pattern",
            "screen_sharing_detected",
            "autofill_then_edit",
            "bot_detected",
            "webdriver_evasion_detected",
            "devtools_open",
            "webgl_vm_detected",
            "incognito_detected",
            "vpn_detected",
            "integrity_checksum_mismatch",
        )
    },
    "virtual_camera": "liveness_failed",
    "camera_injection_detected": "liveness_failed",
}


def test_the_tables_hold_exactly_these_values() -> None:
    assert dict(CHECKS_TABLE.kinds) == CHECK_KINDS
    assert dict(RISK_TABLE.kinds) == {"risk_assessment": CheckKind.OTHER}
    assert dict(CHECKS_TABLE.outcomes) == STATUS_OUTCOMES
    assert dict(RISK_TABLE.outcomes) == RISK_OUTCOMES
    assert dict(CHECKS_TABLE.reasons) == dict(RISK_TABLE.reasons) == REASONS


def test_the_tables_speak_the_normalized_vocabulary() -> None:
    assert all(not t.vocabulary_problems() for t in VerifaAdapter.check_tables)
    assert VerifaAdapter.check_tables == (CHECKS_TABLE, RISK_TABLE)


@pytest.mark.parametrize(("name", "kind"), CHECK_KINDS.items())
def test_check_kind(name: str, kind: CheckKind) -> None:
    [check] = read_result({"check_results": {name: {"status": "passed"}}}).checks
    assert (check.kind, check.provider_name, check.recognized) == (kind, name, True)


@pytest.mark.parametrize(("status", "outcome"), STATUS_OUTCOMES.items())
def test_check_outcome(status: str, outcome: CheckOutcome) -> None:
    [check] = read_result({"check_results": {"document_ocr": {"status": status}}}).checks
    assert (check.outcome, check.recognized) == (outcome, True)


@pytest.mark.parametrize(("level", "outcome"), RISK_OUTCOMES.items())
def test_risk_outcome(level: str, outcome: CheckOutcome) -> None:
    entry = {"risk_level": level} if level in ("low", "medium", "high", "critical") else {}
    entry.setdefault("status", level)
    [check] = read_result({"check_results": {"risk_assessment": entry}}).checks
    assert (check.kind, check.outcome, check.recognized) == (CheckKind.OTHER, outcome, True)


@pytest.mark.parametrize(("code", "reason"), REASONS.items())
def test_reason(code: str, reason: str) -> None:
    check = CHECKS_TABLE.check("document_ocr", "failed", [code])
    assert (check.reasons, check.provider_reasons, check.recognized) == ((reason,), (code,), True)
    assert reason in REASON_CODES


# -- odd input ------------------------------------------------------------------------------------
def test_unknown_check_name_is_other_and_unrecognized() -> None:
    [check] = read_result({"check_results": {"palm_reading": {"status": "passed"}}}).checks
    assert (check.kind, check.outcome, check.recognized) == (CheckKind.OTHER, "PASSED", False)
    assert check.provider_name == "palm_reading"


def test_unknown_outcome_is_review() -> None:
    [check] = read_result({"check_results": {"face_match": {"status": "maybe"}}}).checks
    assert (check.outcome, check.recognized) == (CheckOutcome.REVIEW, False)


def test_unknown_reason_is_other_with_the_raw_code() -> None:
    [check] = read_result({"status": "rejected", "rejection_reason_code": "moon_phase"}).checks
    assert (check.outcome, check.reasons, check.provider_reasons) == (
        CheckOutcome.FAILED,
        ("other",),
        ("moon_phase",),
    )
    assert not check.recognized


@pytest.mark.parametrize(
    "payload",
    [
        None,
        "completed",
        [],
        42,
        {},
        {"check_results": "all good"},
        {"check_results": {"": {"status": "passed"}, "face_match": 3, "x": None}},
        {
            "check_results": {
                "risk_assessment": {"risk_level": 7, "signals": "vpn", "risk_score": 1e9}
            }
        },
        {"face_match_passed": "yes", "face_match_score": "0.9", "age_check_passed": None},
        {"extracted_data": "Jane"},
        {"extracted_data": {"first_name": 1, "date_of_birth": "15/06/1997", "address": "here"}},
        {"extracted_data": {"nationality": "Narnia", "document_expiration_date": 20310615}},
        {"rejection_reason": {"code": None}, "rejection_reason_code": ["x"], "status": 5},
        {"country_used": 12, "extracted_data": {"document_type": ["passport"]}},
    ],
)
def test_garbage_never_crashes(payload: Any) -> None:
    results = read_result(payload)
    assert results is None or isinstance(results, Results)


def test_malformed_values_are_none() -> None:
    results = read_result(
        {
            "face_match_passed": True,
            "face_match_score": 7,  # outside 0-1
            "extracted_data": {
                "first_name": "  ",
                "last_name": "Doe",
                "date_of_birth": "1997-13-40",
                "nationality": "XX",
                "document_type": "library_card",
            },
            "country_used": "ZZ",
        }
    )
    assert results.checks[0].score is None
    assert results.person == VerifiedPerson(last_name="Doe")
    assert results.documents == (VerifiedDocument(type="OTHER"),)


def test_free_text_rejection_reason_is_not_a_code() -> None:
    results = read_result({"status": "rejected", "rejection_reason": "The face did not match."})
    assert results.checks == ()


def test_an_approval_fails_no_check_for_a_stray_reason() -> None:
    results = read_result({"status": "approved", "rejection_reason": "none"})
    assert results.checks == ()


def test_check_results_win_over_the_flags_and_take_the_score() -> None:
    results = read_result(
        {
            "face_match_passed": False,
            "face_match_score": 0.2,
            "check_results": {"face_match": {"status": "failed"}},
        }
    )
    assert results.checks == (
        Check(CheckKind.FACE_MATCH, CheckOutcome.FAILED, "face_match", score=0.2),
    )


# -- the documented payloads through the adapter --------------------------------------------------
JANE = VerifiedPerson(first_name="Jane", last_name="Doe", date_of_birth=date(1997, 6, 15))


async def fetch(cassette: str, session_id: str) -> Any:
    adapter = VerifaAdapter(make_config())
    try:
        with recorder.use_cassette(cassette):
            return await adapter.fetch_session(session_id)
    finally:
        await adapter.aclose()


async def test_documented_approved_result() -> None:
    snap = await fetch("results_approved.yaml", "ses_results_approved")
    assert snap.status is SessionStatus.APPROVED
    assert snap.results == Results(
        checks=(
            Check(CheckKind.DOCUMENT, CheckOutcome.PASSED, "document_ocr"),
            Check(CheckKind.FACE_MATCH, CheckOutcome.PASSED, "face_match", score=0.94),
            Check(CheckKind.DOCUMENT, CheckOutcome.PASSED, "document_expiration"),
            Check(CheckKind.AML, CheckOutcome.PASSED, "watchlist_screening"),
            Check(CheckKind.OTHER, CheckOutcome.PASSED, "risk_assessment", score=12.0),
            Check(CheckKind.AGE, CheckOutcome.PASSED, "age_check"),
        ),
        person=VerifiedPerson(
            first_name="Jane",
            last_name="Doe",
            date_of_birth=date(1997, 6, 15),
            nationality="USA",
            address=Address(
                line1="123 Main St", city="San Francisco", postal_code="94105", region="CA"
            ),
        ),
        documents=(
            VerifiedDocument(
                type="DRIVERS_LICENSE",
                country="USA",
                number="D1234567",
                expires_on=date(2031, 6, 15),
            ),
        ),
    )


async def test_documented_declined_result() -> None:
    snap = await fetch("results_declined.yaml", "ses_results_declined")
    assert snap.status is SessionStatus.DECLINED
    assert snap.results.checks == (
        Check(
            CheckKind.DOCUMENT,
            CheckOutcome.FAILED,
            "document_ocr",
            reasons=("document_unreadable",),
            provider_reasons=("document_unreadable",),
        ),
        Check(CheckKind.FACE_MATCH, CheckOutcome.PASSED, "face_match", score=0.88),
        Check(CheckKind.AML, CheckOutcome.PASSED, "watchlist_screening"),
        Check(CheckKind.OTHER, CheckOutcome.PASSED, "risk_assessment", score=18.0),
        Check(CheckKind.AGE, CheckOutcome.PASSED, "age_check"),
    )
    assert snap.results.person == VerifiedPerson(
        first_name="Jane", last_name="Doe", date_of_birth=date(1997, 6, 15), nationality="GBR"
    )
    assert snap.results.documents == (
        VerifiedDocument(
            type="PASSPORT", country="GBR", number="X9876543", expires_on=date(2030, 1, 31)
        ),
    )


async def test_documented_review_result() -> None:
    snap = await fetch("results_review.yaml", "ses_results_review")
    assert snap.status is SessionStatus.IN_REVIEW
    by_name = {c.provider_name: c for c in snap.results.checks}
    risk = by_name["risk_assessment"]
    assert (risk.outcome, risk.reasons, risk.provider_reasons, risk.score) == (
        CheckOutcome.REVIEW,
        ("high_risk",),
        ("vpn_detected", "devtools_open"),
        64.0,
    )
    # A failed check of a result sent to review is a person's to judge.
    assert by_name["duplicate_detection"].outcome is CheckOutcome.REVIEW
    assert by_name["face_match"].outcome is CheckOutcome.PASSED
    assert snap.results.person == JANE


async def test_documented_sandbox_example_result() -> None:
    """The testing page's example (get_result_200.yaml), and its declined companion."""
    approved = await fetch("get_result_200.yaml", "session_test123")
    assert approved.results == Results(
        checks=(
            Check(CheckKind.FACE_MATCH, CheckOutcome.PASSED, "face_match", score=0.95),
            Check(CheckKind.AGE, CheckOutcome.PASSED, "age_check"),
        ),
        person=JANE,
        documents=(VerifiedDocument(type="DRIVERS_LICENSE"),),
    )
    declined = await fetch("get_result_200.yaml", "session_test456")
    face = declined.results.checks[0]
    assert (face.outcome, face.reasons, face.score) == (
        CheckOutcome.FAILED,
        ("face_mismatch",),
        0.12,
    )
    assert declined.results.documents == (VerifiedDocument(type="PASSPORT", country="USA"),)


def parse(body: dict[str, Any]) -> Any:
    raw, headers = sign_webhook(body)
    [event] = VerifaAdapter(make_config()).parse_webhook(raw, headers)
    return event


def test_documented_approved_webhook() -> None:
    snap = parse(APPROVED_WEBHOOK).snapshot
    assert snap.results == Results(
        checks=(
            Check(CheckKind.FACE_MATCH, CheckOutcome.PASSED, "face_match"),
            Check(CheckKind.AGE, CheckOutcome.PASSED, "age_check"),
        ),
        person=VerifiedPerson(first_name="Jane", last_name="Doe"),
    )


def test_documented_declined_webhook() -> None:
    snap = parse(DECLINED_WEBHOOK).snapshot
    assert snap.status is SessionStatus.DECLINED
    document = snap.results.checks[-1]
    assert (document.provider_name, document.outcome, document.reasons) == (
        "document_ocr",
        CheckOutcome.FAILED,
        ("document_unreadable",),
    )


def test_documented_review_webhook() -> None:
    snap = parse(REVIEW_WEBHOOK).snapshot
    assert snap.status is SessionStatus.IN_REVIEW
    assert snap.results.checks[0].outcome is CheckOutcome.REVIEW  # the face, for a person
    assert snap.results.person is None


@pytest.mark.parametrize("event", ["session.approved", "session.declined"])
def test_minimal_webhook_says_nothing_about_results(event: str) -> None:
    body = {"event": event, "session_id": "session_abc123", "status": "approved"}
    parsed = parse(body)
    assert parsed.snapshot.results is None and parsed.refetch is True


def test_a_state_webhook_says_nothing_about_results() -> None:
    body = {"event": "session.started", "session_id": "session_abc123", "status": "capturing"}
    assert parse(body).snapshot.results is None


# -- the sandbox ----------------------------------------------------------------------------------
EXPECTED = ExpectedPerson(first_name="Ada", last_name="Lovelace", date_of_birth=date(1990, 12, 10))


async def decided(action: str, person: ExpectedPerson | None = None, **extra: Any) -> Any:
    async with wired() as w:
        created = await w.adapter.create_session(CreateSessionRequest(expected_person=person))
        sid = created.provider_session_id
        for step in ("open", "submit"):
            assert (await w.simulate(sid, step)).status_code == 200
        response = await w.simulate(sid, action, **extra)
        assert response.status_code == 200, response.text
        if action == "review":
            request = w.last_webhook("session.requires-review")
            [event] = w.adapter.parse_webhook(request.content, dict(request.headers))
            return event.snapshot
        return await w.adapter.fetch_session(sid)


@pytest.mark.parametrize(
    ("person", "expected"),
    [
        (EXPECTED, ("Ada", "Lovelace", date(1990, 12, 10))),
        (None, ("Jane", "Doe", JANE.date_of_birth)),
    ],
)
async def test_sandbox_approve(person: ExpectedPerson | None, expected: tuple[Any, ...]) -> None:
    snap = await decided("approve", person)
    assert snap.status is SessionStatus.APPROVED
    passed = {c.kind for c in snap.results.checks if c.outcome is CheckOutcome.PASSED}
    assert VerifaAdapter.check_kinds <= passed
    read = snap.results.person
    assert (read.first_name, read.last_name, read.date_of_birth) == expected


@pytest.mark.parametrize("reason", sorted(DECLINE_CODES))
async def test_sandbox_decline_fails_the_check_asked_for(reason: str) -> None:
    snap = await decided("decline", reason=reason)
    assert snap.status is SessionStatus.DECLINED
    failed = [c for c in snap.results.checks if c.outcome is CheckOutcome.FAILED]
    assert any(reason in c.reasons for c in failed), failed
    assert all(c.recognized for c in snap.results.checks)


async def test_sandbox_decline_takes_verifa_codes_and_a_default() -> None:
    underage = await decided("decline", reason="underage")
    [age] = [c for c in underage.results.checks if c.kind is CheckKind.AGE]
    assert (age.outcome, age.reasons) == (CheckOutcome.FAILED, ("age_not_satisfied",))
    default = await decided("decline")
    assert "face_mismatch" in [r for c in default.results.checks for r in c.reasons]


@pytest.mark.parametrize("reason", sorted(REVIEW_SIGNALS))
async def test_sandbox_review_names_its_cause(reason: str) -> None:
    snap = await decided("review", reason=reason)
    assert snap.status is SessionStatus.IN_REVIEW
    review = [c for c in snap.results.checks if c.outcome is CheckOutcome.REVIEW]
    assert any(reason in c.reasons for c in review), review


async def test_sandbox_review_by_default_has_a_reason() -> None:
    snap = await decided("review")
    assert [c.reasons for c in snap.results.checks if c.outcome is CheckOutcome.REVIEW]
    assert all(c.reasons for c in snap.results.checks if c.outcome is CheckOutcome.REVIEW)


@pytest.mark.parametrize(("action", "reason"), [("decline", "phone_not_verified"), ("review", "x")])
async def test_sandbox_refuses_a_reason_it_cannot_produce(action: str, reason: str) -> None:
    async with wired() as w:
        sid = (await w.adapter.create_session(CreateSessionRequest())).provider_session_id
        for step in ("open", "submit"):
            await w.simulate(sid, step)
        response = await w.simulate(sid, action, reason=reason)
        assert response.status_code == 400
        body = response.json()
        assert (body["error"], body["status_code"]) == ("invalid_request", 400)
        assert reason in body["detail"]
