"""The GraphQL surface: create/read/list, user errors with the field named, vendor actions."""

from __future__ import annotations

import pytest

from tests.conftest import Harness
from tests.gateway.queries import CANCEL, CREATE, DECIDE, GET, REFRESH


async def _create(h: Harness, **input_: object) -> dict:
    data = await h.gql(CREATE, {"input": {"provider": "didit", **input_}})
    return data["createSession"]


async def test_create_session_in_sandbox(harness: Harness) -> None:
    payload = await _create(
        harness,
        clientReference="user-42",
        metadata={"plan": "gold"},
        language="es",
        returnUrl="https://app.example.com/done",
        contact={"email": "person@example.com"},
        expectedPerson={
            "firstName": "Ana",
            "dateOfBirth": "1990-01-31",
            "nationality": "ESP",
            "documentTypes": ["PASSPORT"],
        },
    )
    assert payload["userErrors"] == []
    s = payload["session"]
    assert s["id"].startswith("ses_")
    assert s["status"] == "CREATED"
    assert s["providerStatus"] == "Not Started"
    assert s["environment"] == "SANDBOX"
    assert s["clientReference"] == "user-42"
    assert s["metadata"] == {"plan": "gold"}
    assert s["verificationUrl"].startswith("http://gateway.test/sandbox/didit/es/session/")
    assert s["isFinal"] is False
    assert s["history"] == [
        {
            "sequence": 1,
            "previousStatus": None,
            "status": "CREATED",
            "providerStatus": "Not Started",
            "source": "API",
            "cursor": s["history"][0]["cursor"],
        }
    ]
    assert "CANCEL" not in s["capabilities"]
    assert "DECIDE" not in s["capabilities"]  # Didit allows update-status only once decided
    again = (await harness.gql(GET, {"id": s["id"]}))["session"]
    assert again["providerSessionId"] == s["providerSessionId"]


async def test_default_provider_is_used_when_omitted(harness: Harness) -> None:
    data = await harness.gql(CREATE, {"input": {"clientReference": "x"}})
    assert data["createSession"]["session"]["provider"] == "didit"


@pytest.mark.parametrize(
    ("input_", "field"),
    [
        ({"provider": "nope"}, ["input", "provider"]),
        ({"metadata": {"blob": "x" * 20_000}}, ["input", "metadata"]),
        ({"expiresIn": 5}, ["input", "expiresIn"]),
        ({"expiresIn": 10**9}, ["input", "expiresIn"]),
        ({"metadata": [1, 2]}, ["input", "metadata"]),
        ({"returnUrl": "not a url"}, ["input", "returnUrl"]),
        ({"contact": {"email": "nope"}}, ["input", "contact", "email"]),
        ({"contact": {"phone": "555"}}, ["input", "contact", "phone"]),
        ({"expectedPerson": {"nationality": "es"}}, ["input", "expectedPerson", "nationality"]),
        ({"language": "xx"}, ["input", "language"]),  # well-formed but not a Didit language
        ({"clientReference": "é" * 1001}, ["input", "clientReference"]),
        (
            {"providerOptions": {"unknown_option": 1}},
            ["input", "providerOptions", "unknown_option"],
        ),
    ],
)
async def test_invalid_input_is_a_bad_user_input_error_naming_the_field(
    harness: Harness, input_: dict, field: list[str]
) -> None:
    payload = (await harness.gql(CREATE, {"input": {"provider": "didit", **input_}}))[
        "createSession"
    ]
    assert payload["session"] is None
    assert payload["userErrors"], payload
    error = payload["userErrors"][0]
    assert error["code"] == "BAD_USER_INPUT"
    assert error["field"] == field
    assert error["message"]


async def test_cancel_is_unsupported_by_didit(harness: Harness) -> None:
    s = (await _create(harness))["session"]
    payload = (await harness.gql(CANCEL, {"id": s["id"]}))["cancelSession"]
    assert payload["session"] is None
    assert payload["userErrors"][0]["code"] == "UNSUPPORTED_BY_PROVIDER"


