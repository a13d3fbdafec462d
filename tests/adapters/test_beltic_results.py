"""Beltic's results (docs/results.md, Beltic; docs/vendors/beltic.md, Results): the tables,
tolerance of odd payloads, the documented payloads read through the adapter's real read path
(cassette replay), the document webhook (no results), and the sandbox's approve / decline /
review paths read back through the adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters import results as normalized
from adapters.base import CreateSessionRequest, Environment, ExpectedPerson, SandboxConfig, utc_now
from adapters.beltic import inferred
from adapters.beltic.adapter import BelticAdapter
from adapters.beltic.results import CHECKS, TABLES, VERIFICATIONS, session_results
from adapters.beltic.sandbox import BelticSandbox, outcomes
from adapters.beltic.wire import Resource
from tests.support.cassettes import assert_all_played, replayer
from tests.support.scripted_vendor import LiveConfig
from tests.support.signing.beltic import sign_webhook

ROOT = Path(__file__).resolve().parents[2]
CASSETTES = ROOT / "cassettes" / "beltic"
recorder = replayer(
    CASSETTES, match_on=("method", "scheme", "host", "port", "path", "query", "json_body")
)
SECRET = "test-webhook-secret"
NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


make_config = LiveConfig(
    base_url="https://api.beltic.com/v1", api_key="test-api-key", webhook_secret=SECRET, now=NOW
)


def live_adapter(transport: httpx.MockTransport | None = None) -> BelticAdapter:
    """Beltic live, on the real clock (the sandbox's runs on `NOW`)."""
    return BelticAdapter(make_config(clock=utc_now, transport=transport))


# -- the tables ---------------------------------------------------------------------------------
def _entries(kind: str) -> list[tuple[str, Any, Any]]:
    found = []
    for name, table in (("verifications", VERIFICATIONS), ("checks", CHECKS)):
        for raw, value in getattr(table, kind).items():
            found.append((name, raw, value))
    return found


@pytest.mark.parametrize(("table", "raw", "kind"), _entries("kinds"))
def test_every_check_name_has_its_kind(table: str, raw: str, kind: normalized.CheckKind) -> None:
    chosen = VERIFICATIONS if table == "verifications" else CHECKS
    check = chosen.check(raw, next(iter(chosen.outcomes)))
    assert check.kind is kind and check.recognized and check.provider_name == raw


@pytest.mark.parametrize(("table", "raw", "outcome"), _entries("outcomes"))
def test_every_status_has_its_outcome(
    table: str, raw: str, outcome: normalized.CheckOutcome
) -> None:
    chosen = VERIFICATIONS if table == "verifications" else CHECKS
    check = chosen.check(next(iter(chosen.kinds)), raw)
    assert check.outcome is outcome and check.recognized


@pytest.mark.parametrize(("table", "raw", "code"), _entries("reasons"))
def test_every_reason_has_its_code(table: str, raw: str, code: str) -> None:
    chosen = VERIFICATIONS if table == "verifications" else CHECKS
    check = chosen.check(next(iter(chosen.kinds)), "failed", [raw])
    assert check.reasons == (code,) and check.provider_reasons == (raw,)
    assert code in normalized.REASON_CODES and check.recognized


def test_the_tables_stay_in_the_vocabulary() -> None:
    assert BelticAdapter.check_tables == TABLES
    assert all(not t.vocabulary_problems() for t in BelticAdapter.check_tables)
    assert BelticAdapter.check_kinds == frozenset({normalized.CheckKind.DOCUMENT})


def test_an_unknown_check_name_is_other_and_unrecognized() -> None:
    check = CHECKS.check("voice_match", "passed")
    assert (check.kind, check.outcome, check.recognized) == (
        normalized.CheckKind.OTHER,
        "PASSED",
        False,
    )


def test_an_unknown_status_is_review() -> None:
    check = CHECKS.check("face_match", "inconclusive")
    assert check.outcome is normalized.CheckOutcome.REVIEW and not check.recognized


def test_an_unknown_reason_is_other_with_the_raw_code_kept() -> None:
    check = CHECKS.check("face_match", "failed", ["eyes_closed"])
    assert check.reasons == ("other",) and check.provider_reasons == ("eyes_closed",)
    assert not check.recognized


# -- odd payloads ---------------------------------------------------------------------------------
def resource(kind: str, ident: str, attributes: Any, session: str | None = "s1") -> Resource:
    relationships = {"session": {"data": {"type": "session", "id": session}}} if session else {}
    return Resource.model_validate(
        {"id": ident, "type": kind, "attributes": attributes, "relationships": relationships}
    )


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"person": "Jane", "address": [], "identity_numbers": 7},
        {"person": {"name": "Jane Doe", "birth_date": "15/05/1990"}},
        {"person": {"name": {"first": 1, "last": None}, "birth_date": None}},
        {"address": {"line1": None, "country_code": ""}, "identity_numbers": {"number": None}},
    ],
)
def test_a_session_without_readable_results_says_nothing(attributes: dict[str, Any]) -> None:
    assert session_results(attributes, "s1", ()) is None


