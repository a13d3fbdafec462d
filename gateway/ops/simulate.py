"""`kyc-gateway simulate`: drive sandbox sessions through varied paths against a running gateway.

Creates sessions over GraphQL, then plays the person (and, where a sandbox's script asks for
it, the integrator's decision) through each vendor sandbox's control endpoint
(`POST /sandbox/<vendor>/sessions/<providerSessionId>/simulate`), along the paths the sandbox
declares (`GET /sandbox/<vendor>/simulate`). Outcomes follow a seeded
random mix, so the same `--seed` gives the same paths. Vendors report what the sandbox did
by webhook or poll, a moment later: the summary waits for each session's outcome to land in
the gateway (bounded by `--settle-timeout`), so it shows what the gateway now holds.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

PROVIDERS_QUERY = "{ providers { name mode configured } }"
CREATE = """
mutation Create($input: CreateSessionInput!) {
  createSession(input: $input) {
    session { id provider providerSessionId status }
    userErrors { code message }
  }
}
"""
STATUS = "query($id: ID!) { session(id: $id) { status isFinal } }"
#: How often a session's status is read while waiting for it to land.
POLL_S = 0.2
SETTLE_TIMEOUT_S = 30.0
DECIDE = """
mutation Decide($id: ID!, $decision: DecisionAction!) {
  decideSession(id: $id, decision: $decision, reason: "simulated reviewer") {
    session { status }
    userErrors { code message }
  }
}
"""

#: (weight, sandbox actions, integrator decision after the actions or None, the gateway status
#: the path ends in).
Path = tuple[int, tuple[str, ...], str | None, str]
#: A sandbox that serves no script: the actions every sandbox shares.
DEFAULT_PATHS: tuple[Path, ...] = (
    (3, ("open", "approve"), None, "APPROVED"),
    (1, ("open", "decline"), None, "DECLINED"),
    (1, ("open",), None, "IN_PROGRESS"),
)


@dataclass(frozen=True)
class Script:
    """What one vendor's sandbox declares (`GET /sandbox/<vendor>/simulate`): the paths its
    sessions may take, and what its create needs beyond provider and client reference."""

    paths: tuple[Path, ...] = DEFAULT_PATHS
    create: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: Any) -> Script:
        paths = tuple(
            (int(p["weight"]), tuple(p["actions"]), p.get("decision"), str(p["expect"]))
            for p in body["paths"]
        )
        return cls(paths or DEFAULT_PATHS, dict(body.get("create") or {}))


@dataclass
class Simulated:
    """One session simulate drove: the status its path ends in and the one the gateway held
    when the summary was made."""

    id: str
    provider: str
    expected: str
    status: str

    @property
    def landed(self) -> bool:
        return self.status == self.expected


@dataclass
class Summary:
    created: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    final: Counter[tuple[str, str]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sessions: list[Simulated] = field(default_factory=list)

    @property
    def not_landed(self) -> list[Simulated]:
        return [s for s in self.sessions if not s.landed]

    def lines(self) -> list[str]:
        out = [f"simulated {sum(self.created.values())} sessions in {self.seconds:.1f}s"]
        for provider in sorted(set(self.created) | set(self.failed)):
            statuses = ", ".join(
                f"{status} {count}"
                for (p, status), count in sorted(self.final.items())
                if p == provider
            )
            failed = f" ({self.failed[provider]} failed)" if self.failed[provider] else ""
            out.append(f"  {provider:<8} {self.created[provider]:>4}{failed}: {statuses}")
        late = self.not_landed
        if late:
            out.append(
                f"  {len(late)} not at their expected status yet: "
                + ", ".join(f"{s.id} {s.status} (expected {s.expected})" for s in late[:5])
            )
        out.extend(f"  error: {e}" for e in self.errors[:10])
        return out


class Driver:
    def __init__(self, client: httpx.AsyncClient, api_key: str | None = None) -> None:
        self.client = client
        self.headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
        self._scripts: dict[str, Script] = {}

    async def script(self, provider: str) -> Script:
        """The sandbox's own script, read once per vendor (the default paths when it serves
        none)."""
        if provider not in self._scripts:
            response = await self.client.get(
                f"/sandbox/{provider}/simulate",
                headers=self.headers,  # a keyed gateway wants sandbox:control here
            )
            if response.status_code == 404:
                self._scripts[provider] = Script()
            else:
                if response.status_code >= 400:
                    raise RuntimeError(
                        f"{provider} script: HTTP {response.status_code} {response.text[:200]}"
                    )
                try:
                    self._scripts[provider] = Script.from_json(response.json())
                except (ValueError, KeyError, TypeError) as error:
                    raise RuntimeError(f"{provider} script: {error}") from None
        return self._scripts[provider]

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> Any:
        response = await self.client.post(
            "/graphql",
            json={"query": query, "variables": variables or {}},
            headers=self.headers,
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise RuntimeError(body["errors"][0].get("message", "GraphQL error"))
        return body["data"]

    async def act(self, provider: str, provider_session_id: str, action: str) -> None:
        response = await self.client.post(
            f"/sandbox/{provider}/sessions/{provider_session_id}/simulate",
            json={"action": action},
            headers=self.headers,  # a keyed gateway wants sandbox:control here
        )
        if response.status_code >= 400:
            raise RuntimeError(
                f"{provider} {action}: HTTP {response.status_code} {response.text[:200]}"
            )

    async def status(self, session_id: str) -> str:
        return (await self._read(session_id))[0]

    async def _read(self, session_id: str) -> tuple[str, bool]:
        session = (await self.graphql(STATUS, {"id": session_id}))["session"]
        return str(session["status"]), bool(session["isFinal"])

    async def wait_for(self, session_id: str, wanted: set[str], timeout_s: float) -> str:
        """Reads the status until it is one of `wanted` or final (nothing moves a final
        session on), or `timeout_s` passed; returns the last one read."""
        deadline = time.monotonic() + timeout_s
        status, final = await self._read(session_id)
        while status not in wanted and not final and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
            status, final = await self._read(session_id)
        return status

    async def run_one(
        self,
        index: int,
        provider: str,
        rng: random.Random,
        settle_timeout_s: float = SETTLE_TIMEOUT_S,
    ) -> Simulated:
        script = await self.script(provider)
        paths = script.paths
        _, actions, decision, expected = rng.choices(paths, weights=[p[0] for p in paths])[0]
        create: dict[str, Any] = {
            **script.create,
            "provider": provider,
            "clientReference": f"sim-{provider}-{index}-{rng.randrange(1 << 30):x}",
        }
        payload = (await self.graphql(CREATE, {"input": create}))["createSession"]
        if payload["userErrors"]:
            raise RuntimeError(f"{provider} create: {payload['userErrors'][0]['message']}")
        session = payload["session"]
        for action in actions:
            await self.act(provider, session["providerSessionId"], action)
            await asyncio.sleep(rng.uniform(0.0, 0.05))
        if decision is not None:
            await self.wait_for(session["id"], {"AWAITING_DECISION"}, timeout_s=15)
            decided = (await self.graphql(DECIDE, {"id": session["id"], "decision": decision}))[
                "decideSession"
            ]
            if decided["userErrors"]:
                raise RuntimeError(f"{provider} decide: {decided['userErrors'][0]['message']}")
        # The vendor tells the gateway by webhook or poll, after the sandbox answered.
        status = await self.wait_for(session["id"], {expected}, settle_timeout_s)
        return Simulated(session["id"], provider, expected, status)


class _Progress:
    """`rich.progress` when rich is installed, else a plain counter on stderr."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.total, self.done, self.quiet = total, 0, quiet
        self._rich: Any = None
        self._task: Any = None
        if quiet:
            return
        try:
            from rich.progress import Progress  # type: ignore[import-not-found]
        except ImportError:
            return
        self._rich = Progress(transient=False)
        self._task = self._rich.add_task("sessions driven and landed", total=total)

    def __enter__(self) -> _Progress:
        if self._rich is not None:
            self._rich.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif not self.quiet:
            print(file=sys.stderr)

    def advance(self) -> None:
        self.done += 1
        if self._rich is not None:
            self._rich.update(self._task, advance=1)
        elif not self.quiet:
            print(f"\rlanded {self.done}/{self.total}", end="", file=sys.stderr, flush=True)


