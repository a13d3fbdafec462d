"""Issue 17's acceptance, per vendor, through GraphQL and the vendor's sandbox only, on a
real server with API keys: an approved session shows PASSED checks of the kinds its vendor
performs and, with pii:read, the person; a declined one a FAILED check whose reason is in
`decision.reasonCodes`; without pii:read, or with a client token, `person` and `documents`
are null with FORBIDDEN; after `redactSession` they are null, no personal value is left in
any table, and the checks remain."""

from __future__ import annotations

import asyncio
import random
import string
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from adapters.registry import adapter_class
from tests.e2e.client import Watcher
from tests.e2e.server import GatewayProcess
from tests.support.keys import env, graphql_as, issue_token, key
from tests.support.stored import stored_in_tables

VENDORS = ["beltic", "didit", "uip", "uqudo", "verifa"]

CREATE = """
mutation($input: CreateSessionInput!) {
  createSession(input: $input) {
    session { id providerSessionId }
    userErrors { code field message }
  }
}
"""
RESULTS = """
query($id: ID!) {
  session(id: $id) {
    status
    decision { outcome reasonCodes }
    checks { kind outcome reasons providerReasons score providerName }
    person { firstName lastName fullName dateOfBirth nationality
             matchesExpected { field match } }
    documents { type country number issuedOn expiresOn }
  }
}
"""
#: What a create adds for one reason (UIP fails an age check only on an age step).
CREATE_FOR_REASON = {
    ("uip", "age_not_satisfied"): {
        "steps": [{"type": "IDENTIFY"}, {"type": "AGE_VERIFY", "params": {"min_age": 18}}]
    },
    # uqudo screens only when the session's data switches the background check on.
    ("uqudo", "aml_hit"): {"providerOptions": {"background_check": True}},
}
#: Vendors whose scripted paths (`kyc-gateway simulate`) do not decline: how their sandbox
#: declines (`action:reason`, the reason as the control endpoint takes it).
DECLINE_PATHS = {"uip": ["open", "decline:document_expired"]}
DECIDE = (
    "mutation($id: ID!, $d: DecisionAction!) { decideSession(id: $id, decision: $d) "
    "{ userErrors { code message } } }"
)
REDACT = "mutation($id: ID!) { redactSession(id: $id) { userErrors { code message } } }"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(tmp_path_factory.mktemp("results") / "gw", extra_env=env()) as process:
        yield process


def _word() -> str:
    return "Zq" + "".join(random.choices(string.ascii_lowercase, k=9))


def _script(base: str, vendor: str) -> dict:
    r = httpx.get(f"{base}/sandbox/{vendor}/simulate", headers=_bearer("sandbox"), timeout=10)
    assert r.status_code == 200, r.text
    return r.json()


def _bearer(name: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key(name)}"}


def _path(script: dict, expect: str) -> list[str]:
    """The first scripted path that ends in `expect`, preferring one without an integrator
    decision; a decision is the last step, `decide:<DECISION>` (made through GraphQL)."""
    paths = sorted(
        (p for p in script["paths"] if p["expect"] == expect),
        key=lambda p: p["decision"] is not None,
    )
    if not paths:
        raise AssertionError(f"the sandbox script has no path to {expect}: {script}")
    path = paths[0]
    return [*path["actions"], *([f"decide:{path['decision']}"] if path["decision"] else [])]


def _create(
    base: str, vendor: str, script: dict, who: dict[str, str], extra: dict | None = None
) -> dict:
    variables = {
        "input": {
            **script.get("create", {}),
            "provider": vendor,
            "clientReference": f"results-{uuid.uuid4().hex[:8]}",
            "expectedPerson": {
                "firstName": who["first"],
                "lastName": who["last"],
                "dateOfBirth": who["born"],
            },
            **(extra or {}),
        }
    }
    body = graphql_as(base, key("admin"), CREATE, variables).json()
    payload = body["data"]["createSession"]
    assert payload["userErrors"] == [], payload
    return payload["session"]


def _drive(base: str, vendor: str, session: dict, actions: list[str]) -> None:
    psid = session["providerSessionId"]
    for step in actions:
        action, _, reason = step.partition(":")
        if action == "decide":
            _decide(base, session["id"], reason)
            continue
        r = httpx.post(
            f"{base}/sandbox/{vendor}/sessions/{psid}/simulate",
            headers=_bearer("sandbox"),
            json={"action": action, **({"reason": reason} if reason else {})},
            timeout=20,
        )
        assert r.status_code == 200, (action, r.text)


