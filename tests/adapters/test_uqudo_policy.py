"""The uqudo decision policy (adapters/uqudo/policy.py): every rule, both sides of every
threshold, the settings, and the Decision it produces."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.base import DecidedBy, Outcome, SessionStatus
from adapters.uqudo import policy
from adapters.uqudo.policy import PolicySettings, evaluate
from tests.support.signing.uqudo import documented_claims

Change = Callable[[dict[str, Any]], None]
DEFAULT = PolicySettings()


def verification(claims: dict[str, Any]) -> dict[str, Any]:
    return claims["data"]["verifications"][0]


def document(claims: dict[str, Any]) -> dict[str, Any]:
    return claims["data"]["documents"][0]


def setter(path: str, value: Any) -> Change:
    """`verification.idPrintDetection.score` style paths into the documented claims."""

    def change(claims: dict[str, Any]) -> None:
        root, *keys = path.split(".")
        target = {"verification": verification, "document": document}[root](claims)
        for key in keys[:-1]:
            target = target.setdefault(key, {})
        if value is DELETE:
            target.pop(keys[-1], None)
        else:
            target[keys[-1]] = value

    return change


DELETE = object()


def data_set(key: str, value: Any) -> Change:
    def change(claims: dict[str, Any]) -> None:
        if value is DELETE:
            claims["data"].pop(key, None)
        else:
            claims["data"][key] = value

    return change


def both(*changes: Change) -> Change:
    def change(claims: dict[str, Any]) -> None:
        for each in changes:
            each(claims)

    return change


def judge(change: Change | None = None, settings: PolicySettings = DEFAULT) -> policy.PolicyResult:
    claims = documented_claims()
    if change is not None:
        change(claims)
    return evaluate(claims, settings)


STRICT_MRZ_OFF = PolicySettings(require_mrz_checksum=False)
DECLINE_HITS = PolicySettings(background_hit="decline")
NO_FACE_CHECK = PolicySettings(min_face_match_level=0)
REQUIRE_VERIFICATIONS = PolicySettings(require_verifications=True)

#: (id, change to the documented result, settings, expected status, deciding rules)
TABLE: list[tuple[str, Change | None, PolicySettings, SessionStatus, tuple[str, ...]]] = [
    ("documented result", None, DEFAULT, SessionStatus.APPROVED, ("passed",)),
    # documents / verifications present at all
    (
        "no document",
        both(data_set("documents", []), setter("verification.biometric", DELETE)),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("no_document", "face_not_checked"),
    ),
    (
        # uqudo documents results without one (older SDKs, some documents): no review
        "verifications missing",
        data_set("verifications", DELETE),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "verifications missing, required",
        data_set("verifications", DELETE),
        REQUIRE_VERIFICATIONS,
        SessionStatus.IN_REVIEW,
        ("verifications_missing",),
    ),
    (
        "verifications empty, required",
        data_set("verifications", []),
        REQUIRE_VERIFICATIONS,
        SessionStatus.IN_REVIEW,
        ("verifications_missing",),
    ),
    # face
    (
        "face mismatch",
        setter("document.face.match", False),
        DEFAULT,
        SessionStatus.DECLINED,
        ("face_mismatch",),
    ),
    (
        "face level below the floor",
        setter("document.face.matchLevel", 1),
        DEFAULT,
        SessionStatus.DECLINED,
        ("face_match_level",),
    ),
    (
        "face level at the floor",
        both(setter("document.face.matchLevel", 2), setter("verification.biometric.matchLevel", 2)),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "biometric level below the floor",
        setter("verification.biometric.matchLevel", 1),
        DEFAULT,
        SessionStatus.DECLINED,
        ("face_match_level",),
    ),
    (
        "disabled biometric is not evidence",
        both(
            setter("verification.biometric.matchLevel", 1),
            setter("verification.biometric.enabled", False),
        ),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "custom floor",
        setter("document.face.matchLevel", 4),
        PolicySettings(min_face_match_level=5),
        SessionStatus.DECLINED,
        ("face_match_level",),
    ),
    (
        "face not checked",
        both(setter("document.face", DELETE), setter("verification.biometric", DELETE)),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("face_not_checked",),
    ),
    (
        "face present without a level",
        both(setter("document.face.matchLevel", DELETE), setter("verification.biometric", DELETE)),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("face_match_level_missing",),
    ),
    (
        "face check off",
        both(setter("document.face", DELETE), setter("verification.biometric", DELETE)),
        NO_FACE_CHECK,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "face check off ignores a mismatch",
        setter("document.face.match", False),
        NO_FACE_CHECK,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    # tampering
    (
        "tampering above max",
        setter("verification.idPhotoTamperingDetection.score", 71),
        DEFAULT,
        SessionStatus.DECLINED,
        ("tampering_detected",),
    ),
    (
        "tampering at max",
        setter("verification.idPhotoTamperingDetection.score", 70),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("tampering_suspected",),
    ),
    (
        "tampering above the review line",
        setter("verification.idPhotoTamperingDetection.score", 41),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("tampering_suspected",),
    ),
    (
        "tampering at the review line",
        setter("verification.idPhotoTamperingDetection.score", 40),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "tampering detection disabled",
        both(
            setter("verification.idPhotoTamperingDetection.score", 99),
            setter("verification.idPhotoTamperingDetection.enabled", False),
        ),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "custom tampering max",
        setter("verification.idPhotoTamperingDetection.score", 35),
        PolicySettings(max_tampering_score=30, review_tampering_score=20),
        SessionStatus.DECLINED,
        ("tampering_detected",),
    ),
    # print / screen
    (
        "print above max",
        setter("verification.idPrintDetection.score", 51),
        DEFAULT,
        SessionStatus.DECLINED,
        ("print_detected",),
    ),
    (
        "print at max",
        setter("verification.idPrintDetection.score", 50),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "print score absent",
        setter("verification.idPrintDetection", DELETE),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "screen above max",
        setter("verification.idScreenDetection.score", 51),
        DEFAULT,
        SessionStatus.DECLINED,
        ("screen_detected",),
    ),
    (
        "screen at max",
        setter("verification.idScreenDetection.score", 50),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "custom screen max",
        setter("verification.idScreenDetection.score", 11),
        PolicySettings(max_screen_score=10),
        SessionStatus.DECLINED,
        ("screen_detected",),
    ),
    # MRZ checksum
    (
        "mrz invalid, required",
        setter("verification.mrzChecksum.valid", False),
        DEFAULT,
        SessionStatus.DECLINED,
        ("mrz_checksum_invalid",),
    ),
    (
        "mrz invalid, not required",
        setter("verification.mrzChecksum.valid", False),
        STRICT_MRZ_OFF,
        SessionStatus.IN_REVIEW,
        ("mrz_checksum_invalid",),
    ),
    (
        "mrz missing, required",
        setter("verification.mrzChecksum", DELETE),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("mrz_checksum_missing",),
    ),
    (
        "mrz check disabled, required",
        setter("verification.mrzChecksum.enabled", False),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("mrz_checksum_missing",),
    ),
    (
        "mrz missing, not required",
        setter("verification.mrzChecksum", DELETE),
        STRICT_MRZ_OFF,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    # NFC chip
    (
        "chip signature invalid",
        setter("verification.reading.passiveAuthentication.documentDataSignatureValid", False),
        DEFAULT,
        SessionStatus.DECLINED,
        ("chip_signature_invalid",),
    ),
    (
        "chip not read",
        both(
            setter("verification.reading.passiveAuthentication.documentDataSignatureValid", False),
            setter("verification.reading.enabled", False),
        ),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    # background check
    (
        "background hit, review",
        data_set("backgroundCheck", {"match": True}),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("background_check_hit",),
    ),
    (
        "background hit, decline",
        data_set("backgroundCheck", {"match": True}),
        DECLINE_HITS,
        SessionStatus.DECLINED,
        ("background_check_hit",),
    ),
    (
        "background clear",
        data_set("backgroundCheck", {"match": False}),
        DECLINE_HITS,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    (
        "background truthy but not true",
        data_set("backgroundCheck", {"match": "yes"}),
        DEFAULT,
        SessionStatus.APPROVED,
        ("passed",),
    ),
    # unreadable / combined
    (
        "unreadable score",
        setter("verification.idPrintDetection.score", "high"),
        DEFAULT,
        SessionStatus.IN_REVIEW,
        ("result_unreadable",),
    ),
    (
        "decline beats review",
        both(
            setter("verification.idPrintDetection.score", 90),
            setter("verification.idPhotoTamperingDetection.score", 45),
            data_set("backgroundCheck", {"match": True}),
        ),
        DEFAULT,
        SessionStatus.DECLINED,
        ("print_detected",),
    ),
    (
        "several declines, rule order",
        both(
            setter("verification.idScreenDetection.score", 90),
            setter("document.face.match", False),
            setter("verification.idPhotoTamperingDetection.score", 95),
        ),
        DEFAULT,
        SessionStatus.DECLINED,
        ("face_mismatch", "tampering_detected", "screen_detected"),
    ),
]

ALL_RULES = {
    "passed",
    "no_document",
    "verifications_missing",
    "face_mismatch",
    "face_match_level",
    "face_not_checked",
    "face_match_level_missing",
    "tampering_detected",
    "tampering_suspected",
    "print_detected",
    "screen_detected",
    "mrz_checksum_invalid",
    "mrz_checksum_missing",
    "chip_signature_invalid",
    "background_check_hit",
    "result_unreadable",
}

OUTCOMES = {
    SessionStatus.APPROVED: (Outcome.APPROVED, "RESULT_APPROVED"),
    SessionStatus.DECLINED: (Outcome.DECLINED, "RESULT_DECLINED"),
    SessionStatus.IN_REVIEW: (Outcome.REVIEW, "RESULT_REVIEW"),
}


@pytest.mark.parametrize(
    ("change", "settings", "status", "deciding"),
    [case[1:] for case in TABLE],
    ids=[case[0] for case in TABLE],
)
def test_policy_table(
    change: Change | None,
    settings: PolicySettings,
    status: SessionStatus,
    deciding: tuple[str, ...],
) -> None:
    result = judge(change, settings)
    assert result.status is status
    assert result.deciding == deciding
    outcome, provider_status = OUTCOMES[status]
    assert result.outcome is outcome and result.provider_status == provider_status
    assert result.reason_codes == tuple(f"policy:{rule}" for rule in deciding)


def test_the_table_exercises_every_rule() -> None:
    seen = {rule for case in TABLE for rule in case[4]}
    assert seen == ALL_RULES
    assert len(policy.RULES) == 9


def test_non_deciding_findings_become_warnings() -> None:
    result = judge(
        both(
            setter("verification.idPrintDetection.score", 90),
            setter("verification.idPhotoTamperingDetection.score", 45),
            data_set("backgroundCheck", {"match": True}),
        )
    )
    assert result.reason_codes == ("policy:print_detected",)
    assert result.warnings == ("policy:tampering_suspected", "policy:background_check_hit")


def test_findings_are_not_repeated_across_documents() -> None:
    def two_bad_documents(claims: dict[str, Any]) -> None:
        claims["data"]["verifications"].append(json.loads(json.dumps(verification(claims))))
        for each in claims["data"]["verifications"]:
            each["idPrintDetection"]["score"] = 99

    assert judge(two_bad_documents).deciding == ("print_detected",)


def test_decision_is_by_policy_and_carries_no_pii() -> None:
    at = datetime(2026, 2, 1, 12, 6, tzinfo=UTC)
    decision = judge(setter("document.face.match", False)).decision(at)
    assert decision.outcome is Outcome.DECLINED
    assert decision.decided_by is DecidedBy.POLICY
    assert decision.decided_at == at
    assert decision.reason_codes == ("policy:face_mismatch",)
    text = json.dumps(decision.to_json())
    for pii in ("CASOLA", "MARIO", "YA12345", "800825", "ITA"):
        assert pii not in text
    summary = judge(setter("document.face.match", False)).to_json()
    assert summary == {
        "outcome": "DECLINED",
        "deciding": ["face_mismatch"],
        "findings": [{"rule": "face_mismatch", "verdict": "DECLINE"}],
    }


def test_approval_decision() -> None:
    decision = judge().decision(None)
    assert decision.outcome is Outcome.APPROVED
    assert decision.reason_codes == ("policy:passed",) and decision.warnings == ()


def test_claims_that_are_not_an_object_go_to_review() -> None:
    assert evaluate({"data": "nonsense"}, DEFAULT).deciding == ("result_unreadable",)


# -- settings -----------------------------------------------------------------------------------
def test_defaults_are_the_documented_thresholds() -> None:
    assert PolicySettings.from_options({}) == PolicySettings(
        min_face_match_level=2,  # uqudo: "the lowest acceptable level when using photo scans"
        max_tampering_score=70,
        review_tampering_score=40,
        max_print_score=50,  # uqudo's SDK rejects scans above 50
        max_screen_score=50,
        require_mrz_checksum=True,
        background_hit="review",
        require_verifications=False,  # uqudo documents results without a verification object
    )


def test_settings_from_options() -> None:
    settings = PolicySettings.from_options(
        {
            "policy_min_face_match_level": "4",
            "policy_max_tampering_score": " 60 ",
            "policy_review_tampering_score": "30",
            "policy_max_print_score": "45",
            "policy_max_screen_score": "40",
            "policy_require_mrz_checksum": "false",
            "policy_background_hit": "Decline",
            "policy_require_verifications": "yes",
            "unrelated": "x",
        }
    )
    assert settings == PolicySettings(
        min_face_match_level=4,
        max_tampering_score=60,
        review_tampering_score=30,
        max_print_score=45,
        max_screen_score=40,
        require_mrz_checksum=False,
        background_hit="decline",
        require_verifications=True,
    )
    assert PolicySettings.from_options({"policy_max_print_score": ""}) == DEFAULT


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"policy_min_face_match_level": "six"}, "policy_min_face_match_level"),
        ({"policy_min_face_match_level": "6"}, "policy_min_face_match_level"),
        ({"policy_max_print_score": "101"}, "policy_max_print_score"),
        ({"policy_max_screen_score": "-1"}, "policy_max_screen_score"),
        ({"policy_max_tampering_score": "1.5"}, "policy_max_tampering_score"),
        ({"policy_review_tampering_score": "80"}, "policy_review_tampering_score"),
        ({"policy_require_mrz_checksum": "maybe"}, "policy_require_mrz_checksum"),
        ({"policy_background_hit": "ignore"}, "policy_background_hit"),
        ({"policy_require_verifications": "sometimes"}, "policy_require_verifications"),
    ],
)
def test_malformed_settings_are_refused_by_name(options: dict[str, str], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        PolicySettings.from_options(options)
