"""Didit's results (docs/results.md, Didit; docs/vendors/didit.md, Results): the declared
table value by value, odd input, the documented decisions through the adapter's real read
and webhook paths, and the sandbox's approve / decline / review payloads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from adapters.didit.adapter import DiditAdapter
from adapters.didit.results import (
    DIDIT_CHECKS,
    DOCUMENT_TYPES,
    KINDS,
    OUTCOMES,
    REASONS,
    read_results,
)
from adapters.didit.sandbox import SANDBOX_WORKFLOW_ID, DiditSandbox
from adapters.didit.sandbox.reasons import DECLINE_FINDINGS, REVIEW_FINDINGS
from adapters.results import REASON_CODES, CheckKind, CheckOutcome, Results
from tests.adapters.didit_results_payloads import (
    CASSETTES,
    DOCUMENTED,
    EXPECTED,
    documented_decision,
    signed_status_webhook,
)
from tests.support.cassettes import replayer
from tests.support.sandbox_harness import SandboxHarness, harness_fixture
from tests.support.scripted_vendor import LiveConfig
from tests.support.signing.didit import documented_envelope, sign_webhook

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
TS = int(NOW.timestamp())
recorder = replayer(CASSETTES)
make_config = LiveConfig(
    base_url="https://verification.didit.me",
    api_key="test-api-key",
    webhook_secret="test-webhook-secret",
    now=NOW,
)


# -- the table, value by value --------------------------------------------------------------
def test_the_table_stays_in_the_normalized_vocabulary() -> None:
    assert all(not t.vocabulary_problems() for t in DiditAdapter.check_tables)
    assert DiditAdapter.check_tables == (DIDIT_CHECKS,)
    assert DiditAdapter.check_kinds <= set(KINDS.values())


@pytest.mark.parametrize(("name", "kind"), sorted(KINDS.items()))
def test_every_feature_name_has_its_kind(name: str, kind: CheckKind) -> None:
    check = DIDIT_CHECKS.check(name, "Approved")
    assert (check.kind, check.provider_name, check.recognized) == (kind, name, True)


@pytest.mark.parametrize(("status", "outcome"), sorted(OUTCOMES.items()))
def test_every_feature_status_has_its_outcome(status: str, outcome: CheckOutcome) -> None:
    check = DIDIT_CHECKS.check("LIVENESS", status)
    assert (check.outcome, check.recognized) == (outcome, True)


@pytest.mark.parametrize(("risk", "code"), sorted(REASONS.items()))
def test_every_risk_code_has_its_reason(risk: str, code: str) -> None:
    assert code in REASON_CODES
    check = DIDIT_CHECKS.check("ID_VERIFICATION", "Declined", [risk])
    assert (check.reasons, check.provider_reasons, check.recognized) == ((code,), (risk,), True)


@pytest.mark.parametrize(("value", "kind"), sorted(DOCUMENT_TYPES.items()))
def test_every_document_type_is_normalized(value: str, kind: Any) -> None:
    decision = {"id_verifications": [{"status": "Approved", "document_type": value}]}
    results = read_results(decision)
    assert results is not None
    assert results.documents[0].type == kind.value


# -- odd input ----------------------------------------------------------------------------------
def test_an_unknown_feature_block_is_other_and_unrecognized() -> None:
    decision = {"age_estimations": [{"node_id": "feature_age_1", "status": "Approved"}]}
    results = read_results(decision)
    assert results is not None
    (check,) = results.checks
    assert (check.kind, check.provider_name, check.recognized) == (
        CheckKind.OTHER,
        "age_estimations",
        False,
    )


def test_an_unknown_status_is_review_and_unrecognized() -> None:
    check = DIDIT_CHECKS.check("FACE_MATCH", "Pending Magic")
    assert (check.outcome, check.recognized) == (CheckOutcome.REVIEW, False)
    assert DIDIT_CHECKS.check("FACE_MATCH", None).outcome is CheckOutcome.REVIEW


def test_an_unknown_risk_is_other_with_the_raw_code_kept() -> None:
    decision = {
        "liveness_checks": [
            {
                "status": "Declined",
                "warnings": [{"risk": "BRAND_NEW_RISK", "log_type": "error"}],
            }
        ]
    }
    results = read_results(decision)
    assert results is not None
    (check,) = results.checks
    assert (check.reasons, check.provider_reasons) == (("other",), ("BRAND_NEW_RISK",))
    assert check.recognized is False


def test_information_warnings_explain_nothing() -> None:
    warning = {"risk": "LOW_FACE_MATCH_SIMILARITY", "log_type": "information"}
    results = read_results({"face_matches": [{"status": "Approved", "warnings": [warning]}]})
    assert results is not None
    assert results.checks[0].reasons == ()


@pytest.mark.parametrize(
    "decision",
    [
        None,
        "Approved",
        [],
        {},
        {"id_verifications": None, "liveness_checks": None},
        {"id_verifications": "nope", "face_matches": [1, None, "x"]},
        {"reviews": [{"user": "API Client"}], "features": ["LIVENESS"]},
    ],
)
def test_payloads_without_results_say_nothing(decision: Any) -> None:
    assert read_results(decision) is None


def test_garbage_values_become_none_and_never_raise() -> None:
    decision = {
        "id_verifications": [
            {
                "status": 7,
                "first_name": ["Jane"],
                "last_name": "  ",
                "full_name": "Jane Doe",
                "date_of_birth": "1990-02-31",
                "document_type": 12,
                "expiration_date": "soon",
                "date_of_issue": None,
                "parsed_address": "Main St",
                "warnings": [{"risk": None}, "x", {"risk": 5, "log_type": "error"}],
            }
        ],
        "liveness_checks": [{"status": "Approved", "score": True}],
        "face_matches": [{"status": "Approved", "score": "97"}],
    }
    results = read_results(decision)
    assert results is not None
    document, liveness, face = results.checks
    assert (document.outcome, document.provider_reasons) == (CheckOutcome.REVIEW, ())
    assert liveness.score is None and face.score is None
    assert results.person is not None
    assert results.person.full_name == "Jane Doe"
    assert (results.person.first_name, results.person.last_name) == (None, None)
    assert results.person.date_of_birth is None and results.person.address is None
    assert results.documents == ()


# -- the documented payloads through the adapter --------------------------------------------------
@pytest.fixture
async def didit() -> AsyncIterator[DiditAdapter]:
    adapter = DiditAdapter(make_config())
    yield adapter
    await adapter.aclose()


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
async def test_a_documented_read_gives_its_results(didit: DiditAdapter, name: str) -> None:
    session_id, _ = DOCUMENTED[name]
    with recorder.use_cassette(name) as cassette:
        snap = await didit.fetch_session(session_id)
    assert cassette.play_count == 1
    assert snap.results == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
async def test_a_documented_webhook_gives_its_results(didit: DiditAdapter, name: str) -> None:
    (event,) = didit.parse_webhook(*signed_status_webhook(name, TS))
    assert event.snapshot is not None
    assert event.snapshot.results == EXPECTED[name]


async def test_a_webhook_without_a_decision_says_nothing(didit: DiditAdapter) -> None:
    body = documented_envelope(status="In Progress", timestamp=TS, created_at=TS)
    (event,) = didit.parse_webhook(*sign_webhook(body))
    assert event.snapshot is not None and event.snapshot.results is None


def test_the_documented_decline_fails_a_check_the_decision_names() -> None:
    decision = documented_decision("results_declined.yaml")
    results = read_results(decision)
    assert results is not None
    failed = [c for c in results.checks if c.outcome is CheckOutcome.FAILED]
    assert [c.provider_reasons for c in failed] == [("DOCUMENT_EXPIRED",)]


# -- the sandbox ----------------------------------------------------------------------------------
class Harness(SandboxHarness[DiditSandbox]):
    def adapter(self) -> DiditAdapter:
        """The adapter pointed at this emulator, verifying its webhooks."""
        return DiditAdapter(
            make_config(
                base_url="http://sandbox",
                api_key=self.sandbox.api_key,
                webhook_secret=self.sandbox.webhook_secret,
                transport=httpx.ASGITransport(app=self.sandbox.app),
                clock=self.clock,
            )
        )

    async def session(self, **expected: Any) -> str:
        body: dict[str, Any] = {"workflow_id": SANDBOX_WORKFLOW_ID}
        if expected:
            body["expected_details"] = expected
        response = await self.client.post("/v3/session/", json=body, headers=self.headers)
        assert response.status_code == 201, response.text
        return str(response.json()["session_id"])

    async def outcome(self, action: str, reason: Any = None, **expected: Any) -> Results:
        """Drive a session to `action` and read its results both ways (they must agree)."""
        sid = await self.session(**expected)
        await self.drive(sid, "open")
        extra = {} if reason is None else {"reason": reason}
        response = await self.simulate(sid, action, **extra)
        assert response.status_code == 200, response.text
        adapter = self.adapter()
        try:
            read = await adapter.fetch_session(sid)
            await self.sink.wait_for(2)
            last = self.sink.requests[-1]
            (event,) = adapter.parse_webhook(last.content, dict(last.headers))
        finally:
            await adapter.aclose()
        assert event.snapshot is not None
        assert read.results is not None and read.results == event.snapshot.results
        return read.results


make = harness_fixture(
    Harness,
    DiditSandbox,
    start=NOW,
    public_base_url="http://127.0.0.1:8000/sandbox/didit",
    webhook_url="http://gateway.test/webhooks/didit",
    headers=lambda sandbox: {"x-api-key": sandbox.api_key},
)


@pytest.fixture
def sandbox(make: Any) -> Harness:
    return make()


def _with(results: Results, outcome: CheckOutcome) -> list[Any]:
    return [c for c in results.checks if c.outcome is outcome]


async def test_sandbox_approve_passes_every_kind_and_reads_the_person(sandbox: Harness) -> None:
    results = await sandbox.outcome("approve")
    passed = {c.kind for c in _with(results, CheckOutcome.PASSED)}
    assert DiditAdapter.check_kinds <= passed
    assert not _with(results, CheckOutcome.FAILED) and not _with(results, CheckOutcome.REVIEW)
    person = results.person
    assert person is not None
    assert (person.first_name, person.last_name) == ("Alex", "Sandbox")
    assert person.date_of_birth is not None
    assert results.documents and results.documents[0].type == "ID_CARD"


async def test_sandbox_uses_the_expected_person(sandbox: Harness) -> None:
    results = await sandbox.outcome(
        "approve", first_name="Jane", last_name="Doe", date_of_birth="1990-05-17"
    )
    assert results.person is not None
    assert results.person.first_name == "Jane" and results.person.last_name == "Doe"
    assert results.person.date_of_birth is not None
    assert results.person.date_of_birth.isoformat() == "1990-05-17"


async def test_sandbox_decline_without_reason_fails_the_face_match(sandbox: Harness) -> None:
    results = await sandbox.outcome("decline")
    (failed,) = _with(results, CheckOutcome.FAILED)
    assert (failed.kind, failed.reasons) == (CheckKind.FACE_MATCH, ("face_mismatch",))


@pytest.mark.parametrize("reason", sorted(DECLINE_FINDINGS))
async def test_sandbox_decline_fails_with_the_reason_asked(sandbox: Harness, reason: str) -> None:
    results = await sandbox.outcome("decline", reason)
    (failed,) = _with(results, CheckOutcome.FAILED)
    assert failed.reasons == (reason,)
    assert failed.recognized


@pytest.mark.parametrize("finding", list(DECLINE_FINDINGS.values()), ids=lambda f: f.risk)
async def test_sandbox_decline_takes_didits_raw_risk_code(sandbox: Harness, finding: Any) -> None:
    results = await sandbox.outcome("decline", finding.risk)
    (failed,) = _with(results, CheckOutcome.FAILED)
    assert failed.provider_reasons == (finding.risk,)


@pytest.mark.parametrize("reason", sorted(REVIEW_FINDINGS))
async def test_sandbox_review_shows_the_cause_asked(sandbox: Harness, reason: str) -> None:
    results = await sandbox.outcome("review", reason)
    (review,) = _with(results, CheckOutcome.REVIEW)
    assert review.reasons == (reason,)
    assert not _with(results, CheckOutcome.FAILED)


async def test_sandbox_review_without_reason_has_a_reason(sandbox: Harness) -> None:
    results = await sandbox.outcome("review")
    (review,) = _with(results, CheckOutcome.REVIEW)
    assert review.reasons == ("face_mismatch",)


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("decline", "phone_not_verified"),  # no phone step in the sandbox workflow
        ("decline", "made_up"),
        ("decline", 42),
        ("review", "document_expired"),  # an auto-decline risk never sends to review
        ("review", "NO_FACE_DETECTED"),
    ],
)
async def test_sandbox_refuses_a_reason_it_cannot_produce(
    sandbox: Harness, action: str, reason: Any
) -> None:
    sid = await sandbox.session()
    await sandbox.drive(sid, "open")
    response = await sandbox.simulate(sid, action, reason=reason)
    assert response.status_code == 400
    assert isinstance(response.json()["detail"], str)
    decision = await sandbox.client.get(f"/v3/session/{sid}/decision/", headers=sandbox.headers)
    assert decision.json()["status"] == "In Progress"  # nothing changed


async def test_a_sandbox_expired_document_is_dated_in_the_past(sandbox: Harness) -> None:
    results = await sandbox.outcome("decline", "document_expired")
    (document,) = results.documents
    assert document.expires_on is not None and document.expires_on < NOW.date()


# -- the docs say the same ---------------------------------------------------------------
def _docs_section() -> str:
    text = (CASSETTES.parents[1] / "docs" / "results.md").read_text(encoding="utf-8")
    return text.split("### Didit", 1)[1].split("\n### ", 1)[0]


def test_docs_list_every_risk_and_every_sandbox_reason() -> None:
    section = _docs_section()
    assert all(f"`{risk}`" in section for risk in REASONS)
    for findings in (DECLINE_FINDINGS, REVIEW_FINDINGS):
        assert all(f"`{reason}`" in section for reason in findings)