def _decide(base: str, sid: str, decision: str) -> None:
    """The integrator's decision, through GraphQL."""
    body = graphql_as(base, key("admin"), DECIDE, {"id": sid, "d": decision}).json()
    assert body["data"]["decideSession"]["userErrors"] == [], body


def _read(base: str, credential: str, sid: str) -> dict:
    body = graphql_as(base, credential, RESULTS, {"id": sid}).json()
    assert "data" in body, body
    return body


def _until(base: str, sid: str, status: str, need_checks: bool = True) -> dict:
    deadline = time.monotonic() + 30
    while True:
        got = _read(base, key("admin"), sid)["data"]["session"]
        if got["status"] == status and (got["checks"] or not need_checks):
            return got
        assert time.monotonic() < deadline, got
        time.sleep(0.1)


def _through(
    base: str,
    vendor: str,
    script: dict,
    path: list[str],
    expect: str,
    extra: dict | None = None,
) -> tuple[dict[str, str], dict, dict]:
    """A fresh person's session driven along `path` until `expect`: (who, session, read)."""
    who = {"first": _word(), "last": _word(), "born": f"19{random.randint(20, 79)}-04-17"}
    session = _create(base, vendor, script, who, extra)
    _drive(base, vendor, session, path)
    return who, session, _until(base, session["id"], expect)


def _with_reason(path: list[str], action: str, reason: str) -> list[str]:
    """The path with `reason` on its (last) `action` step."""
    at = max(i for i, step in enumerate(path) if step.partition(":")[0] == action)
    return [*path[:at], f"{action}:{reason}", *path[at + 1 :]]


def _forbidden(body: dict, field: str) -> bool:
    return any(
        e["path"][-1] == field and e["extensions"]["code"] == "FORBIDDEN"
        for e in body.get("errors", ())
    )


@pytest.mark.parametrize("vendor", VENDORS)
def test_an_approved_session_shows_passed_checks_and_the_person(
    server: GatewayProcess, vendor: str
) -> None:
    base, script = server.base, _script(server.base, vendor)
    _, session, got = _through(base, vendor, script, _path(script, "APPROVED"), "APPROVED")

    kinds = {k.value for k in adapter_class(vendor).check_kinds}
    assert kinds, f"{vendor} declares no check kinds"
    passed = {c["kind"] for c in got["checks"] if c["outcome"] == "PASSED"}
    assert passed & kinds, got["checks"]
    assert all(c["providerName"] for c in got["checks"])
    person = got["person"]
    assert person is not None, got
    assert person["firstName"] and person["lastName"] and person["dateOfBirth"], person
    assert [m["field"] for m in person["matchesExpected"]] == [
        "firstName",
        "lastName",
        "dateOfBirth",
    ]

    # Without pii:read, and with the session's own client token: null, with FORBIDDEN.
    for credential in (key("reader"), issue_token(base, session["id"])):
        body = _read(base, credential, session["id"])
        shown = body["data"]["session"]
        assert shown["person"] is None and shown["documents"] is None, body
        assert _forbidden(body, "person") and _forbidden(body, "documents"), body
    reader = _read(base, key("reader"), session["id"])["data"]["session"]
    assert reader["checks"] == got["checks"]  # checks are for sessions:read


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_declined_session_lists_its_failed_checks_reasons(
    server: GatewayProcess, vendor: str
) -> None:
    base, script = server.base, _script(server.base, vendor)
    path = DECLINE_PATHS.get(vendor) or _path(script, "DECLINED")
    _, _, got = _through(base, vendor, script, path, "DECLINED")
    failed = [c for c in got["checks"] if c["outcome"] == "FAILED"]
    assert failed, got["checks"]
    reasons = {r for c in failed for r in c["reasons"]}
    assert reasons & set(got["decision"]["reasonCodes"]), got


@pytest.mark.parametrize("vendor", VENDORS)
def test_redaction_erases_the_person_and_documents_and_keeps_the_checks(
    vendor: str, tmp_path: Path
) -> None:
    # A server of its own: a sandbox's sample person is the same in every session.
    with GatewayProcess(tmp_path / "gw", extra_env=env()) as server:
        _redaction_erases_person_keeps_checks(server, vendor)


