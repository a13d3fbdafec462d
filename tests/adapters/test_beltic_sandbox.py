"""The Beltic sandbox emulator against Beltic's documented contract (docs/vendors/beltic.md,
What the sandbox emulates; the cassettes cite Beltic's own pages).

Beltic signs only its document webhooks; what every emulator must do is
`tests/adapters/sandbox_conformance.py`.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import yaml

from adapters.beltic.inferred import TRANSITION_REFUSED_STATUS
from adapters.beltic.sandbox import BelticSandbox
from adapters.beltic.sandbox.model import TIMESTAMP_ATTRIBUTES
from tests.adapters.sandbox_conformance import SandboxConformance
from tests.support.cassettes import interaction, request_json
from tests.support.sandbox_harness import FakeClock, SandboxHarness, harness_fixture
from tests.support.shapes import shape_drift

PUBLIC = "http://127.0.0.1:8000/sandbox/beltic"
#: How Beltic refuses a transition its flow does not allow (undocumented: inferred, one
#: constant shared with the adapter; docs/vendors/beltic.md, Errors).
REFUSED = TRANSITION_REFUSED_STATUS
WEBHOOK_URL = "http://gateway.test/webhooks/beltic"
CASSETTES = Path(__file__).resolve().parents[2] / "cassettes" / "beltic"
START = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)
STATUSES = (
    "created",
    "started",
    "pending",
    "completed",
    "failed",
    "marked_for_review",
    "approved",
    "declined",
    "expired",
)
#: A fresh session's timestamps, but for the three it is created with: all still null.
TIMESTAMPS = set(TIMESTAMP_ATTRIBUTES) - {"created_at", "updated_at", "expires_at"}


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- harness ----------------------------------------------------------------------------------


class Harness(SandboxHarness[BelticSandbox]):
    def key(self, which: str) -> dict[str, str]:
        return {"X-Api-Key": getattr(self.sandbox, which)}

    async def create_account(self, **attributes: Any) -> dict[str, Any]:
        attributes.setdefault("entity_type", "person")
        response = await self.client.post(
            "/v1/identity/accounts",
            json={"data": {"type": "account", "attributes": attributes}},
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["data"]

    async def create(
        self, account_id: str | None = None, *, external_id: str | None = None, **attributes: Any
    ) -> dict[str, Any]:
        """A session (and an account for it unless given); returns the resource object."""
        if account_id is None:
            account_id = (await self.create_account(external_id=external_id))["id"]
        attributes.setdefault("entity_type", "person")
        response = await self.client.post(
            "/v1/identity/sessions",
            json=session_body(account_id, **attributes),
            headers=self.headers,
        )
        assert response.status_code == 201, response.text
        return response.json()["data"]

    async def get(self, session_id: str) -> dict[str, Any]:
        response = await self.client.get(
            f"/v1/identity/sessions/{session_id}", headers=self.headers
        )
        assert response.status_code == 200, response.text
        return response.json()["data"]

    async def attributes(self, session_id: str) -> dict[str, Any]:
        return (await self.get(session_id))["attributes"]

    async def drive(self, session_id: str, *actions: str, step_s: float = 60) -> None:
        for action in actions:
            self.clock.advance(step_s)
            response = await self.simulate(session_id, action)
            assert response.status_code == 200, response.text

    async def act(
        self, session_id: str, verb: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            f"/v1/identity/sessions/{session_id}/{verb}", headers=headers or self.headers
        )

    async def patch(
        self, session_id: str, attributes: dict[str, Any], **data: Any
    ) -> httpx.Response:
        body = {"data": {"type": "session", "id": session_id, "attributes": attributes, **data}}
        return await self.client.patch(
            f"/v1/identity/sessions/{session_id}", json=body, headers=self.headers
        )


def session_body(account_id: str | None, **attributes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"type": "session", "attributes": attributes}
    if account_id is not None:
        data["relationships"] = {"account": {"data": {"type": "account", "id": account_id}}}
    return {"data": data}


Factory = Callable[..., Harness]


make = harness_fixture(
    Harness,
    BelticSandbox,
    start=START,
    public_base_url=PUBLIC,
    webhook_url=WEBHOOK_URL,
    headers=lambda sandbox: {"X-Api-Key": sandbox.api_key},
    base_url="http://beltic.test",
)


@pytest.fixture
def beltic(make: Factory) -> Harness:
    return make()


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    """A JSON:API error document; returns its first error object."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"} and body["errors"]
    for error in body["errors"]:
        assert error["status"] == str(status)
        assert (
            {"status", "code", "title", "detail"}
            <= set(error)
            <= {
                "status",
                "code",
                "title",
                "detail",
                "source",
            }
        )
        assert all(isinstance(error[k], str) and error[k] for k in ("code", "title", "detail"))
    if code is not None:
        assert body["errors"][0]["code"] == code
    return body["errors"][0]


def pointers(response: httpx.Response) -> list[str]:
    return [e.get("source", {}).get("pointer") for e in response.json()["errors"]]


# -- the handle, auth, routing ----------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-Api-Key": ""}, {"X-Api-Key": "sk_staging_wrong"}, {"Authorization": "Bearer x"}],
)
async def test_missing_or_wrong_api_key_is_401(beltic: Harness, headers: dict[str, str]) -> None:
    session = await beltic.create()
    sid = session["id"]
    calls = [
        beltic.client.post("/v1/identity/accounts", json={}, headers=headers),
        beltic.client.get("/v1/identity/accounts", headers=headers),
        beltic.client.post("/v1/identity/sessions", json={}, headers=headers),
        beltic.client.get("/v1/identity/sessions", headers=headers),
        beltic.client.get(f"/v1/identity/sessions/{sid}", headers=headers),
        beltic.client.patch(f"/v1/identity/sessions/{sid}", json={}, headers=headers),
        *(
            beltic.client.post(f"/v1/identity/sessions/{sid}/{verb}", headers=headers)
            for verb in ("approve", "decline", "expire", "redact")
        ),
    ]
    for call in calls:
        response = await call
        error = assert_error(response, 401, "unauthorized")
        assert error["title"] == "Unauthorized"
        assert beltic.sandbox.api_key not in response.text
    assert (await beltic.attributes(sid))["status"] == "created"


async def test_a_key_without_the_scope_is_403(beltic: Harness) -> None:
    session = await beltic.create()
    sid = session["id"]
    readonly = beltic.key("readonly_api_key")
    assert (
        await beltic.client.get(f"/v1/identity/sessions/{sid}", headers=readonly)
    ).status_code == 200
    assert (await beltic.client.get("/v1/identity/sessions", headers=readonly)).status_code == 200
    writes = [
        beltic.client.post("/v1/identity/accounts", json={}, headers=readonly),
        beltic.client.post("/v1/identity/sessions", json={}, headers=readonly),
        beltic.client.patch(f"/v1/identity/sessions/{sid}", json={}, headers=readonly),
        beltic.client.post(f"/v1/identity/sessions/{sid}/expire", headers=readonly),
        beltic.client.post(f"/v1/identity/sessions/{sid}/redact", headers=readonly),
    ]
    for call in writes:
        assert_error(await call, 403, "forbidden")
    # Scope before existence: an unknown session still answers 403 to the wrong key.
    error = assert_error(await beltic.act("sess_unknown", "approve", readonly), 403)
    assert "sessions:decide" in error["detail"]


async def test_unknown_routes_and_methods_are_json_api_errors(beltic: Harness) -> None:
    assert_error(await beltic.client.get("/v1/identity/nothing", headers=beltic.headers), 404)
    assert_error(await beltic.client.get("/v1/identity/sessions/", headers=beltic.headers), 404)
    assert_error(await beltic.client.put("/v1/identity/sessions", headers=beltic.headers), 405)
    assert_error(
        await beltic.client.get("/v1/identity/sessions/sess_nope", headers=beltic.headers),
        404,
        "not_found",
    )
    for verb in ("approve", "decline", "expire", "redact"):
        assert_error(await beltic.act("sess_nope", verb), 404, "not_found")


