"""`decideSession(resubmit:, notifyPerson:)` on a real server over GraphQL: Didit takes both
(its sandbox's update-status checks the body), a vendor that takes neither refuses them by
name before any vendor call, and `resubmit` goes with REQUEST_RESUBMISSION only."""

from __future__ import annotations

import asyncio

import httpx

from tests.e2e.client import simulate

CREATE = """
mutation($provider: String!, $ref: String!) {
  createSession(input: {provider: $provider, clientReference: $ref,
                        contact: {email: "jane.doe@example.com"}}) {
    session { id providerSessionId } userErrors { code message } } }
"""
DECIDE = """
mutation($id: ID!, $decision: DecisionAction!, $resubmit: [String!], $notify: Boolean) {
  decideSession(id: $id, decision: $decision, resubmit: $resubmit, notifyPerson: $notify) {
    session { status providerStatus } userErrors { code field message } } }
"""
GET = "query($id: ID!) { session(id: $id) { status } }"


async def post(base: str, query: str, variables: dict) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    return body["data"]


async def created(base: str, provider: str, ref: str) -> dict:
    answer = (await post(base, CREATE, {"provider": provider, "ref": ref}))["createSession"]
    assert answer["userErrors"] == [], answer
    return answer["session"]


async def declined_didit(base: str, ref: str) -> dict:
    session = await created(base, "didit", ref)
    for action in ("open", "decline"):
        await simulate(base, "didit", session["providerSessionId"], action)
    for _ in range(200):
        if (await post(base, GET, {"id": session["id"]}))["session"]["status"] == "DECLINED":
            return session
        await asyncio.sleep(0.05)
    raise AssertionError("the decline never arrived")


async def test_didit_resubmits_the_named_steps_and_mails_the_person(base: str) -> None:
    session = await declined_didit(base, "options-didit")
    answer = (
        await post(
            base,
            DECIDE,
            {
                "id": session["id"],
                "decision": "REQUEST_RESUBMISSION",
                "resubmit": ["LIVENESS"],
                "notify": True,
            },
        )
    )["decideSession"]
    assert answer["userErrors"] == [], answer
    assert answer["session"]["providerStatus"] == "Resubmitted"


async def test_a_step_the_session_lacks_is_refused_on_its_argument(base: str) -> None:
    session = await declined_didit(base, "options-unknown")
    answer = (
        await post(
            base,
            DECIDE,
            {"id": session["id"], "decision": "REQUEST_RESUBMISSION", "resubmit": ["NOPE"]},
        )
    )["decideSession"]
    (error,) = answer["userErrors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["resubmit"])
    assert "NOPE" in error["message"]


async def test_resubmit_goes_with_a_resubmission_only(base: str) -> None:
    session = await declined_didit(base, "options-approve")
    answer = (
        await post(
            base, DECIDE, {"id": session["id"], "decision": "APPROVE", "resubmit": ["LIVENESS"]}
        )
    )["decideSession"]
    assert answer["session"] is None
    (error,) = answer["userErrors"]
    assert (error["code"], error["field"]) == ("BAD_USER_INPUT", ["resubmit"])


async def test_a_vendor_without_the_options_refuses_them_by_name(base: str) -> None:
    session = await created(base, "verifa", "options-verifa")
    answer = (
        await post(
            base,
            DECIDE,
            {"id": session["id"], "decision": "APPROVE", "notify": True, "resubmit": None},
        )
    )["decideSession"]
    assert answer["session"] is None
    (error,) = answer["userErrors"]
    assert (error["code"], error["field"]) == ("UNSUPPORTED_BY_PROVIDER", ["notifyPerson"])
    assert "verifa" in error["message"]