def _redaction_erases_person_keeps_checks(server: GatewayProcess, vendor: str) -> None:
    base, script = server.base, _script(server.base, vendor)
    who, session, before = _through(base, vendor, script, _path(script, "APPROVED"), "APPROVED")
    person = before["person"]
    values = [v for v in (person["firstName"], person["lastName"]) if v and len(v) > 3]
    documents = before["documents"] or []
    values += [d["number"] for d in documents if d["number"] and len(d["number"]) > 3]
    values += [who["first"], who["last"]]

    body = graphql_as(base, key("admin"), REDACT, {"id": session["id"]}).json()
    assert body["data"]["redactSession"]["userErrors"] == [], body
    after = _read(base, key("admin"), session["id"])["data"]["session"]
    assert after["person"] is None and after["documents"] is None, after
    assert after["checks"] == before["checks"]
    server.stop()
    assert stored_in_tables(server.data_dir, values) == {}


@pytest.mark.parametrize("vendor", VENDORS)
def test_every_decline_reason_a_sandbox_offers_arrives_normalized(
    server: GatewayProcess, vendor: str
) -> None:
    """Each normalized reason the vendor's sandbox script offers (`reasons.decline`), chosen
    through the control body, ends as a FAILED check with that reason and in reasonCodes."""
    base, script = server.base, _script(server.base, vendor)
    offered = script["reasons"].get("decline", [])
    assert offered, f"{vendor}'s sandbox offers no decline reason"
    wrong = {}
    for reason in offered:
        path = _with_reason(
            DECLINE_PATHS.get(vendor) or _path(script, "DECLINED"), "decline", reason
        )
        extra = CREATE_FOR_REASON.get((vendor, reason))
        _, _, got = _through(base, vendor, script, path, "DECLINED", extra)
        failed = [c for c in got["checks"] if c["outcome"] == "FAILED"]
        if (
            not any(reason in c["reasons"] for c in failed)
            or reason not in (got["decision"]["reasonCodes"])
        ):
            wrong[reason] = (failed, got["decision"])
    assert wrong == {}


@pytest.mark.parametrize("vendor", VENDORS)
def test_a_review_shows_why_in_a_review_check(server: GatewayProcess, vendor: str) -> None:
    """Each review reason the sandbox offers ends IN_REVIEW with a REVIEW check saying it
    (UIP has no review: its script offers none)."""
    base, script = server.base, _script(server.base, vendor)
    wrong = {}
    for reason in script["reasons"].get("review", []):
        path = _with_reason(_path(script, "IN_REVIEW"), "review", reason)
        extra = CREATE_FOR_REASON.get((vendor, reason))
        _, _, got = _through(base, vendor, script, path, "IN_REVIEW", extra)
        reviewed = [c for c in got["checks"] if c["outcome"] == "REVIEW"]
        if not any(reason in c["reasons"] for c in reviewed):
            wrong[reason] = got["checks"]
    assert wrong == {}


WATCH_CHECKS = """
subscription($ref: String!) {
  sessionStatusChanged(clientReference: $ref) {
    status session { checks { kind outcome reasons } }
  }
}
"""


async def test_a_subscription_event_reads_the_sessions_checks(server: GatewayProcess) -> None:
    base, script = server.base, _script(server.base, "didit")
    who = {"first": _word(), "last": _word(), "born": "1971-03-05"}
    ref = f"results-watch-{uuid.uuid4().hex[:8]}"
    async with Watcher(base, ref, WATCH_CHECKS, key("admin")) as watcher:
        session = _create(base, "didit", script, who, {"clientReference": ref})
        await asyncio.to_thread(_drive, base, "didit", session, _path(script, "DECLINED"))
        await watcher.wait_for("DECLINED")
    (declined,) = [e for e in watcher.events if e["status"] == "DECLINED"]
    checks = declined["session"]["checks"]
    assert any(c["outcome"] == "FAILED" and c["reasons"] for c in checks), checks
    stored = _read(base, key("admin"), session["id"])["data"]["session"]["checks"]
    assert checks == [{k: c[k] for k in ("kind", "outcome", "reasons")} for c in stored]