# -- accounts ---------------------------------------------------------------------------------


async def test_accounts_create_get_and_find_by_external_id(beltic: Harness) -> None:
    account = await beltic.create_account(
        external_id="user-1",
        person={"name": {"first": "Jane", "last": "Doe"}, "birth_date": "1990-05-15"},
        contact={"email": "jane@example.com"},
        identity_numbers=[{"number": "123-45-6789", "issuing_country_code": "US", "class": "ssn"}],
    )
    assert account["type"] == "account" and account["id"].startswith("acc_")
    attributes = account["attributes"]
    assert attributes["external_id"] == "user-1"
    assert attributes["status"] in {"active", "pending", "inactive", "suspended"}
    assert attributes["person"]["name"] == {"first": "Jane", "middle": None, "last": "Doe"}
    assert attributes["identity_numbers"][0]["created_at"] == stamp(START)
    assert attributes["created_at"] == stamp(START)
    other = await beltic.create_account(external_id="user-2", entity_type="business")

    got = await beltic.client.get(f"/v1/identity/accounts/{account['id']}", headers=beltic.headers)
    assert got.json()["data"] == account
    assert got.json()["links"]["self"].endswith(f"/v1/identity/accounts/{account['id']}")

    found = await beltic.client.get(
        "/v1/identity/accounts", params={"filter[external_id]": "user-2"}, headers=beltic.headers
    )
    assert [a["id"] for a in found.json()["data"]] == [other["id"]]
    none = await beltic.client.get(
        "/v1/identity/accounts", params={"filter[external_id]": "nobody"}, headers=beltic.headers
    )
    assert none.json()["data"] == []
    assert_error(
        await beltic.client.get("/v1/identity/accounts/acc_nope", headers=beltic.headers), 404
    )


async def test_account_external_id_is_unique(beltic: Harness) -> None:
    await beltic.create_account(external_id="user-1")
    response = await beltic.client.post(
        "/v1/identity/accounts",
        json={
            "data": {
                "type": "account",
                "attributes": {"external_id": "user-1", "entity_type": "person"},
            }
        },
        headers=beltic.headers,
    )
    error = assert_error(response, 409, "already_exists")
    assert error["source"] == {"pointer": "/data/attributes/external_id"}
    # Accounts without an external id are never in conflict.
    await beltic.create_account()
    await beltic.create_account()


@pytest.mark.parametrize(
    ("attributes", "pointer"),
    [
        ({}, "/data/attributes/entity_type"),
        ({"entity_type": "robot"}, "/data/attributes/entity_type"),
        ({"entity_type": "person", "status": "active"}, "/data/attributes/status"),
        ({"entity_type": "person", "nickname": "x"}, "/data/attributes/nickname"),
        ({"entity_type": "person", "external_id": 7}, "/data/attributes/external_id"),
        (
            {"entity_type": "person", "identity_numbers": [{"issuing_country_code": "usa"}]},
            "/data/attributes/identity_numbers/0/issuing_country_code",
        ),
    ],
)
async def test_account_validation_points_at_the_field(
    beltic: Harness, attributes: dict[str, Any], pointer: str
) -> None:
    response = await beltic.client.post(
        "/v1/identity/accounts",
        json={"data": {"type": "account", "attributes": attributes}},
        headers=beltic.headers,
    )
    assert_error(response, 422)
    assert pointers(response) == [pointer]


# -- create session ---------------------------------------------------------------------------


async def test_create_returns_the_documented_session(beltic: Harness) -> None:
    account = await beltic.create_account(external_id="user-1")
    response = await beltic.client.post(
        "/v1/identity/sessions",
        json=session_body(account["id"], entity_type="person"),
        headers=beltic.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"data", "links"}
    data = body["data"]
    assert set(data) == {"id", "type", "attributes", "relationships"}
    assert data["type"] == "session" and data["id"].startswith("sess_")
    assert body["links"]["self"] == f"http://beltic.test/v1/identity/sessions/{data['id']}"
    attributes = data["attributes"]
    assert attributes["status"] == "created"
    assert attributes["entity_type"] == "person"
    assert attributes["creator_type"] == "api_key"
    assert isinstance(attributes["creator_id"], str)
    assert beltic.sandbox.api_key not in response.text  # the creator is a key id, not the key
    assert attributes["created_at"] == attributes["updated_at"] == stamp(START)
    assert attributes["expires_at"] == stamp(START + timedelta(hours=24))
    assert all(attributes[name] is None for name in TIMESTAMPS)
    assert attributes["person"] == {
        "name": {"first": None, "middle": None, "last": None},
        "birth_date": None,
    }
    # Beltic has no hosted page: the documented session has no link to one (issue 13, item 11).
    assert not [k for k in attributes if "url" in k]
    assert data["relationships"]["account"] == {"data": {"type": "account", "id": account["id"]}}
    assert data["relationships"]["business"] == {"data": None}
    assert beltic.sink.requests == []  # creating is not pushed


async def test_create_takes_applicant_data_and_an_expiry(beltic: Harness) -> None:
    expires = START + timedelta(hours=2)
    session = await beltic.create(
        person={
            "name": {"first": "Jane", "middle": None, "last": "Doe"},
            "birth_date": "1990-05-15",
        },
        contact={"email": "jane@example.com", "phone": "+1234567890"},
        address={"line1": "1 Main St", "locality": "Austin", "country_code": "US"},
        identity_numbers={"number": "123", "issuing_country_code": "US", "class": "ssn"},
        expires_at=stamp(expires),
    )
    attributes = session["attributes"]
    assert attributes["person"]["name"]["first"] == "Jane"
    assert attributes["contact"] == {"email": "jane@example.com", "phone": "+1234567890"}
    assert attributes["address"]["line2"] is None and attributes["address"]["locality"] == "Austin"
    assert attributes["identity_numbers"]["created_at"] == stamp(START)
    assert attributes["expires_at"] == stamp(expires)
    sessions_ids = [(await beltic.create())["id"] for _ in range(2)]
    assert len(set(sessions_ids)) == 2


@pytest.mark.parametrize(
    ("data", "pointer"),
    [
        (
            {"type": "session", "attributes": {"entity_type": "person"}},
            "/data/relationships/account",
        ),
        (
            {
                "type": "session",
                "attributes": {"entity_type": "person"},
                "relationships": {"account": {"data": None}},
            },
            "/data/relationships/account/data",
        ),
        (
            {
                "type": "session",
                "attributes": {"entity_type": "person"},
                "relationships": {"account": {"data": {"type": "user", "id": "x"}}},
            },
            "/data/relationships/account/data/type",
        ),
    ],
)
async def test_create_without_an_account_is_422(
    beltic: Harness, data: dict[str, Any], pointer: str
) -> None:
    response = await beltic.client.post(
        "/v1/identity/sessions", json={"data": data}, headers=beltic.headers
    )
    assert_error(response, 422)
    assert pointers(response) == [pointer]


async def test_create_reports_every_problem_with_its_pointer(beltic: Harness) -> None:
    response = await beltic.client.post(
        "/v1/identity/sessions",
        json=session_body(
            None,
            entity_type="robot",
            status="approved",
            contact={"email": "not-an-email", "fax": "1"},
            person={"birth_date": "1990-02-30"},
        ),
        headers=beltic.headers,
    )
    assert_error(response, 422)
    assert sorted(pointers(response)) == sorted(
        [
            "/data/attributes/entity_type",
            "/data/attributes/status",
            "/data/attributes/contact/email",
            "/data/attributes/contact/fax",
            "/data/attributes/person/birth_date",
            "/data/relationships/account",
        ]
    )
    codes = {e["source"]["pointer"]: e["code"] for e in response.json()["errors"]}
    assert codes["/data/attributes/status"] == "read_only"
    assert codes["/data/attributes/contact/fax"] == "unknown_attribute"
    assert codes["/data/relationships/account"] == "required"