async def test_unknown_session_is_not_found(harness: Harness) -> None:
    payload = (await harness.gql(REFRESH, {"id": "ses_missing"}))["refreshSession"]
    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await harness.gql(GET, {"id": "ses_missing"}))["session"] is None


async def _simulate(h: Harness, psid: str, action: str) -> None:
    response = await h.client.post(
        f"/sandbox/didit/sessions/{psid}/simulate", json={"action": action}
    )
    assert response.status_code == 200, response.text


async def test_decide_flow_through_the_sandbox(harness: Harness) -> None:
    s = (await _create(harness, clientReference="decide-me"))["session"]
    psid = s["providerSessionId"]
    # Not decided yet: Didit allows no update-status from here (docs/vendors/didit.md), so the
    # gateway refuses it without calling Didit, naming Didit's status.
    early = (await harness.gql(DECIDE, {"id": s["id"], "decision": "APPROVE"}))["decideSession"]
    assert early["userErrors"][0]["code"] == "PROVIDER_REJECTED"
    assert "Not Started" in early["userErrors"][0]["message"]
    await _simulate(harness, psid, "open")
    await _simulate(harness, psid, "review")
    got = (await harness.gql(GET, {"id": s["id"]}))["session"]
    assert got["status"] == "IN_REVIEW"
    assert "DECIDE" in got["capabilities"]
    payload = (
        await harness.gql(
            DECIDE, {"id": s["id"], "decision": "DECLINE", "reason": "document mismatch"}
        )
    )["decideSession"]
    assert payload["userErrors"] == []
    assert payload["session"]["status"] == "DECLINED"
    assert payload["session"]["providerStatus"] == "Declined"
    statuses = [c["status"] for c in payload["session"]["history"]]
    assert statuses == ["CREATED", "IN_PROGRESS", "IN_REVIEW", "DECLINED"]
    final = (await harness.gql(GET, {"id": s["id"]}))["session"]
    assert final["decision"]["outcome"] == "DECLINED"


async def test_refresh_reads_the_vendor(harness: Harness) -> None:
    s = (await _create(harness))["session"]
    payload = (await harness.gql(REFRESH, {"id": s["id"]}))["refreshSession"]
    assert payload["userErrors"] == []
    assert payload["session"]["status"] == "CREATED"


async def test_idempotency_key_returns_the_same_session(harness: Harness) -> None:
    first = (await _create(harness, clientReference="idem", idempotencyKey="k-1"))["session"]
    second = (await _create(harness, clientReference="idem", idempotencyKey="k-1"))["session"]
    assert first["id"] == second["id"]
    clash = await _create(harness, clientReference="other", idempotencyKey="k-1")
    assert clash["userErrors"][0]["field"] == ["input", "idempotencyKey"]