@pytest.mark.parametrize(
    "attributes",
    [
        None,
        {"status": 3, "checks": "all good"},
        {"status": "passed", "checks": [None, 1, {"name": None}, {"name": "face_match"}]},
        {"checks": [{"name": "face_match", "reasons": "face_mismatch", "metadata": []}]},
        {"checks": [{"name": "liveness", "status": "passed", "metadata": {"score": "high"}}]},
        {"checks": [{"name": "liveness", "status": "passed", "metadata": {"score": True}}]},
    ],
)
def test_garbage_verifications_do_not_crash(attributes: Any) -> None:
    results = session_results({}, "s1", (resource("verification/idv", "v1", attributes),))
    assert results is not None
    first = results.checks[0]
    assert first.kind is normalized.CheckKind.DOCUMENT and first.provider_name == "verification/idv"
    assert all(c.score is None for c in results.checks)


def test_a_verification_typed_as_in_the_list_reference_is_read() -> None:
    """identity-verifications-list types its items `verification`: read, kind unknown."""
    item = resource("verification", "v1", {"status": "passed", "checks": []})
    results = session_results({}, "s1", (item,))
    assert results is not None
    (check,) = results.checks
    assert (check.kind, check.outcome, check.recognized) == (
        normalized.CheckKind.OTHER,
        normalized.CheckOutcome.PASSED,
        False,
    )


def test_verifications_of_another_session_are_left_out() -> None:
    other = resource("verification/idv", "v9", {"status": "failed"}, session="s2")
    assert session_results({}, "s1", (other,)) is None


def test_a_nationality_comes_from_a_proof_of_address_of_the_session() -> None:
    poa = resource("document/address", "d1", {"nationality": "US"})
    idv = resource("document/idv", "d2", {"document_type": "id_card"})
    attributes = {"person": {"name": {"first": "Jane", "last": "Doe"}, "birth_date": None}}
    results = session_results(attributes, "s1", (poa, idv))
    assert results is not None and results.person is not None
    assert results.person.nationality == "US"
    assert results.documents == (normalized.VerifiedDocument(type="ID_CARD"),)