async def test_create_refusals_follow_json_api(beltic: Harness) -> None:
    account = await beltic.create_account()
    post = beltic.client.post
    unknown = await post(
        "/v1/identity/sessions",
        json=session_body("acc_nope", entity_type="person"),
        headers=beltic.headers,
    )
    error = assert_error(unknown, 404, "not_found")
    assert error["source"] == {"pointer": "/data/relationships/account/data/id"}
    wrong_type = await post(
        "/v1/identity/sessions",
        json={"data": {"type": "account", "attributes": {"entity_type": "person"}}},
        headers=beltic.headers,
    )
    assert assert_error(wrong_type, 409, "type_conflict")["source"] == {"pointer": "/data/type"}
    client_id = session_body(account["id"], entity_type="person")
    client_id["data"]["id"] = "sess_mine"
    assert_error(await post("/v1/identity/sessions", json=client_id, headers=beltic.headers), 403)
    for bad in ({}, {"data": []}, [1]):
        response = await post("/v1/identity/sessions", json=bad, headers=beltic.headers)
        assert assert_error(response, 400, "invalid_document")["source"] == {"pointer": "/data"}
    broken = await post(
        "/v1/identity/sessions",
        content=b"{nope",
        headers={**beltic.headers, "content-type": "application/json"},
    )
    assert_error(broken, 400, "invalid_json")
    form = await post("/v1/identity/sessions", data={"a": "b"}, headers=beltic.headers)
    assert_error(form, 415, "unsupported_media_type")
    jsonapi = await post(
        "/v1/identity/sessions",
        content=json.dumps(session_body(account["id"], entity_type="business")).encode(),
        headers={**beltic.headers, "content-type": "application/vnd.api+json"},
    )
    assert jsonapi.status_code == 201
    past = await post(
        "/v1/identity/sessions",
        json=session_body(account["id"], entity_type="person", expires_at=stamp(START)),
        headers=beltic.headers,
    )
    assert assert_error(past, 422)["source"] == {"pointer": "/data/attributes/expires_at"}


# -- list -------------------------------------------------------------------------------------


async def test_list_pages_newest_first_by_following_links_next(beltic: Harness) -> None:
    account = await beltic.create_account(external_id="user-1")
    created = []
    for _ in range(5):
        created.append((await beltic.create(account["id"]))["id"])
        beltic.clock.advance(1)
    first = await beltic.client.get(
        "/v1/identity/sessions",
        params={"page[size]": "2", "page[total]": "true"},
        headers=beltic.headers,
    )
    body = first.json()
    assert set(body) == {"data", "meta", "links"}
    assert [s["id"] for s in body["data"]] == created[:-3:-1]
    assert all(s["type"] == "session" and "attributes" in s for s in body["data"])
    assert body["meta"]["page"] == {"size": 2, "hasNext": True, "hasPrevious": False, "total": 5}
    assert set(body["links"]) == {"self", "first", "last", "next", "prev"}
    assert body["links"]["prev"] is None
    seen = [s["id"] for s in body["data"]]
    pages = [body]
    link = body["links"]["next"]
    while link:
        assert link.startswith("http://beltic.test/v1/identity/sessions?")
        page = (await beltic.client.get(link, headers=beltic.headers)).json()
        seen += [s["id"] for s in page["data"]]
        pages.append(page)
        link = page["links"]["next"]
    assert seen == created[::-1]
    assert [len(p["data"]) for p in pages] == [2, 2, 1]
    last = pages[-1]
    assert last["meta"]["page"]["hasNext"] is False and last["meta"]["page"]["hasPrevious"] is True
    assert parse_qs(urlsplit(last["links"]["next"] or "?").query) == {}
    # prev goes back one page; first / last land on the ends.
    back = (await beltic.client.get(pages[1]["links"]["prev"], headers=beltic.headers)).json()
    assert [s["id"] for s in back["data"]] == [s["id"] for s in pages[0]["data"]]
    tail = (await beltic.client.get(body["links"]["last"], headers=beltic.headers)).json()
    assert [s["id"] for s in tail["data"]] == created[1::-1]
    head = (await beltic.client.get(last["links"]["first"], headers=beltic.headers)).json()
    assert [s["id"] for s in head["data"]] == created[:-3:-1]
    # Filters are kept in the links.
    assert parse_qs(urlsplit(pages[1]["links"]["next"]).query)["page[size]"] == ["2"]


async def test_list_defaults_and_filters(beltic: Harness) -> None:
    one = await beltic.create_account(external_id="one")
    two = await beltic.create_account(external_id="two")
    mine = [(await beltic.create(one["id"]))["id"] for _ in range(16)]
    theirs = await beltic.create(two["id"], entity_type="business")
    await beltic.drive(mine[0], "open")
    page = (await beltic.client.get("/v1/identity/sessions", headers=beltic.headers)).json()
    assert len(page["data"]) == 15 and page["meta"]["page"]["size"] == 15  # documented default
    assert "total" not in page["meta"]["page"]

    async def ids(**params: str) -> list[str]:
        response = await beltic.client.get(
            "/v1/identity/sessions", params=params, headers=beltic.headers
        )
        assert response.status_code == 200, response.text
        return [s["id"] for s in response.json()["data"]]

    assert await ids(**{"filter[status]": "started"}) == [mine[0]]
    assert await ids(**{"filter[entity_type]": "business"}) == [theirs["id"]]
    assert await ids(**{"filter[account]": two["id"]}) == [theirs["id"]]
    assert len(await ids(**{"filter[account]": one["id"], "page[size]": "100"})) == 16
    assert await ids(**{"filter[session_device]": "dev_1"}) == []


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"page[size]": "0"}, "page[size]"),
        ({"page[size]": "101"}, "page[size]"),
        ({"page[size]": "ten"}, "page[size]"),
        ({"page[total]": "yes"}, "page[total]"),
        ({"page[after]": "not-a-cursor"}, "page[after]"),
        ({"page[after]": "x", "page[before]": "y"}, "page[before]"),
        ({"page[number]": "2"}, "page[number]"),
        ({"filter[status]": "Approved"}, "filter[status]"),
        ({"filter[external_id]": "user-1"}, "filter[external_id]"),
    ],
)
async def test_list_rejects_bad_parameters(
    beltic: Harness, params: dict[str, str], parameter: str
) -> None:
    response = await beltic.client.get(
        "/v1/identity/sessions", params=params, headers=beltic.headers
    )
    assert assert_error(response, 400, "invalid_parameter")["source"] == {"parameter": parameter}


# -- status flow and timestamps ---------------------------------------------------------------


async def test_the_documented_flow_sets_each_timestamp_when_entered(beltic: Harness) -> None:
    sid = (await beltic.create())["id"]
    beltic.clock.advance(60)
    assert (await beltic.simulate(sid, "open")).json()["status"] == "started"
    attributes = await beltic.attributes(sid)
    assert (
        attributes["started_at"] == attributes["updated_at"] == stamp(START + timedelta(minutes=1))
    )

    beltic.clock.advance(60)
    assert (await beltic.simulate(sid, "submit")).json()["status"] == "pending"
    attributes = await beltic.attributes(sid)
    assert attributes["updated_at"] == stamp(START + timedelta(minutes=2))  # pending has no *_at
    assert attributes["completed_at"] is None

    beltic.clock.advance(60)
    assert (await beltic.simulate(sid, "approve")).json()["status"] == "completed"
    attributes = await beltic.attributes(sid)
    assert attributes["completed_at"] == stamp(START + timedelta(minutes=3))
    assert attributes["decisioned_at"] is None
    assert attributes["behavior_analysis"]["completion_time_seconds"] == 120
    # The checks passed: the extracted identity is written back (auto_update_session).
    assert attributes["person"]["name"]["last"] == "Sandbox"

    beltic.clock.advance(60)
    approved = await beltic.act(sid, "approve")
    assert approved.status_code == 200
    attributes = approved.json()["data"]["attributes"]
    assert attributes["status"] == "approved"
    assert attributes["decisioned_at"] == stamp(START + timedelta(minutes=4))
    assert [attributes[k] for k in ("started_at", "completed_at")] == [
        stamp(START + timedelta(minutes=m)) for m in (1, 3)
    ]
    assert (
        attributes["failed_at"]
        is attributes["expired_at"]
        is attributes["marked_for_review_at"]
        is None
    )


