"""Follow one session with gql (Python): read it over HTTP, then take its status changes over
a websocket (graphql-transport-ws) until it is final.

    pip install "gql[httpx,websockets]"
    KYCGW_URL=http://127.0.0.1:8000/graphql KYCGW_API_KEY=... python gql_example.py <session id>
"""

import asyncio
import os
import sys

from gql import Client, GraphQLRequest
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

URL = os.environ.get("KYCGW_URL", "http://127.0.0.1:8000/graphql")
API_KEY = os.environ.get("KYCGW_API_KEY")  # none against a dev-mode gateway

SESSION = """
query Session($id: ID!) {
  session(id: $id) { id status history { cursor } }
}
"""
WATCH = """
subscription Watch($id: ID!, $after: String) {
  sessionStatusChanged(sessionId: $id, after: $after) {
    previousStatus status cursor session { isFinal }
  }
}
"""


async def follow(session_id: str) -> None:
    auth = {"authorization": f"Bearer {API_KEY}"} if API_KEY else {}
    async with Client(transport=HTTPXAsyncTransport(url=URL, headers=auth)) as http:
        result = await http.execute(GraphQLRequest(SESSION, variable_values={"id": session_id}))
    session = result["session"]
    print("status", session["status"], flush=True)
    # Resume after the last change already read: whatever happens in between is replayed.
    after = session["history"][-1]["cursor"] if session["history"] else "0"
    websocket = WebsocketsTransport(
        url=URL.replace("http", "ws", 1),  # http -> ws, https -> wss
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload=auth,  # credentials travel in connection_init, not in headers
    )
    async with Client(transport=websocket) as live:
        request = GraphQLRequest(WATCH, variable_values={"id": session_id, "after": after})
        async for event in live.subscribe(request):
            change = event["sessionStatusChanged"]
            print("changed", change["previousStatus"], change["status"], flush=True)
            if change["session"]["isFinal"]:
                break


if __name__ == "__main__":
    asyncio.run(follow(sys.argv[1]))
