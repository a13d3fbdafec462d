"""Small GraphQL/sandbox clients shared by the end-to-end tests."""

from __future__ import annotations

import asyncio

import httpx
from gql import Client, GraphQLRequest
from gql.transport.websockets import WebsocketsTransport

from tests.e2e.server import active_subscriptions, wait_until

WATCH = """
subscription Watch($ref: String!) {
  sessionStatusChanged(clientReference: $ref) {
    previousStatus status providerStatus source cursor session { id }
  }
}
"""


def create_mutation(provider: str, session: str, steps: str = "") -> str:
    """`createSession` of one `provider` by `$ref`, selecting `session` (with `steps`, a GraphQL
    list literal, when given): the end-to-end modules' create documents differ only in these."""
    steps_arg = f", steps: {steps}" if steps else ""
    return f"""
mutation Create($ref: String!) {{
  createSession(input: {{provider: "{provider}", clientReference: $ref{steps_arg}}}) {{
    session {{ {session} }}
    userErrors {{ code field message }}
  }}
}}
"""


def session_query(fields: str) -> str:
    """`session(id: $id)` selecting `fields`: what each end-to-end module reads back."""
    return f"""
query Get($id: ID!) {{
  session(id: $id) {{
    {fields}
  }}
}}
"""


def action_mutation(action: str, session: str, errors: str = "code message") -> str:
    """A session action by `$id` (`refreshSession`, `continueSession`, …) selecting `session` and
    the `userErrors` fields `errors`."""
    return f"""
mutation Act($id: ID!) {{
  {action}(id: $id) {{
    session {{ {session} }}
    userErrors {{ {errors} }}
  }}
}}
"""


async def created_session(base: str, query: str, variables: dict) -> dict:
    """Run a `createSession` document and return its session, asserting it had no user error."""
    created = (await gql(base, query, variables))["createSession"]
    assert created["userErrors"] == [], created
    return created["session"]


async def gql(base: str, query: str, variables: dict) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        body = (await client.post("/graphql", json={"query": query, "variables": variables})).json()
    assert "errors" not in body, body
    return body["data"]


async def simulate(base: str, provider: str, psid: str, action: str) -> dict:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        r = await client.post(
            f"/sandbox/{provider}/sessions/{psid}/simulate", json={"action": action}
        )
    assert r.status_code == 200, r.text
    return r.json()


class Watcher:
    """A live subscription by client reference, opened before the session exists."""

    def __init__(
        self, base: str, ref: str, document: str = WATCH, credential: str | None = None
    ) -> None:
        """`document` subscribes by `$ref`; `credential` goes in `connection_init`."""
        self.base = base
        self.ref = ref
        self.document = document
        self.credential = credential
        self.init_payload = {"Authorization": f"Bearer {credential}"} if credential else {}
        self.events: list[dict] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Watcher:
        before = active_subscriptions(self.base, self.credential)
        self._task = asyncio.create_task(self._run())
        await wait_until(lambda: active_subscriptions(self.base, self.credential) >= before + 1)
        return self

    async def _run(self) -> None:
        url = self.base.replace("http://", "ws://") + "/graphql"
        transport = WebsocketsTransport(
            url=url, subprotocols=["graphql-transport-ws"], init_payload=self.init_payload
        )
        async with Client(transport=transport) as ws:
            request = GraphQLRequest(self.document, variable_values={"ref": self.ref})
            async for item in ws.subscribe(request):
                async with self._changed:
                    self.events.append(item["sessionStatusChanged"])
                    self._changed.notify_all()

    async def wait_for(self, status: str) -> None:
        async with asyncio.timeout(20), self._changed:
            await self._changed.wait_for(lambda: any(e["status"] == status for e in self.events))

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