async def test_review_passes_through_completed(beltic: Harness) -> None:
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit", "review")
    attributes = await beltic.attributes(sid)
    assert attributes["status"] == "marked_for_review"
    assert (
        attributes["completed_at"]
        == attributes["marked_for_review_at"]
        == stamp(START + timedelta(minutes=3))
    )
    later = (await beltic.create())["id"]
    await beltic.drive(later, "open", "submit", "approve", "review")
    attributes = await beltic.attributes(later)
    assert attributes["status"] == "marked_for_review"
    assert attributes["completed_at"] < attributes["marked_for_review_at"]
    beltic.clock.advance(60)
    declined = await beltic.act(later, "decline")
    assert declined.json()["data"]["attributes"]["status"] == "declined"
    assert declined.json()["data"]["attributes"]["decisioned_at"] == stamp(beltic.clock.now)


async def test_checks_failing_leave_the_decision_to_the_integrator(beltic: Harness) -> None:
    """`decline` = Beltic's checks failed: the session is `completed` with a failed
    verification; the integrator declines it (decideSession)."""
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit", "decline")
    session = await beltic.get(sid)
    assert session["attributes"]["status"] == "completed"
    assert session["attributes"]["person"]["name"]["first"] is None  # nothing extracted
    (verification,) = session["relationships"]["verifications"]["data"]
    got = await beltic.client.get(
        f"/v1/identity/verifications/{verification['id']}", headers=beltic.headers
    )
    attributes = got.json()["data"]["attributes"]
    assert attributes["status"] == "failed"
    failed = [c for c in attributes["checks"] if c["status"] == "failed"]
    assert failed and set(failed[0]) == {"name", "status", "reasons", "requirement", "metadata"}
    declined = await beltic.act(sid, "decline")
    assert declined.json()["data"]["attributes"]["status"] == "declined"


async def test_fail_is_a_processing_failure(beltic: Harness) -> None:
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit", "fail")
    attributes = await beltic.attributes(sid)
    assert attributes["status"] == "failed"
    assert attributes["failed_at"] == stamp(START + timedelta(minutes=3))
    assert attributes["completed_at"] is None


@pytest.mark.parametrize("steps", [(), ("open",), ("open", "submit")])
async def test_simulated_expiry_before_completion(beltic: Harness, steps: tuple[str, ...]) -> None:
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, *steps, "expire")
    attributes = await beltic.attributes(sid)
    assert attributes["status"] == "expired"
    assert attributes["expired_at"] == stamp(START + timedelta(minutes=len(steps) + 1))


async def test_sessions_expire_on_their_own_before_completion(beltic: Harness) -> None:
    idle = (await beltic.create())["id"]
    opened = (await beltic.create())["id"]
    done = (await beltic.create())["id"]
    short = (await beltic.create(expires_at=stamp(START + timedelta(minutes=30))))["id"]
    await beltic.drive(opened, "open")
    await beltic.drive(done, "open", "submit", "approve")
    beltic.clock.advance(3600)
    attributes = await beltic.attributes(short)
    assert (attributes["status"], attributes["expired_at"]) == (
        "expired",
        stamp(START + timedelta(minutes=30)),
    )
    assert (await beltic.attributes(idle))["status"] == "created"
    beltic.clock.advance(24 * 3600)
    deadline = stamp(START + timedelta(hours=24))
    for sid in (idle, opened):
        attributes = await beltic.attributes(sid)
        assert (attributes["status"], attributes["expired_at"]) == ("expired", deadline)
    assert (await beltic.attributes(done))["status"] == "completed"  # completed: not expired
    listed = await beltic.client.get(
        "/v1/identity/sessions", params={"filter[status]": "expired"}, headers=beltic.headers
    )
    assert {s["id"] for s in listed.json()["data"]} == {idle, opened, short}


# -- approve / decline ------------------------------------------------------------------------

#: Control actions that bring a new session to each status.
ROUTES = {
    "created": (),
    "started": ("open",),
    "pending": ("open", "submit"),
    "completed": ("open", "submit", "approve"),
    "marked_for_review": ("open", "submit", "review"),
    "failed": ("open", "submit", "fail"),
    "expired": ("expire",),
}


async def reach(beltic: Harness, status: str) -> str:
    """A session in `status` (approved / declined through the API)."""
    if status in ("approved", "declined"):
        sid = await reach(beltic, "completed")
        verb = "approve" if status == "approved" else "decline"
        assert (await beltic.act(sid, verb)).status_code == 200
        return sid
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, *ROUTES[status])
    assert (await beltic.attributes(sid))["status"] == status
    return sid


@pytest.mark.parametrize("verb", ["approve", "decline"])
@pytest.mark.parametrize("status", ["completed", "marked_for_review"])
async def test_decide_from_completed_or_review(beltic: Harness, verb: str, status: str) -> None:
    sid = await reach(beltic, status)
    beltic.clock.advance(30)
    response = await beltic.act(sid, verb)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"data", "links"} and body["data"]["id"] == sid
    attributes = body["data"]["attributes"]
    assert attributes["status"] == ("approved" if verb == "approve" else "declined")
    assert attributes["decisioned_at"] == stamp(beltic.clock.now)
    assert (await beltic.attributes(sid)) == attributes
    again = await beltic.act(sid, verb)
    assert "final" in assert_error(again, REFUSED, "invalid_status_transition")["detail"]


@pytest.mark.parametrize("verb", ["approve", "decline"])
@pytest.mark.parametrize(
    "status", ["created", "started", "pending", "failed", "expired", "approved", "declined"]
)
async def test_decide_from_any_other_status_is_refused(
    beltic: Harness, verb: str, status: str
) -> None:
    sid = await reach(beltic, status)
    before = await beltic.attributes(sid)
    error = assert_error(await beltic.act(sid, verb), REFUSED, "invalid_status_transition")
    assert status in error["detail"]
    assert await beltic.attributes(sid) == before


@pytest.mark.parametrize("verb", ["approve", "decline"])
@pytest.mark.parametrize("which", ["no_decide_api_key", "readonly_api_key"])
async def test_decide_needs_the_sessions_decide_scope(
    beltic: Harness, verb: str, which: str
) -> None:
    sid = await reach(beltic, "completed")
    response = await beltic.act(sid, verb, beltic.key(which))
    error = assert_error(response, 403, "forbidden")
    assert "sessions:decide" in error["detail"]
    assert (await beltic.attributes(sid))["status"] == "completed"
    # The same key may still do everything else it has the scope for.
    if which == "no_decide_api_key":
        assert (await beltic.act(sid, "expire", beltic.key(which))).status_code == 200


async def test_decide_accepts_an_empty_or_json_body_only(beltic: Harness) -> None:
    sid = await reach(beltic, "completed")
    broken = await beltic.client.post(
        f"/v1/identity/sessions/{sid}/approve",
        content=b"{nope",
        headers={**beltic.headers, "content-type": "application/json"},
    )
    assert_error(broken, 400, "invalid_json")
    bad_include = await beltic.client.post(
        f"/v1/identity/sessions/{sid}/approve", params={"include": "device"}, headers=beltic.headers
    )
    assert_error(bad_include, 400, "invalid_parameter")
    assert (await beltic.attributes(sid))["status"] == "completed"  # refused before any change
    ok = await beltic.client.post(
        f"/v1/identity/sessions/{sid}/approve", json={"meta": {}}, headers=beltic.headers
    )
    assert ok.status_code == 200