async def simulate(
    base_url: str,
    sessions: int,
    *,
    concurrency: int = 8,
    seed: int = 7,
    providers: list[str] | None = None,
    api_key: str | None = None,
    quiet: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    settle_timeout_s: float = SETTLE_TIMEOUT_S,
) -> Summary:
    """Drive `sessions` sandbox sessions across `providers` (default: every sandboxed vendor)
    and wait, up to `settle_timeout_s` each, until the gateway holds the status each path ends
    in; the summary's statuses are the gateway's at that point."""
    rng = random.Random(seed)
    summary = Summary()
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=base_url, timeout=30, transport=transport) as client:
        driver = Driver(client, api_key)
        if not providers:
            listed = (await driver.graphql(PROVIDERS_QUERY))["providers"]
            # A keyed gateway lists vendors it mounted no sandbox for as not configured.
            providers = [p["name"] for p in listed if p["mode"] == "SANDBOX" and p["configured"]]
        if not providers:
            raise RuntimeError("no vendor in sandbox mode to simulate")
        plan = [
            (i, providers[i % len(providers)], random.Random(rng.random())) for i in range(sessions)
        ]
        gate = asyncio.Semaphore(max(1, concurrency))

        with _Progress(sessions, quiet) as progress:

            async def one(index: int, provider: str, own_rng: random.Random) -> None:
                async with gate:
                    summary.created[provider] += 1
                    try:
                        done = await driver.run_one(index, provider, own_rng, settle_timeout_s)
                        summary.sessions.append(done)
                        summary.final[(provider, done.status)] += 1
                    except (RuntimeError, httpx.HTTPError) as error:
                        summary.failed[provider] += 1
                        summary.errors.append(str(error) or type(error).__name__)
                    progress.advance()

            await asyncio.gather(*(one(*item) for item in plan))
    summary.seconds = time.monotonic() - started
    return summary