async def test_the_garbage_reaches_the_adapter_without_crashing() -> None:
    body = {
        "data": {
            "id": "s1",
            "type": "session",
            "attributes": {"status": "completed", "person": [], "address": "here"},
        },
        "included": [
            {"id": "v1", "type": "verification/idv", "attributes": {"checks": {"x": 1}}},
            {"id": "v2", "type": "verification/unknown", "attributes": {"status": "failed"}},
        ],
    }

    def reply(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    adapter = live_adapter(httpx.MockTransport(reply))
    snapshot = await adapter.fetch_session("s1")
    await adapter.aclose()
    assert snapshot.results is not None
    kinds = [(c.kind, c.outcome, c.recognized) for c in snapshot.results.checks]
    assert kinds == [
        (normalized.CheckKind.DOCUMENT, normalized.CheckOutcome.REVIEW, False),
        (normalized.CheckKind.OTHER, normalized.CheckOutcome.FAILED, False),
    ]


@pytest.mark.parametrize(
    "listed",
    [
        httpx.Response(403, json={"errors": [{"status": "403", "code": "forbidden"}]}),
        httpx.Response(200, json={"data": "nothing"}),
        httpx.Response(200, content=b"<html>"),
    ],
)
async def test_a_verifications_list_beltic_refuses_leaves_the_read_alone(
    listed: httpx.Response,
) -> None:
    session = {
        "data": {
            "id": "s1",
            "type": "session",
            "attributes": {
                "status": "completed",
                "person": {"name": {"first": "Jane", "last": "Doe"}, "birth_date": "1990-05-15"},
            },
            "relationships": {
                "verifications": {"data": [{"type": "verification/idv", "id": "v1"}]}
            },
        }
    }
    paths: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json=session) if request.url.path.endswith("/s1") else listed

    adapter = live_adapter(httpx.MockTransport(reply))
    snapshot = await adapter.fetch_session("s1")
    await adapter.aclose()
    assert paths == ["/v1/identity/sessions/s1", "/v1/identity/verifications"]
    assert snapshot.results is not None and snapshot.results.checks == ()
    assert snapshot.results.person is not None and snapshot.results.person.first_name == "Jane"


# -- the documented payloads, through the adapter's read ------------------------------------
JANE = normalized.VerifiedPerson(
    first_name="Jane",
    last_name="Doe",
    date_of_birth=date(1990, 5, 15),
    address=normalized.Address(
        line1="1 Example Street", city="Springfield", postal_code="62701", region="IL", country="US"
    ),
)


def expected_check(
    kind: str,
    outcome: str,
    name: str,
    reason: tuple[str, str] | None = None,
    score: float | None = None,
) -> normalized.Check:
    """A check the documented read must give; `reason` is (normalized code, Beltic's code)."""
    codes, raw = ((reason[0],), (reason[1],)) if reason else ((), ())
    kind_, outcome_ = normalized.CheckKind[kind], normalized.CheckOutcome[outcome]
    return normalized.Check(kind_, outcome_, name, codes, raw, score)