# -- expire, redact, update -------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", ["created", "started", "pending", "completed", "marked_for_review"]
)
async def test_expire_any_non_final_session(beltic: Harness, status: str) -> None:
    sid = await reach(beltic, status)
    beltic.clock.advance(10)
    response = await beltic.act(sid, "expire")
    assert response.status_code == 200
    attributes = response.json()["data"]["attributes"]
    assert (attributes["status"], attributes["expired_at"]) == ("expired", stamp(beltic.clock.now))


@pytest.mark.parametrize("status", ["approved", "declined", "expired", "failed"])
async def test_expire_a_final_session_is_refused(beltic: Harness, status: str) -> None:
    sid = await reach(beltic, status)
    assert_error(await beltic.act(sid, "expire"), REFUSED, "invalid_status_transition")
    assert (await beltic.attributes(sid))["status"] == status


async def test_redact_strips_personal_data(beltic: Harness) -> None:
    sid = (
        await beltic.create(
            person={"name": {"first": "Jane", "last": "Doe"}, "birth_date": "1990-05-15"},
            contact={"email": "jane@example.com", "phone": "+1234567890"},
            address={"line1": "1 Main St", "country_code": "US"},
            identity_numbers={"number": "123-45-6789", "issuing_country_code": "US"},
        )
    )["id"]
    await beltic.drive(sid, "open", "submit", "approve")
    await beltic.act(sid, "approve")
    beltic.clock.advance(60)
    response = await beltic.act(sid, "redact")
    assert response.status_code == 200
    text = response.text
    for secret in ("Jane", "jane@example.com", "+1234567890", "1 Main St", "123-45-6789"):
        assert secret not in text
    attributes = response.json()["data"]["attributes"]
    assert attributes["redacted_at"] == stamp(beltic.clock.now)
    assert attributes["status"] == "approved"  # redaction is not a status change
    assert attributes["person"] == {
        "name": {"first": None, "middle": None, "last": None},
        "birth_date": None,
    }
    assert set(attributes["contact"].values()) == {None}
    assert attributes["behavior_analysis"]["completion_time_seconds"] == 0
    session = response.json()["data"]
    (doc,) = session["relationships"]["documents"]["data"]
    document = await beltic.client.get(
        f"/v1/identity/documents/idvs/{doc['id']}", headers=beltic.headers
    )
    assert document.json()["data"]["attributes"]["files"] == []
    # Idempotent: the first redaction time stays.
    beltic.clock.advance(60)
    again = await beltic.act(sid, "redact")
    assert again.json()["data"]["attributes"]["redacted_at"] == attributes["redacted_at"]


async def test_a_redacted_session_takes_no_new_personal_data(beltic: Harness) -> None:
    sid = (await beltic.create())["id"]
    await beltic.act(sid, "redact")
    response = await beltic.patch(sid, {"contact": {"email": "jane@example.com"}})
    assert_error(response, REFUSED, "session_redacted")


async def test_update_replaces_the_given_attributes(beltic: Harness) -> None:
    sid = (await beltic.create(contact={"email": "old@example.com", "phone": "+1234567890"}))["id"]
    beltic.clock.advance(60)
    response = await beltic.patch(
        sid,
        {
            "person": {"name": {"first": "Jane", "last": "Doe"}},
            "identity_numbers": {"number": "9", "issuing_country_code": "GB", "class": "nino"},
        },
    )
    assert response.status_code == 200, response.text
    attributes = response.json()["data"]["attributes"]
    assert attributes["person"]["name"] == {"first": "Jane", "middle": None, "last": "Doe"}
    assert attributes["contact"]["email"] == "old@example.com"  # not sent: unchanged
    assert attributes["identity_numbers"]["number"] == "9"
    assert attributes["identity_numbers"]["created_at"] == stamp(beltic.clock.now)
    assert attributes["updated_at"] == stamp(beltic.clock.now)
    assert attributes["status"] == "created"
    beltic.clock.advance(60)
    cleared = await beltic.patch(sid, {"contact": None, "identity_numbers": {"number": "10"}})
    attributes = cleared.json()["data"]["attributes"]
    assert attributes["contact"] == {"email": None, "phone": None}
    assert attributes["identity_numbers"]["created_at"] == stamp(START + timedelta(minutes=1))
    assert attributes["identity_numbers"]["updated_at"] == stamp(beltic.clock.now)
    assert await beltic.attributes(sid) == attributes


async def test_update_refusals(beltic: Harness) -> None:
    sid = (await beltic.create())["id"]
    readonly = await beltic.patch(sid, {"status": "approved", "entity_type": "business"})
    assert_error(readonly, 422, "read_only")
    assert sorted(pointers(readonly)) == ["/data/attributes/entity_type", "/data/attributes/status"]
    unknown = await beltic.patch(sid, {"metadata": {"plan": "gold"}})
    assert pointers(unknown) == ["/data/attributes/metadata"]
    other_id = await beltic.client.patch(
        f"/v1/identity/sessions/{sid}",
        json={"data": {"type": "session", "id": "sess_other", "attributes": {}}},
        headers=beltic.headers,
    )
    assert assert_error(other_id, 409, "id_conflict")["source"] == {"pointer": "/data/id"}
    no_id = await beltic.client.patch(
        f"/v1/identity/sessions/{sid}",
        json={"data": {"type": "session", "attributes": {"contact": {"phone": "+1234567890"}}}},
        headers=beltic.headers,
    )
    assert no_id.status_code == 200
    final = await reach(beltic, "approved")
    refused = await beltic.patch(final, {"contact": None})
    assert_error(refused, REFUSED, "invalid_status_transition")
    assert_error(await beltic.patch("sess_nope", {}), 404)


# -- no session webhooks; document webhooks ---------------------------------------------------


async def test_status_changes_are_never_pushed(beltic: Harness) -> None:
    """Beltic has no session webhooks, only document-status ones
    (https://docs.beltic.com/guides/managing-webhooks): the gateway learns every status by
    polling."""
    for status in ("approved", "declined", "expired", "failed", "marked_for_review"):
        await reach(beltic, status)
    sid = await reach(beltic, "completed")
    await beltic.patch(sid, {"contact": {"email": "jane@example.com"}})
    await beltic.act(sid, "redact")
    await beltic.act(sid, "expire")
    # Only document-status events went out: never a session resource.
    assert beltic.sink.bodies
    assert all(body["data"]["type"] == "document/idv" for body in beltic.sink.bodies)
    count = len(beltic.sink.requests)
    # Opening, submitting, expiring, deciding: nothing at all.
    sid = (await beltic.create())["id"]
    for action in ("open", "submit", "expire"):
        response = await beltic.simulate(sid, action)
        assert response.json()["webhook"] == {"delivered": False, "status_code": None}
        assert response.json()["document_webhook"] is None
    assert_error(await beltic.act(sid, "approve"), REFUSED)
    assert len(beltic.sink.requests) == count


def assert_signed_by_beltic(request: httpx.Request, sandbox: BelticSandbox) -> dict[str, Any]:
    expected = hmac.new(
        sandbox.webhook_secret.encode(), request.content, hashlib.sha256
    ).hexdigest()
    assert request.headers["x-webhook-signature"] == expected
    assert request.headers["x-webhook-token"] == sandbox.webhook_token
    assert request.headers["content-type"] == "application/json"
    assert str(request.url) == WEBHOOK_URL and request.method == "POST"
    return json.loads(request.content)