async def test_sessions_connection_filters_and_pages(harness: Harness) -> None:
    ids = []
    for i in range(5):
        ids.append((await _create(harness, clientReference=f"page-{i}"))["session"]["id"])
    query = """
    query List($first: Int!, $after: String, $filter: SessionFilterInput) {
      sessions(first: $first, after: $after, filter: $filter) {
        totalCount
        edges { cursor node { id clientReference } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    seen: list[str] = []
    after = None
    while True:
        page = (await harness.gql(query, {"first": 2, "after": after}))["sessions"]
        assert page["totalCount"] == 5
        seen += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(ids) and len(seen) == 5
    one = await harness.gql(query, {"first": 10, "filter": {"clientReference": "page-3"}})
    assert [e["node"]["clientReference"] for e in one["sessions"]["edges"]] == ["page-3"]
    created = await harness.gql(query, {"first": 10, "filter": {"status": "APPROVED"}})
    assert created["sessions"]["totalCount"] == 0
    bad = await harness.gql_raw(query, {"first": 2, "after": "garbage!"})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_providers_lists_didit_in_sandbox(harness: Harness) -> None:
    data = await harness.gql("{ providers { name mode configured capabilities } }")
    didit = next(p for p in data["providers"] if p["name"] == "didit")
    assert didit["mode"] == "SANDBOX"
    assert didit["configured"] is True
    assert "CANCEL" not in didit["capabilities"] and "DECIDE" in didit["capabilities"]


async def test_unexpected_errors_are_masked_but_validation_errors_are_not(
    harness: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    invalid = await harness.gql_raw("{ session(id: 1) { nope } }")
    assert "nope" in invalid["errors"][0]["message"]

    async def boom(*_a: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(harness.gateway.service, "get", boom)
    with caplog.at_level("ERROR"):
        masked = await harness.gql_raw('{ session(id: "x") { id } }')
    error = masked["errors"][0]
    assert error["message"] == "Unexpected error."
    assert "secret internals" not in str(masked)
    correlation = error["extensions"]["correlationId"]
    logged = [r for r in caplog.records if getattr(r, "correlation_id", None) == correlation]
    assert logged and "secret internals" in str(logged[0].exc_info)


async def test_query_depth_is_limited(harness: Harness) -> None:
    deep = "{ providers " + "{ name " * 1 + "}" + " }"
    assert "errors" not in await harness.gql_raw(deep)
    too_many_aliases = "{ " + " ".join(f"a{i}: providers {{ name }}" for i in range(40)) + " }"
    assert "errors" in await harness.gql_raw(too_many_aliases)


async def test_graphiql_is_served_on_get(harness: Harness) -> None:
    response = await harness.client.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_steps_are_refused_by_a_vendor_without_steps(harness: Harness) -> None:
    payload = (
        await harness.gql(
            CREATE,
            {"input": {"provider": "didit", "steps": [{"type": "IDENTIFY", "gate": True}]}},
        )
    )["createSession"]
    assert payload["session"] is None
    assert payload["userErrors"][0]["code"] == "BAD_USER_INPUT"
    assert payload["userErrors"][0]["field"] == ["input", "steps"]


async def test_redaction_removes_personal_data_and_keeps_history(harness: Harness) -> None:
    from sqlmodel import select

    from gateway.store.models import VendorEventRow

    s = (await _create(harness, clientReference="forget-me"))["session"]
    await _simulate(harness, s["providerSessionId"], "open")
    await _simulate(harness, s["providerSessionId"], "approve")
    query = """
    mutation($id: ID!) { redactSession(id: $id) {
      session { id status raw verificationUrl metadata history { status } }
      userErrors { code message } } }
    """
    payload = (await harness.gql(query, {"id": s["id"]}))["redactSession"]
    assert payload["userErrors"] == []
    got = payload["session"]
    assert got["raw"] is None and got["verificationUrl"] is None and got["metadata"] is None
    assert [h["status"] for h in got["history"]] == ["CREATED", "IN_PROGRESS", "APPROVED"]
    async with harness.gateway.service.db_factory() as db:
        events = (await db.exec(select(VendorEventRow))).all()
    assert events and all(e.payload == {"redacted": True} for e in events)


async def test_redaction_works_locally_for_a_vendor_without_erasure(harness: Harness) -> None:
    created = await harness.gql(
        CREATE,
        {"input": {"provider": "uip", "clientReference": "u", "steps": [{"type": "IDENTIFY"}]}},
    )
    s = created["createSession"]["session"]
    adapter = harness.gateway.providers.adapter("uip")
    assert adapter is not None
    query = "mutation($id: ID!) { redactSession(id: $id) { session { raw } userErrors { code } } }"
    payload = (await harness.gql(query, {"id": s["id"]}))["redactSession"]
    assert payload["userErrors"] == [] and payload["session"]["raw"] is None