def _run(args: argparse.Namespace) -> int:
    providers = [p.strip() for p in (args.providers or "").split(",") if p.strip()]
    try:
        summary = asyncio.run(
            simulate(
                args.base_url.rstrip("/"),
                args.sessions,
                concurrency=args.concurrency,
                seed=args.seed,
                providers=providers or None,
                api_key=args.api_key,
                settle_timeout_s=args.settle_timeout,
            )
        )
    except (httpx.HTTPError, RuntimeError) as error:
        print(f"kyc-gateway simulate: {args.base_url}: {error}", file=sys.stderr)
        return 1
    print("\n".join(summary.lines()))
    return 1 if summary.failed and not summary.final else 0


def add_simulate_command(commands: Any) -> None:
    """Register `kyc-gateway simulate` on the CLI's sub-parsers."""
    sim = commands.add_parser(
        "simulate", help="drive sandbox sessions through varied paths on a running gateway"
    )
    sim.add_argument("--sessions", type=int, default=20, help="how many sessions (default 20)")
    sim.add_argument("--base-url", default="http://127.0.0.1:8000", help="the running gateway")
    sim.add_argument("--concurrency", type=int, default=8, help="sessions in flight at once")
    sim.add_argument("--seed", type=int, default=7, help="random seed for the outcome mix")
    sim.add_argument("--providers", help="comma-separated vendors (default: all in sandbox mode)")
    sim.add_argument(
        "--api-key",
        help="API key, when the gateway has keys configured (scopes sessions:read, "
        "sessions:write, sessions:decide and sandbox:control)",
    )
    sim.add_argument(
        "--settle-timeout",
        type=float,
        default=SETTLE_TIMEOUT_S,
        help="seconds to wait for each session's outcome to reach the gateway "
        f"(default {SETTLE_TIMEOUT_S:.0f})",
    )
    sim.set_defaults(func=_run)