@pytest.mark.parametrize(
    ("action", "status"),
    [
        ("approve", "processed"),
        ("decline", "processed"),
        ("review", "processed"),
        ("fail", "failed"),
    ],
)
async def test_a_processed_document_is_a_signed_document_webhook(
    beltic: Harness, action: str, status: str
) -> None:
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit")
    assert beltic.sink.requests == []  # `submitted` is not a subscribed status
    response = await beltic.simulate(sid, action)
    assert response.json()["document_webhook"] == {"delivered": True, "status_code": 200}
    assert response.json()["webhook"] == {"delivered": False, "status_code": None}
    (request,) = beltic.sink.requests
    body = assert_signed_by_beltic(request, beltic.sandbox)
    assert set(body) == {"data"}
    data = body["data"]
    assert data["type"] == "document/idv" and data["id"].startswith("doc_")
    assert data["attributes"]["status"] == status
    assert data["attributes"]["processed_at"] == stamp(beltic.clock.now)
    assert data["relationships"]["session"] == {"data": {"type": "session", "id": sid}}
    # The session was updated before the hint went out: a poll now sees the new status.
    session = await beltic.get(sid)
    assert session["attributes"]["status"] != "pending"
    assert session["relationships"]["documents"]["data"] == [
        {"type": "document/idv", "id": data["id"]}
    ]


async def test_document_webhooks_are_retried_then_given_up(beltic: Harness) -> None:
    beltic.sink.script = [500, httpx.ConnectError("down"), 200]
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit")
    response = await beltic.simulate(sid, "approve")
    assert response.json()["document_webhook"] == {"delivered": False, "status_code": 500}
    await beltic.sink.wait_for(3)
    assert len({r.content for r in beltic.sink.requests}) == 1  # the same event each time
    other = (await beltic.create())["id"]
    await beltic.drive(other, "open", "submit")
    beltic.sink.script = [503, 503, 503]
    await beltic.simulate(other, "fail")
    await beltic.sink.wait_for(6)
    await asyncio.sleep(0.1)
    assert len(beltic.sink.requests) == 6  # 1 + the two configured retries


async def test_no_webhook_url_means_no_document_webhook(make: Factory) -> None:
    beltic = make(webhook_url="")
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit")
    response = await beltic.simulate(sid, "approve")
    assert response.json()["document_webhook"] == {"delivered": False, "status_code": None}
    assert beltic.sink.requests == []


# -- documents and verifications --------------------------------------------------------------


async def test_the_flow_leaves_documents_and_verifications(beltic: Harness) -> None:
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit")
    session = await beltic.get(sid)
    (doc,) = session["relationships"]["documents"]["data"]
    assert session["relationships"]["verifications"]["data"] == []
    document = (
        await beltic.client.get(f"/v1/identity/documents/idvs/{doc['id']}", headers=beltic.headers)
    ).json()["data"]
    assert document["attributes"]["status"] == "submitted"
    assert document["attributes"]["submitted_at"] == stamp(beltic.clock.now)
    assert document["attributes"]["processed_at"] is None
    assert document["relationships"]["session"]["data"]["id"] == sid
    await beltic.drive(sid, "approve")
    verifications = await beltic.client.get(
        "/v1/identity/verifications", params={"filter[session]": sid}, headers=beltic.headers
    )
    (verification,) = verifications.json()["data"]
    assert verification["type"] == "verification/idv"
    assert verification["attributes"]["status"] == "passed"
    assert verification["relationships"]["document"]["data"]["id"] == doc["id"]
    assert_error(
        await beltic.client.get("/v1/identity/verifications/ver_nope", headers=beltic.headers), 404
    )
    assert_error(
        await beltic.client.get("/v1/identity/documents/idvs/doc_nope", headers=beltic.headers), 404
    )


# -- the control endpoint ---------------------------------------------------------------------


async def test_simulate_answers_the_documented_shape(beltic: Harness) -> None:
    sid = (await beltic.create())["id"]
    response = await beltic.simulate(sid, "open")
    assert response.status_code == 200
    assert response.json() == {
        "session_id": sid,
        "status": "started",
        "webhook": {"delivered": False, "status_code": None},
        "document_webhook": None,
    }


# -- no hosted page -----------------------------------------------------------------------------


async def test_there_is_no_hosted_page(beltic: Harness) -> None:
    """Issue 13, item 11: Beltic has no hosted flow (the integrator uploads documents and runs
    verifications, https://docs.beltic.com/guides/identity/overview), so neither has its
    sandbox: no link on a session, no page behind any path."""
    session = await beltic.create()
    assert not [k for k in session["attributes"] if "url" in k]
    for path in (f"/hosted/{session['id']}", "/hosted/AAAA", f"/sessions/{session['id']}"):
        assert (await beltic.client.get(path)).status_code == 404
        assert (await beltic.client.post(path, data={"action": "open"})).status_code in (404, 405)
    assert (await beltic.attributes(session["id"]))["status"] == "created"


async def test_the_control_endpoint_works_under_the_gateway_mount(beltic: Harness) -> None:
    """What tests and the console's note use instead of a page: the control endpoint, under
    the gateway's mount (`/sandbox/beltic/sessions/{id}/simulate`)."""
    async with beltic.through_the_gateway() as client:
        account = await beltic.create_account()
        created = await client.post(
            "/sandbox/beltic/v1/identity/sessions",
            json=session_body(account["id"], entity_type="person"),
            headers=beltic.headers,
        )
        assert created.status_code == 201
        body = created.json()
        assert body["links"]["self"].startswith("http://127.0.0.1:8000/sandbox/beltic/v1/identity/")
        sid = body["data"]["id"]
        for action, status in (("open", "started"), ("submit", "pending")):
            answer = await client.post(
                f"/sandbox/beltic/sessions/{sid}/simulate", json={"action": action}
            )
            assert (answer.status_code, answer.json()["status"]) == (200, status)
        listed = await client.get(
            "/sandbox/beltic/v1/identity/sessions",
            params={"page[size]": "1"},
            headers=beltic.headers,
        )
        assert listed.json()["links"]["first"].startswith(
            "http://127.0.0.1:8000/sandbox/beltic/v1/identity/sessions?"
        )


# -- persistence ------------------------------------------------------------------------------


async def test_state_survives_a_restart(make: Factory, tmp_path: Path) -> None:
    state = tmp_path / "state" / "beltic.json"
    clock = FakeClock(START)
    first = make(state_path=str(state), clock=clock)
    session = await first.create(external_id="user-1", contact={"email": "jane@example.com"})
    sid = session["id"]
    await first.drive(sid, "open", "submit", "review")
    before = await first.get(sid)
    await first.sandbox.aclose()
    saved = json.loads(state.read_text())
    assert saved["sessions"] and saved["accounts"]
    assert [p.name for p in state.parent.iterdir()] == ["beltic.json"]  # no temp files left

    second = make(state_path=str(state), clock=clock)
    assert second.sandbox.api_key != first.sandbox.api_key
    assert await second.get(sid) == before
    found = await second.client.get(
        "/v1/identity/accounts", params={"filter[external_id]": "user-1"}, headers=second.headers
    )
    account_id = found.json()["data"][0]["id"]
    assert account_id == before["relationships"]["account"]["data"]["id"]
    assert (await second.attributes(sid))["status"] == "marked_for_review"
    assert (await second.act(sid, "approve")).status_code == 200
    newer = await second.create(account_id)
    listed = await second.client.get("/v1/identity/sessions", headers=second.headers)
    assert [s["id"] for s in listed.json()["data"]] == [newer["id"], sid]
    third = make(state_path=str(state), clock=clock)
    assert (await third.attributes(sid))["status"] == "approved"