EXPIRED = ("document_expired", "document_expired")
GLARE = ("document_unreadable", "glare_detected")
EXPECTED: dict[str, normalized.Results] = {
    "results_approved.yaml": normalized.Results(
        checks=(
            expected_check("DOCUMENT", "PASSED", "verification/idv"),
            expected_check("DOCUMENT", "PASSED", "document_authenticity"),
            expected_check("DOCUMENT", "PASSED", "document_expiry"),
            expected_check("FACE_MATCH", "PASSED", "face_match", score=0.97),
            expected_check("AML", "NOT_RUN", "watchlist"),
        ),
        person=JANE,
        documents=(normalized.VerifiedDocument(type="PASSPORT", country="US", number="X1234567"),),
    ),
    "results_declined.yaml": normalized.Results(
        checks=(
            expected_check("DOCUMENT", "FAILED", "verification/idv", EXPIRED),
            expected_check("DOCUMENT", "PASSED", "document_authenticity"),
            expected_check("DOCUMENT", "FAILED", "document_expiry", EXPIRED),
            expected_check("FACE_MATCH", "PASSED", "face_match", score=0.93),
            expected_check("AML", "PASSED", "watchlist"),
        ),
    ),
    "results_review.yaml": normalized.Results(
        checks=(
            expected_check("DOCUMENT", "REVIEW", "verification/idv", GLARE),
            expected_check("DOCUMENT", "PASSED", "document_authenticity"),
            expected_check("DOCUMENT", "REVIEW", "image_quality", GLARE),
        ),
    ),
}
SESSIONS = {
    "results_approved.yaml": ("sess_01HQAPP", "APPROVED"),
    "results_declined.yaml": ("sess_01HQDEC", "DECLINED"),
    "results_review.yaml": ("sess_01HQREV", "IN_REVIEW"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_a_documented_read_gives_its_results(name: str) -> None:
    session_id, status = SESSIONS[name]
    adapter = live_adapter()
    with recorder.use_cassette(name) as cassette:
        snapshot = await adapter.fetch_session(session_id)
    await adapter.aclose()
    assert_all_played(cassette, 2)  # the session, then its verifications
    assert snapshot.status.value == status
    assert snapshot.results == EXPECTED[name]


async def test_a_declined_read_explains_the_decision_with_the_failed_check() -> None:
    adapter = live_adapter()
    with recorder.use_cassette("results_declined.yaml"):
        snapshot = await adapter.fetch_session("sess_01HQDEC")
    await adapter.aclose()
    assert snapshot.decision is not None
    assert snapshot.decision.reason_codes == ("document_expiry",)


def test_the_document_webhook_carries_no_results() -> None:
    """Beltic's only webhooks are document-status events (docs/vendors/beltic.md, Webhooks):
    a hint to read the session, never results of its own."""
    body = {
        "data": {
            "type": "document/idv",
            "id": "doc_01HQAPP",
            "attributes": {"status": "processed", "processed_at": "2025-01-15T10:35:00Z"},
            "relationships": {"session": {"data": {"type": "session", "id": "sess_01HQAPP"}}},
        }
    }
    raw, headers = sign_webhook(body, secret=SECRET)
    (event,) = live_adapter().parse_webhook(raw, headers)
    assert event.snapshot is None and event.refetch
    assert event.provider_session_id == "sess_01HQAPP"


# -- the sandbox, read back through the adapter ---------------------------------------------
@dataclass
class Sandboxed:
    adapter: BelticAdapter
    sandbox: BelticSandbox
    control: httpx.AsyncClient

    async def session(self, person: ExpectedPerson | None = None) -> str:
        created = await self.adapter.create_session(
            CreateSessionRequest(client_reference="user-results", expected_person=person)
        )
        return created.provider_session_id

    async def simulate(self, sid: str, action: str, reason: Any = None) -> httpx.Response:
        body: dict[str, Any] = {"action": action}
        if reason is not None:
            body["reason"] = reason
        return await self.control.post(f"/sessions/{sid}/simulate", json=body)

    async def drive(self, sid: str, action: str, reason: Any = None) -> normalized.Results:
        for step in ("open", "submit"):
            assert (await self.simulate(sid, step)).status_code == 200
        answer = await self.simulate(sid, action, reason)
        assert answer.status_code == 200, answer.text
        results = (await self.adapter.fetch_session(sid)).results
        assert results is not None
        return results

    async def checks_of(
        self, action: str, reason: Any, outcome: normalized.CheckOutcome
    ) -> tuple[normalized.Results, list[normalized.Check]]:
        """A new session driven to `action`: its results and the checks with `outcome`."""
        results = await self.drive(await self.session(), action, reason)
        return results, [c for c in results.checks if c.outcome is outcome]


@pytest.fixture
async def sandboxed() -> AsyncIterator[Sandboxed]:
    sandbox = BelticSandbox(
        SandboxConfig(
            public_base_url="http://gateway.test/sandbox/beltic",
            webhook_url="http://gateway.test/webhooks/beltic",
            webhook_transport=httpx.MockTransport(lambda _: httpx.Response(200)),
            clock=lambda: NOW,
        )
    )
    sandboxed_config = LiveConfig(
        base_url="http://beltic.sandbox",
        api_key=sandbox.api_key,
        webhook_secret=sandbox.webhook_secret,
        now=NOW,
    )
    adapter = BelticAdapter(
        sandboxed_config(
            environment=Environment.SANDBOX,
            clock=utc_now,
            options=dict(sandbox.options),
            transport=httpx.ASGITransport(app=sandbox.app),
        )
    )
    control = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://beltic.sandbox"
    )
    yield Sandboxed(adapter, sandbox, control)
    await control.aclose()
    await adapter.aclose()
    await sandbox.aclose()


async def test_sandbox_approve_passes_the_document_and_shows_a_person(
    sandboxed: Sandboxed,
) -> None:
    sid = await sandboxed.session()
    results = await sandboxed.drive(sid, "approve")
    passed = {c.kind for c in results.checks if c.outcome is normalized.CheckOutcome.PASSED}
    assert BelticAdapter.check_kinds <= passed
    assert all(c.recognized for c in results.checks)
    person = results.person
    assert person is not None and person.first_name and person.last_name
    assert person.date_of_birth is not None


async def test_sandbox_approve_shows_the_expected_person(sandboxed: Sandboxed) -> None:
    born = date(1985, 12, 10)
    expected = ExpectedPerson(first_name="Ada", last_name="Lovelace", date_of_birth=born)
    sid = await sandboxed.session(expected)
    person = (await sandboxed.drive(sid, "approve")).person
    assert person is not None
    assert (person.first_name, person.last_name, person.date_of_birth) == (
        "Ada",
        "Lovelace",
        born,
    )


@pytest.mark.parametrize("reason", [None, *outcomes.DECLINE_CAUSES])
async def test_sandbox_decline_fails_the_check_asked_for(
    sandboxed: Sandboxed, reason: str | None
) -> None:
    results, failed = await sandboxed.checks_of("decline", reason, normalized.CheckOutcome.FAILED)
    want = reason or outcomes.DEFAULT_DECLINE
    assert any(want in c.reasons for c in failed), failed
    assert all(c.recognized for c in results.checks)


@pytest.mark.parametrize("raw", sorted({c.reason for c in outcomes.DECLINE_CAUSES.values()}))
async def test_sandbox_decline_takes_beltics_own_reason(sandboxed: Sandboxed, raw: str) -> None:
    _, failed = await sandboxed.checks_of("decline", raw, normalized.CheckOutcome.FAILED)
    assert any(raw in c.provider_reasons for c in failed)


@pytest.mark.parametrize("reason", [None, *outcomes.REVIEW_CAUSES])
async def test_sandbox_review_asks_for_a_retry_with_a_reason(
    sandboxed: Sandboxed, reason: str | None
) -> None:
    _, reviewed = await sandboxed.checks_of("review", reason, normalized.CheckOutcome.REVIEW)
    review = [c for c in reviewed if c.reasons]
    want = reason or outcomes.DEFAULT_REVIEW
    assert review and all(want in c.reasons for c in review)


@pytest.mark.parametrize(
    ("action", "reason"),
    [
        ("decline", "not_a_reason"),
        ("decline", "user_declined"),
        ("review", "aml_hit"),
        ("decline", 7),
    ],
)
async def test_sandbox_refuses_a_reason_beltic_cannot_give(
    sandboxed: Sandboxed, action: str, reason: Any
) -> None:
    sid = await sandboxed.session()
    for step in ("open", "submit"):
        await sandboxed.simulate(sid, step)
    answer = await sandboxed.simulate(sid, action, reason)
    assert answer.status_code == 400
    (error,) = answer.json()["errors"]
    assert error["code"] == "invalid_reason" and error["source"] == {"pointer": "/reason"}
    status = (await sandboxed.adapter.fetch_session(sid)).provider_status
    assert status == "pending"  # refused before anything changed


def test_the_sandbox_reasons_are_normalized_codes_the_adapter_reads_back() -> None:
    """The sandbox's cause table is its own; every normalized code it names is in the
    vocabulary (its raw strings are checked through the adapter above)."""
    for causes in (outcomes.DECLINE_CAUSES, outcomes.REVIEW_CAUSES):
        assert set(causes) <= normalized.REASON_CODES
    assert inferred.CHECK_SCORE_METADATA_KEY == "score"
