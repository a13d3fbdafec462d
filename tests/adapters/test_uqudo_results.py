"""uqudo's verified result read into normalized checks, person and documents
(adapters/uqudo/results.py; docs/results.md, uqudo; docs/vendors/uqudo.md, Results).

The table is tested value by value; the documented payloads (cassettes/uqudo/results_*.yaml)
go through the adapter's real paths (Info API replay, signed webhook); the checks are held to
the policy's verdicts (FAILED exactly where it declines); the sandbox's outcomes and reasons
are driven through the adapter.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import httpx
import pytest

from adapters.base import CreateSessionRequest, Outcome, SessionStatus
from adapters.results import CheckKind, CheckOutcome, Results
from adapters.uqudo.adapter import UqudoAdapter
from adapters.uqudo.policy import PolicySettings, evaluate
from adapters.uqudo.results import (
    CHECK_RULES,
    NOT_RUN,
    PASS,
    UQUDO_CHECKS,
    document_type,
    parse_date,
    read_results,
)
from adapters.uqudo.sandbox.model import DECLINE_FAULTS, DECLINE_REASONS, REVIEW_REASONS, Fault
from adapters.uqudo.sandbox.payloads import DOCUMENTED_EXAMPLE_DATA
from tests.adapters.uqudo_results_payloads import (
    RESULT_CASSETTES,
    SandboxRig,
    adapter_config,
    cassette_claims,
    recorder,
    webhook_body,
)
from tests.support.signing.uqudo import SID, TEST_KEY, TEST_KID, jwks

DEFAULT = PolicySettings()
TODAY = date(2026, 2, 1)


def by_name(results: Results | None) -> dict[str, Any]:
    assert results is not None
    return {c.provider_name: c for c in results.checks}


def outcomes(results: Results | None) -> dict[str, CheckOutcome]:
    return {name: check.outcome for name, check in by_name(results).items()}


# -- the table, value by value --------------------------------------------------------------------
def test_the_tables_are_in_the_normalized_vocabulary() -> None:
    assert all(not t.vocabulary_problems() for t in UqudoAdapter.check_tables)
    assert UqudoAdapter.check_kinds == {CheckKind.DOCUMENT, CheckKind.FACE_MATCH, CheckKind.AML}
    assert {row.name for row in CHECK_RULES} | {"result"} == set(UQUDO_CHECKS.kinds)


@pytest.mark.parametrize(("name", "kind"), sorted(UQUDO_CHECKS.kinds.items()))
def test_every_check_name(name: str, kind: CheckKind) -> None:
    check = UQUDO_CHECKS.check(name, PASS)
    assert (check.kind, check.provider_name, check.recognized) == (kind, name, True)


@pytest.mark.parametrize(("value", "outcome"), sorted(UQUDO_CHECKS.outcomes.items()))
def test_every_outcome(value: str, outcome: CheckOutcome) -> None:
    check = UQUDO_CHECKS.check("face", value)
    assert (check.outcome, check.recognized) == (outcome, True)


@pytest.mark.parametrize(("raw", "code"), sorted(UQUDO_CHECKS.reasons.items()))
def test_every_reason(raw: str, code: str) -> None:
    check = UQUDO_CHECKS.check("face", "DECLINE", [raw])
    assert (check.reasons, check.provider_reasons, check.recognized) == ((code,), (raw,), True)


def test_unknown_name_outcome_and_reason() -> None:
    unknown = UQUDO_CHECKS.check("lookup", PASS)
    assert (unknown.kind, unknown.recognized) == (CheckKind.OTHER, False)
    odd = UQUDO_CHECKS.check("face", "MAYBE")
    assert (odd.outcome, odd.recognized) == (CheckOutcome.REVIEW, False)
    new = UQUDO_CHECKS.check("face", "DECLINE", ["policy:new_rule"])
    assert new.reasons == ("other",) and new.provider_reasons == ("policy:new_rule",)
    assert not new.recognized


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"data": None},
        {"data": 5},
        {"data": {"documents": "x"}},
        {"data": {"documents": [1, None]}},
        {"data": {"documents": [{"face": {"matchLevel": "high"}}]}},
        {"data": {"documents": [{"scan": "x", "reading": {"data": []}}]}},
        {"data": {"documents": [{"scan": {"front": {"dateOfBirth": "991399", "nationality": 7}}}]}},
        {"data": {"documents": [{}], "verifications": [{"mrzChecksum": []}]}},
        {"data": {"documents": [{}], "backgroundCheck": "yes"}},
        {"iat": "soon", "data": {"documents": [{"documentType": 3}]}},
        {"iat": 10**20, "data": {"documents": [{"scan": {"front": {"dateOfBirth": "800101"}}}]}},
    ],
)
def test_garbage_never_crashes(claims: dict[str, Any]) -> None:
    results = read_results(claims, DEFAULT)
    assert isinstance(results, Results) and results.checks
    for check in results.checks:
        assert check.recognized


def test_an_unreadable_result_is_one_review_check_like_the_policy() -> None:
    claims = {"data": {"documents": [{"face": {"matchLevel": "high"}}]}}
    (check,) = read_results(claims, DEFAULT).checks
    assert (check.provider_name, check.outcome, check.reasons) == (
        "result",
        CheckOutcome.REVIEW,
        ("technical_error",),
    )
    assert check.provider_reasons == evaluate(claims, DEFAULT).reason_codes


# -- values ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "birth", "expected"),
    [
        ("800825", True, date(1980, 8, 25)),
        ("250101", True, date(2025, 1, 1)),
        ("270101", True, date(1927, 1, 1)),
        ("320315", False, date(2032, 3, 15)),
        ("850315", False, date(1985, 3, 15)),
        ("1980-08-25", True, date(1980, 8, 25)),
        ("25.08.1980", True, date(1980, 8, 25)),
        ("19800825", True, date(1980, 8, 25)),
        ("80<<25", True, None),
        ("800230", True, None),
        (None, True, None),
    ],
)
def test_dates(value: Any, birth: bool, expected: date | None) -> None:
    assert parse_date(value, TODAY, birth=birth) == expected


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("PASSPORT", "PASSPORT"),
        ("UAE_ID", "ID_CARD"),
        ("NGA_DL", "DRIVERS_LICENSE"),
        ("UAE_RP", "RESIDENCE_PERMIT"),
        ("GENERIC_VISA", "VISA"),
        ("SAU_PASSPORT", "PASSPORT"),
        ("UAE_VAC", "OTHER"),
        ("", None),
        (None, None),
    ],
)
def test_document_types(code: Any, expected: str | None) -> None:
    assert document_type(code) == expected


def test_the_chip_wins_over_the_scan_and_the_german_d_is_deu() -> None:
    claims = {
        "data": {
            "documents": [
                {
                    "documentType": "PASSPORT",
                    "scan": {
                        "front": {
                            "primaryId": "MUSTERMAN",
                            "secondaryId": "ERIKA",
                            "dateOfBirthFormatted": "1964-08-12",
                            "nationality": "D",
                            "issuer": "D",
                            "documentNumber": "C01X00T4",
                            "dateOfExpiryFormatted": "2031-10-31",
                        }
                    },
                    "reading": {
                        "data": {
                            "mrz": {
                                "primaryIdentifier": "MUSTERMANN",
                                "secondaryIdentifier": "ERIKA",
                            },
                            "personalDetails": {
                                "nameOfHolder": "ERIKA MUSTERMANN",
                                "permanentAddress": ["HEIDESTRASSE 17", "51147 KOELN"],
                            },
                            "documentDetails": {"dateOfIssue": "20211101"},
                        }
                    },
                }
            ]
        }
    }
    results = read_results(claims, DEFAULT)
    person = results.person
    assert person is not None
    assert (person.first_name, person.last_name, person.full_name) == (
        "ERIKA",
        "MUSTERMANN",
        "ERIKA MUSTERMANN",
    )
    assert person.date_of_birth == date(1964, 8, 12) and person.nationality == "DEU"
    assert person.address is not None
    assert (person.address.line1, person.address.line2) == ("HEIDESTRASSE 17", "51147 KOELN")
    (document,) = results.documents
    assert (document.type, document.country, document.number) == ("PASSPORT", "DEU", "C01X00T4")
    assert (document.issued_on, document.expires_on) == (date(2021, 11, 1), date(2031, 10, 31))


def test_the_documented_example_result() -> None:
    """The validation-and-parsing page's example: no verification object, so the fraud
    checks did not run; the face matched at 2 (our floor)."""
    results = read_results({"aud": "x", "jti": SID, "data": DOCUMENTED_EXAMPLE_DATA}, DEFAULT)
    assert outcomes(results) == {
        "scan": CheckOutcome.PASSED,
        "face": CheckOutcome.PASSED,
        "idPhotoTamperingDetection": CheckOutcome.NOT_RUN,
        "idPrintDetection": CheckOutcome.NOT_RUN,
        "idScreenDetection": CheckOutcome.NOT_RUN,
        "mrzChecksum": CheckOutcome.NOT_RUN,
        "reading.passiveAuthentication": CheckOutcome.NOT_RUN,
    }
    assert by_name(results)["face"].score == 2
    assert results.person is not None and results.person.last_name == "CASOLA"
    (document,) = results.documents
    assert (document.number, document.expires_on) == ("YAXXXXXX", date(2022, 3, 15))


# -- consistent with the policy ---------------------------------------------------------------
def variants() -> list[dict[str, Any]]:
    """The documented payloads, and each with one signal changed."""
    found = [cassette_claims(name) for name in RESULT_CASSETTES]
    base = cassette_claims("results_approved.yaml")

    def changed(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
        claims = json.loads(json.dumps(base))
        target = claims["data"]
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return claims

    found += [
        changed(("documents", 0, "face", "match"), False),
        changed(("documents", 0, "face", "matchLevel"), 1),
        changed(("documents", 0, "face", "matchLevel"), None),
        changed(("documents", 0, "face"), None),
        changed(("documents",), []),
        changed(("verifications", 0, "idPhotoTamperingDetection", "score"), 55),
        changed(("verifications", 0, "idPrintDetection", "score"), 90),
        changed(("verifications", 0, "idScreenDetection", "score"), 90),
        changed(("verifications", 0, "idScreenDetection", "enabled"), False),
        changed(("verifications", 0, "mrzChecksum", "valid"), False),
        changed(("verifications", 0, "mrzChecksum"), None),
        changed(
            ("verifications", 0, "reading", "passiveAuthentication"),
            {"enabled": True, "documentDataSignatureValid": False},
        ),
        changed(("verifications",), None),
        changed(("backgroundCheck",), {"match": True, "content": None}),
    ]
    return found


SETTINGS = [
    DEFAULT,
    PolicySettings(background_hit="decline"),
    PolicySettings(require_mrz_checksum=False, require_verifications=True),
    PolicySettings(min_face_match_level=0),
    PolicySettings(min_face_match_level=5),
]


@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: repr(s)[14:60])
@pytest.mark.parametrize("claims", variants())
def test_checks_fail_exactly_where_the_policy_declines(
    claims: dict[str, Any], settings: PolicySettings
) -> None:
    verdict = evaluate(claims, settings)
    checks = read_results(claims, settings).checks
    failed = [r for c in checks if c.outcome is CheckOutcome.FAILED for r in c.provider_reasons]
    review = [r for c in checks if c.outcome is CheckOutcome.REVIEW for r in c.provider_reasons]
    if verdict.outcome is Outcome.DECLINED:
        assert sorted(failed) == sorted(verdict.reason_codes)
    elif verdict.outcome is Outcome.REVIEW:
        assert not failed and sorted(review) == sorted(verdict.reason_codes)
    else:
        assert not failed and not review
        assert all(c.outcome in (CheckOutcome.PASSED, CheckOutcome.NOT_RUN) for c in checks)
    for check in checks:
        assert check.recognized and (check.reasons or check.outcome is not CheckOutcome.FAILED)


# -- the documented payloads through the adapter -------------------------------------------------
EXPECTED = {
    "results_approved.yaml": (SessionStatus.APPROVED, {}, {}),
    "results_declined.yaml": (
        SessionStatus.DECLINED,
        {
            "idPhotoTamperingDetection": ("document_not_authentic",),
            "mrzChecksum": ("document_data_inconsistent",),
        },
        {},
    ),
    "results_review.yaml": (SessionStatus.IN_REVIEW, {}, {"backgroundCheck": ("aml_hit",)}),
}


def assert_documented_person(results: Results | None) -> None:
    assert results is not None and results.person is not None
    person = results.person
    assert (person.first_name, person.last_name, person.full_name) == ("MARIO", "CASOLA", None)
    assert (person.date_of_birth, person.nationality, person.address) == (
        date(1980, 8, 25),
        "ITA",
        None,
    )
    (document,) = results.documents
    assert (document.type, document.country, document.number) == ("PASSPORT", "ITA", "YA12345")
    assert (document.issued_on, document.expires_on) == (None, date(2032, 3, 15))


@pytest.mark.parametrize("name", RESULT_CASSETTES)
async def test_info_cassettes_read_into_results(name: str) -> None:
    status, failed, review = EXPECTED[name]
    adapter = UqudoAdapter(adapter_config())
    with recorder.use_cassette(name) as cassette:
        snap = await adapter.fetch_session(SID)
    assert cassette.all_played
    await adapter.aclose()
    assert snap.status is status
    checks = by_name(snap.results)
    assert set(checks) == {row.name for row in CHECK_RULES} - {"verifications"}
    for check_name, check in checks.items():
        if check_name in failed:
            assert (check.outcome, check.reasons) == (CheckOutcome.FAILED, failed[check_name])
        elif check_name in review:
            assert (check.outcome, check.reasons) == (CheckOutcome.REVIEW, review[check_name])
        else:
            assert check.outcome is CheckOutcome.PASSED, check
    assert checks["face"].score == 4
    assert checks["idPhotoTamperingDetection"].score == (86 if failed else 5)
    assert_documented_person(snap.results)
    assert snap.decision is not None
    if failed:
        failed_codes = [
            r
            for c in checks.values()
            for r in c.provider_reasons
            if c.outcome is CheckOutcome.FAILED
        ]
        assert sorted(snap.decision.reason_codes) == sorted(failed_codes)


@pytest.fixture
async def ready() -> AsyncIterator[UqudoAdapter]:
    """An adapter whose JWKS holds the test key (webhooks verify synchronously)."""
    keys = httpx.Response(200, json=jwks((TEST_KEY, TEST_KID)))
    adapter = UqudoAdapter(adapter_config(transport=httpx.MockTransport(lambda request: keys)))
    await adapter.warm_up()
    yield adapter
    await adapter.aclose()


@pytest.mark.parametrize("name", RESULT_CASSETTES)
def test_full_webhooks_are_read_like_the_info_api(ready: UqudoAdapter, name: str) -> None:
    status, failed, review = EXPECTED[name]
    (event,) = ready.parse_webhook(*webhook_body(cassette_claims(name), verifications=True))
    assert event.snapshot.status is status
    found = outcomes(event.snapshot.results)
    assert {n for n, o in found.items() if o is CheckOutcome.FAILED} == set(failed)
    assert {n for n, o in found.items() if o is CheckOutcome.REVIEW} == set(review)
    assert_documented_person(event.snapshot.results)


@pytest.mark.parametrize("name", RESULT_CASSETTES)
def test_webhooks_without_scores_carry_what_they_have(ready: UqudoAdapter, name: str) -> None:
    """As seen on a real tenant, the webhook's JWS lacks the verification object: the
    session is PROCESSING (the Info API is read next), its fraud checks NOT_RUN for now."""
    (event,) = ready.parse_webhook(*webhook_body(cassette_claims(name), verifications=False))
    assert event.snapshot.status is SessionStatus.PROCESSING and event.refetch
    found = outcomes(event.snapshot.results)
    assert found["scan"] is CheckOutcome.PASSED and found["face"] is CheckOutcome.PASSED
    for detection in ("idPhotoTamperingDetection", "idPrintDetection", "idScreenDetection"):
        assert found[detection] is CheckOutcome.NOT_RUN
    assert found["backgroundCheck"] is (
        CheckOutcome.REVIEW if name == "results_review.yaml" else CheckOutcome.PASSED
    )
    assert_documented_person(event.snapshot.results)


async def test_reads_without_a_result_carry_no_results() -> None:
    """The Info API has no result yet (cassettes/uqudo/info_404.yaml): nothing to say."""
    adapter = UqudoAdapter(adapter_config())
    with recorder.use_cassette("info_404.yaml", allow_playback_repeats=True):
        snap = await adapter.fetch_session(SID)
    await adapter.aclose()
    assert snap.provider_status == "PENDING_RESULT" and snap.results is None


# -- the sandbox, through the adapter ----------------------------------------------------------
@pytest.fixture
async def rig() -> AsyncIterator[SandboxRig]:
    made = SandboxRig.build()
    yield made
    await made.aclose()


async def finished(rig: SandboxRig, action: str, **extra: Any) -> Any:
    created = await rig.adapter.create_session(
        CreateSessionRequest(provider_options={"reading": True, "background_check": True})
    )
    sid = created.provider_session_id
    response = await rig.finish(sid, action, **extra)
    assert response.status_code == 200, response.text
    return await rig.adapter.fetch_session(sid)


async def test_sandbox_approve(rig: SandboxRig) -> None:
    snap = await finished(rig, "approve")
    assert snap.status is SessionStatus.APPROVED
    checks = snap.results.checks
    for kind in UqudoAdapter.check_kinds:
        assert any(c.kind is kind and c.outcome is CheckOutcome.PASSED for c in checks), kind
    person = snap.results.person
    assert (person.first_name, person.last_name, person.date_of_birth) == (
        "JANE",
        "DOE",
        date(1990, 1, 15),
    )


@pytest.mark.parametrize("reason", sorted(DECLINE_REASONS))
async def test_sandbox_decline_fails_the_check_asked_for(rig: SandboxRig, reason: str) -> None:
    snap = await finished(rig, "decline", reason=reason)
    assert snap.status is SessionStatus.DECLINED
    failed = [c for c in snap.results.checks if c.outcome is CheckOutcome.FAILED]
    assert failed and all(c.reasons == (reason,) for c in failed), failed


@pytest.mark.parametrize("fault", sorted(DECLINE_FAULTS))
async def test_sandbox_decline_takes_uqudo_field_names(rig: SandboxRig, fault: Fault) -> None:
    snap = await finished(rig, "decline", reason=fault.value)
    assert snap.status is SessionStatus.DECLINED
    assert any(c.outcome is CheckOutcome.FAILED and c.reasons for c in snap.results.checks)


async def test_sandbox_decline_without_a_reason_still_declines(rig: SandboxRig) -> None:
    snap = await finished(rig, "decline")
    assert snap.status is SessionStatus.DECLINED
    failed = {c.provider_name for c in snap.results.checks if c.outcome is CheckOutcome.FAILED}
    assert failed == {"face", "idPhotoTamperingDetection", "mrzChecksum"}


@pytest.mark.parametrize("reason", sorted(REVIEW_REASONS))
async def test_sandbox_review_has_a_review_check(rig: SandboxRig, reason: str) -> None:
    snap = await finished(rig, "review", reason=reason)
    assert snap.status is SessionStatus.IN_REVIEW
    review = [c for c in snap.results.checks if c.outcome is CheckOutcome.REVIEW]
    assert review and all(c.reasons == (reason,) for c in review), review
    assert not [c for c in snap.results.checks if c.outcome is CheckOutcome.FAILED]


async def test_sandbox_review_without_a_reason(rig: SandboxRig) -> None:
    snap = await finished(rig, "review")
    review = [c for c in snap.results.checks if c.outcome is CheckOutcome.REVIEW]
    assert [c.reasons for c in review] == [("aml_hit",)]


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("decline", "pep_hit"),
        ("decline", "aml_hit"),
        ("decline", "backgroundCheck"),
        ("review", "face_mismatch"),
        ("decline", 7),
        ("decline", ""),
    ],
)
async def test_sandbox_refuses_reasons_uqudo_cannot_produce(
    rig: SandboxRig, action: str, reason: Any
) -> None:
    created = await rig.adapter.create_session(CreateSessionRequest())
    response = await rig.finish(created.provider_session_id, action, reason=reason)
    assert response.status_code == 400
    body = response.json()
    assert body["status"] == 400 and body["error"] == "Bad Request"
    assert "reason" in body["message"] and set(body) >= {"timestamp", "path"}


async def test_sandbox_refuses_a_reason_whose_service_is_off(rig: SandboxRig) -> None:
    created = await rig.adapter.create_session(CreateSessionRequest())  # no background check
    response = await rig.finish(created.provider_session_id, "review", reason="aml_hit")
    assert response.status_code == 409
    assert "backgroundCheck" in response.json()["message"]


async def test_sandbox_webhook_carries_the_results(rig: SandboxRig) -> None:
    await rig.adapter.warm_up()
    created = await rig.adapter.create_session(CreateSessionRequest())
    response = await rig.finish(created.provider_session_id, "decline", reason="face_mismatch")
    assert response.status_code == 200
    await rig.sink.wait_for(1)
    request = rig.sink.requests[0]
    (event,) = rig.adapter.parse_webhook(request.content, dict(request.headers))
    face = by_name(event.snapshot.results)["face"]
    assert (face.outcome, face.reasons) == (CheckOutcome.FAILED, ("face_mismatch",))
    assert event.snapshot.results.person.last_name == "DOE"


def test_not_run_is_declared() -> None:
    assert UQUDO_CHECKS.outcomes[NOT_RUN] is CheckOutcome.NOT_RUN