async def test_a_state_file_from_the_hosted_page_days_still_loads(
    make: Factory, tmp_path: Path
) -> None:
    """Sessions saved when the sandbox still had a hosted page carry its `token`: they load
    without it (the key is dropped, the session kept)."""
    state = tmp_path / "beltic.json"
    first = make(state_path=str(state))
    sid = (await first.create())["id"]
    await first.sandbox.aclose()
    saved = json.loads(state.read_text())
    saved["sessions"][0]["token"] = "a-capability-token-of-old"
    state.write_text(json.dumps(saved))
    second = make(state_path=str(state))
    assert (await second.attributes(sid))["status"] == "created"
    assert not (tmp_path / "beltic.json.corrupt").exists()


# -- documented shapes (the cassettes hold the vendor's documented payloads) ---------------------

#: Keys the emulator sends beyond the cassettes' examples, each documented on another of
#: Beltic's pages (named) or inferred in the emulator. Anything else is drift.
DOCUMENTED_EXTRAS = frozenset(
    {
        "$.links",  # JSON:API top-level links (the list envelope; `self` on single documents)
        "$.data.relationships.documents",  # the sessions guide's relationships: Documents,
        "$.data.relationships.verifications",  # Verifications
        "$.data[].relationships.documents",
        "$.data[].relationships.verifications",
        "$.included[].attributes.updated_at",  # verification resource timestamps (inferred)
        "$.data.attributes.files",  # the documents guide's response attributes
        "$.data.attributes.front_side",
        "$.data.attributes.back_side",
        "$.data.attributes.portrait",
        "$.data.attributes.signature",
        "$.data.attributes.created_at",
    }
)


def cassette(name: str, index: int = 0) -> tuple[dict[str, Any], Any]:
    return interaction(CASSETTES, name, index)


def applicant_data(documented: dict[str, Any]) -> dict[str, Any]:
    """The documented session's personal data, as a create/update request carries it."""
    attributes = documented["data"]["attributes"]
    data = {key: attributes[key] for key in ("person", "contact", "address")}
    numbers = attributes.get("identity_numbers")
    if numbers:
        data["identity_numbers"] = {
            k: v for k, v in numbers.items() if k not in ("created_at", "updated_at")
        }
    return data


async def documented_session(beltic: Harness, documented: dict[str, Any], *route: str) -> str:
    """A sandbox session with the documented session's data, driven along `route`."""
    sid = (await beltic.create(**applicant_data(documented)))["id"]
    await beltic.drive(sid, *route)
    return sid


async def test_create_matches_the_documented_response(beltic: Harness) -> None:
    request, documented = cassette("create_session_201.yaml")
    account = await beltic.create_account()
    body = request_json(request)
    body["data"]["relationships"]["account"]["data"]["id"] = account["id"]
    response = await beltic.client.post("/v1/identity/sessions", json=body, headers=beltic.headers)
    assert response.status_code == 201
    assert (
        response.json()["data"]["attributes"]["status"]
        == documented["data"]["attributes"]["status"]
    )
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []


async def test_get_session_matches_the_documented_response(beltic: Harness) -> None:
    request, documented = cassette("get_session_200.yaml")
    assert request["method"] == "GET"
    status = documented["data"]["attributes"]["status"]
    sid = await documented_session(beltic, documented, *ROUTES[status])
    response = await beltic.client.get(f"/v1/identity/sessions/{sid}", headers=beltic.headers)
    assert response.json()["data"]["attributes"]["status"] == status
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []


@pytest.mark.parametrize(
    ("name", "verb"), [("approve_200.yaml", "approve"), ("decline_200.yaml", "decline")]
)
async def test_decisions_match_the_documented_response(
    beltic: Harness, name: str, verb: str
) -> None:
    request, documented = cassette(name)
    assert request["method"] == "POST" and request["uri"].endswith(f"/{verb}")
    assert request["body"] is None  # no body is documented: the sandbox needs none either
    sid = await documented_session(beltic, documented, *ROUTES["completed"])
    response = await beltic.act(sid, verb)
    assert response.status_code == 200
    attributes = response.json()["data"]["attributes"]
    assert attributes["status"] == documented["data"]["attributes"]["status"]
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []


async def test_expire_matches_the_documented_response(beltic: Harness) -> None:
    request, documented = cassette("expire_200.yaml")
    assert request["method"] == "POST" and request["uri"].endswith("/expire")
    sid = await documented_session(beltic, documented, "open")  # the cassette's: a started one
    response = await beltic.act(sid, "expire")
    assert response.status_code == 200
    assert response.json()["data"]["attributes"]["status"] == "expired"
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []


async def test_update_and_redact_match_the_documented_responses(beltic: Harness) -> None:
    request, documented = cassette("update_200.yaml")
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, *ROUTES[documented["data"]["attributes"]["status"]])
    body = request_json(request)
    body["data"]["id"] = sid
    response = await beltic.client.patch(
        f"/v1/identity/sessions/{sid}", json=body, headers=beltic.headers
    )
    assert response.status_code == 200, response.text
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []

    _, documented = cassette("redact_200.yaml")
    assert documented["data"]["attributes"]["status"] == "declined"
    sid = await documented_session(beltic, documented, *ROUTES["marked_for_review"])
    await beltic.act(sid, "decline")
    response = await beltic.act(sid, "redact")
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []


async def test_list_matches_the_documented_response(beltic: Harness) -> None:
    request, documented = cassette("list_sessions_200.yaml")
    size = parse_qs(urlsplit(request["uri"]).query)["page[size]"][0]
    # Enough for the documented second page to have a next page as well.
    ids = [(await beltic.create())["id"] for _ in range(2 * int(size) + 1)]
    await beltic.drive(ids[-1], "open")  # the documented first item is a started session
    await beltic.act(ids[-1 - int(size)], "expire")  # ... and the second page's an expired one
    response = await beltic.client.get(
        "/v1/identity/sessions", params={"page[size]": size}, headers=beltic.headers
    )
    assert shape_drift(documented, response.json(), extras=DOCUMENTED_EXTRAS) == []
    # The page the documented `links.next` leads to has the same shape too.
    _, second = cassette("list_sessions_200.yaml", 1)
    following = await beltic.client.get(response.json()["links"]["next"], headers=beltic.headers)
    assert shape_drift(second, following.json(), extras=DOCUMENTED_EXTRAS) == []


async def test_import_pages_match_the_documented_ones(beltic: Harness) -> None:
    """list_page_200: the pages `kyc-gateway import` walks. The first page and the one its
    `links.next` names have the documented shape, newest first, and that link is a page of the
    list asked for by its `page[after]` cursor (what the adapter's `list_page` keeps)."""
    request, first_documented = cassette("list_page_200.yaml")
    _, last_documented = cassette("list_page_200.yaml", 1)
    documented = [*first_documented["data"], *last_documented["data"]]
    size = parse_qs(urlsplit(request["uri"]).query)["page[size]"][0]
    made = [await reach(beltic, s["attributes"]["status"]) for s in reversed(documented)]
    first = await beltic.client.get(
        "/v1/identity/sessions", params={"page[size]": size}, headers=beltic.headers
    )
    assert shape_drift(first_documented, first.json(), extras=DOCUMENTED_EXTRAS) == []
    link = first.json()["links"]["next"]
    target = urlsplit(link)
    assert (target.scheme, target.netloc, target.path) == (
        "http",
        "beltic.test",
        "/v1/identity/sessions",
    )
    assert set(parse_qs(target.query)) == {"page[size]", "page[after]"}
    last = await beltic.client.get(link, headers=beltic.headers)
    assert shape_drift(last_documented, last.json(), extras=DOCUMENTED_EXTRAS) == []
    assert last.json()["links"]["next"] is None
    listed = [*first.json()["data"], *last.json()["data"]]
    assert [s["id"] for s in listed] == made[::-1]
    assert [s["attributes"]["status"] for s in listed] == [
        s["attributes"]["status"] for s in documented
    ]


async def test_compound_document_matches_the_documented_one(beltic: Harness) -> None:
    """get_session_200's second interaction: a session declined after a review, with its
    verification and account as `included` resources (the sandbox: `?include=`)."""
    _, documented = cassette("get_session_200.yaml", 1)
    account = next(i for i in documented["included"] if i["type"] == "account")
    account_id = (
        await beltic.create_account(
            **{k: account["attributes"][k] for k in ("external_id", "person", "contact")}
        )
    )["id"]
    sid = (await beltic.create(account_id, **applicant_data(documented)))["id"]
    await beltic.drive(sid, "open", "submit", "decline", "review")
    await beltic.act(sid, "decline")
    response = await beltic.client.get(
        f"/v1/identity/sessions/{sid}",
        params={"include": "verifications,account"},
        headers=beltic.headers,
    )
    body = response.json()
    assert body["data"]["attributes"]["status"] == "declined"
    skeleton = {k: v for k, v in documented.items() if k != "included"}
    actual = {k: v for k, v in body.items() if k != "included"}
    assert shape_drift(skeleton, actual, extras=DOCUMENTED_EXTRAS) == []
    assert [i["type"] for i in body["included"]] == [i["type"] for i in documented["included"]]
    for doc_item, item in zip(documented["included"], body["included"], strict=True):
        assert shape_drift(doc_item, item, "$.included[]", DOCUMENTED_EXTRAS) == []
    bad = await beltic.client.get(
        f"/v1/identity/sessions/{sid}", params={"include": "device"}, headers=beltic.headers
    )
    assert assert_error(bad, 400)["source"] == {"parameter": "include"}


async def test_error_documents_match_the_documented_ones(beltic: Harness) -> None:
    _, forbidden = cassette("error_403_decide.yaml")
    sid = await reach(beltic, "completed")
    response = await beltic.act(sid, "approve", beltic.key("no_decide_api_key"))
    assert response.status_code == 403
    assert shape_drift(forbidden, response.json()) == []

    request, missing = cassette("error_404.yaml")
    response = await beltic.client.get(urlsplit(request["uri"]).path, headers=beltic.headers)
    assert response.status_code == 404
    assert shape_drift(missing, response.json()) == []

    # The documented 422s, replayed: same status, same pointer.
    request, invalid = cassette("error_422.yaml", 0)
    response = await beltic.client.post(
        "/v1/identity/accounts", json=request_json(request), headers=beltic.headers
    )
    assert response.status_code == 422
    assert shape_drift(invalid, response.json()) == []
    assert pointers(response) == [invalid["errors"][0]["source"]["pointer"]]

    request, invalid = cassette("error_422.yaml", 2)
    sid = (await beltic.create())["id"]
    body = request_json(request)
    body["data"]["id"] = sid
    response = await beltic.client.patch(
        f"/v1/identity/sessions/{sid}", json=body, headers=beltic.headers
    )
    assert response.status_code == 422
    assert shape_drift(invalid, response.json()) == []
    assert pointers(response) == [invalid["errors"][0]["source"]["pointer"]]

    # Deciding twice: the refused transition (issue 13, item 9), no pointer.
    _, refused = cassette("error_422.yaml", 3)
    decided = await reach(beltic, "declined")
    response = await beltic.act(decided, "decline")
    assert response.status_code == REFUSED == int(refused["errors"][0]["status"])
    assert shape_drift(refused, response.json()) == []


async def test_document_webhook_matches_the_documented_payload(beltic: Harness) -> None:
    data = yaml.safe_load((CASSETTES / "webhook_document_processed.yaml").read_text())
    documented = json.loads(data["request"]["body"])
    sid = (await beltic.create())["id"]
    await beltic.drive(sid, "open", "submit", "approve")
    (request,) = beltic.sink.requests
    assert request.method == data["request"]["method"]
    assert shape_drift(documented, json.loads(request.content), extras=DOCUMENTED_EXTRAS) == []


def test_shape_check_detects_drift() -> None:
    _, documented = cassette("get_session_200.yaml")
    assert shape_drift(documented, json.loads(json.dumps(documented))) == []

    renamed = json.loads(json.dumps(documented))
    attributes = renamed["data"]["attributes"]
    attributes["decidedAt"] = attributes.pop("decisioned_at")
    assert shape_drift(documented, renamed) == [
        "$.data.attributes.decisioned_at: missing",
        "$.data.attributes.decidedAt: not documented",
    ]

    retyped = json.loads(json.dumps(documented))
    retyped["data"]["attributes"]["behavior_analysis"]["bot_score"] = "0"
    assert shape_drift(documented, retyped) == [
        "$.data.attributes.behavior_analysis.bot_score: documented number, got string"
    ]

    flattened = json.loads(json.dumps(documented))
    flattened["data"]["attributes"]["person"]["name"] = "Jane Doe"
    assert shape_drift(documented, flattened) == [
        "$.data.attributes.person.name: documented object, got string"
    ]

    unwrapped = json.loads(json.dumps(documented))
    unwrapped["data"]["relationships"]["account"] = unwrapped["data"]["relationships"]["account"][
        "data"
    ]
    assert sorted(shape_drift(documented, unwrapped)) == [
        "$.data.relationships.account.data: missing",
        "$.data.relationships.account.id: not documented",
        "$.data.relationships.account.type: not documented",
    ]

    as_list = json.loads(json.dumps(documented))
    as_list["data"] = [as_list["data"]]  # a list envelope where one resource is documented
    assert shape_drift(documented, as_list) == ["$.data: documented object, got array"]

    # null documents "anything"; an emulator-only key passes only when listed as documented.
    relaxed = json.loads(json.dumps(documented))
    relaxed["data"]["attributes"]["decisioned_at"] = "2025-01-15T10:45:00Z"
    relaxed["data"]["relationships"]["documents"] = {"data": []}
    assert shape_drift(documented, relaxed) == ["$.data.relationships.documents: not documented"]
    assert shape_drift(documented, relaxed, extras=DOCUMENTED_EXTRAS) == []


class TestBelticSandboxConformance(SandboxConformance):
    provider = "beltic"
    lacking_actions = ("abandon", "resubmit", "<b>x</b>", "")
    supported_actions = ("open", "submit", "approve", "decline", "review", "expire", "fail")
    min_key_length = 40
    webhook_actions = ("open", "submit", "approve")
    unknown_session_id = "sess_nope"
    retry_status = 500
    refusal_status = REFUSED
    out_of_turn = [
        ("created", "submit"),
        ("created", "approve"),
        ("created", "fail"),
        ("started", "open"),
        ("started", "review"),
        ("pending", "open"),
        ("completed", "approve"),
        ("completed", "expire"),
        ("marked_for_review", "review"),
        ("approved", "open"),
        ("declined", "review"),
        ("expired", "open"),
        ("failed", "expire"),
    ]

    def check_refusal(self, response: httpx.Response, status: int) -> None:
        assert_error(response, status, "not_found" if status == 404 else None)

    def check_handle(self, sandbox: BelticSandbox, other: BelticSandbox) -> None:
        keys = {sandbox.api_key, sandbox.no_decide_api_key, sandbox.readonly_api_key}
        assert len(keys) == 3
        assert all(k.startswith("sk_staging_") and len(k) >= 40 for k in keys)  # the staging prefix
        assert dict(sandbox.options) == {"webhook_token": sandbox.webhook_token}
        assert sandbox.webhook_token not in (sandbox.webhook_secret, sandbox.api_key)

    async def session_at(self, harness: Harness, where: Any) -> str:
        return await reach(harness, where)

    async def observe(self, harness: Harness, session_id: str) -> Any:
        return (await harness.attributes(session_id))["status"]

    def check_out_of_turn(self, response: httpx.Response, where: Any, action: str) -> None:
        error = assert_error(response, REFUSED, "invalid_status_transition")
        assert where in error["detail"]

    def lacking_text(self, response: httpx.Response, action: str) -> str:
        detail = str(assert_error(response, 400, "unsupported_action")["detail"])
        assert "abandon" not in detail.split("supports:")[1]
        return detail
