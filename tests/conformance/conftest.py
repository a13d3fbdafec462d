"""Conformance suites run by third-party Node clients — graphql-http's GraphQL-over-HTTP audits
and the graphql-ws client — against a real `kyc-gateway serve` (dev mode: loopback, no API keys).
`node/node_modules` is installed once from the lock file, again only when the lock changes."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.client import simulate
from tests.e2e.server import GatewayProcess

NODE_DIR = Path(__file__).parent / "node"
#: Digest of the manifest and lock that `node_modules` was installed from.
STAMP = NODE_DIR / "node_modules" / ".kycgw-install-stamp"
MIN_NODE_MAJOR = 20
#: Short, so the "no connection_init" websocket case costs seconds, not the default 10.
INIT_TIMEOUT_S = 2


@dataclass(frozen=True)
class NodeScripts:
    node: str
    directory: Path

    def command(self, script: str, *args: str) -> list[str]:
        return [self.node, str(self.directory / script), *args]

    async def follow(
        self,
        script: str,
        base: str,
        session: dict[str, str],
        ready: Callable[[dict[str, Any]], bool],
        env: dict[str, str] | None = None,
    ) -> tuple[bytes, bytes, int | None]:
        """Run a Node client that follows `session`; once its first line says it is `ready`,
        move the session on at the (Didit) sandbox. Returns its stdout, stderr and exit code."""
        process = await asyncio.create_subprocess_exec(
            *self.command(script, f"{base}/graphql", session["id"]),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        assert process.stdout is not None
        try:
            first = await asyncio.wait_for(process.stdout.readline(), 30)
            if first and ready(json.loads(first)):
                for action in ("open", "approve"):
                    await simulate(base, "didit", session["providerSessionId"], action)
            rest, stderr = await asyncio.wait_for(process.communicate(), 60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
        return first + rest, stderr, process.returncode


def _install_digest() -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        path = NODE_DIR / name
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


@pytest.fixture(scope="session")
def node_scripts() -> NodeScripts:
    """Node and the pinned npm packages, or a failure that says what is missing: these suites
    are part of the test run, so a machine without Node fails them rather than skipping."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        missing = " and ".join(n for n, p in (("node", node), ("npm", npm)) if p is None)
        pytest.fail(
            f"tests/conformance needs Node.js >= {MIN_NODE_MAJOR} with npm; {missing} not on PATH",
            pytrace=False,
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip()
    if int(version.lstrip("v").split(".")[0] or 0) < MIN_NODE_MAJOR:
        pytest.fail(f"tests/conformance needs Node.js >= {MIN_NODE_MAJOR}, found {version}")
    if not STAMP.exists() or STAMP.read_text() != _install_digest():
        locked = (NODE_DIR / "package-lock.json").exists()
        command = [npm, "ci" if locked else "install", "--no-audit", "--no-fund"]
        result = subprocess.run(command, cwd=NODE_DIR, capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            pytest.fail(
                f"`{' '.join(command[1:])}` failed in {NODE_DIR}:\n{result.stderr[-4000:]}",
                pytrace=False,
            )
        STAMP.write_text(_install_digest())
    return NodeScripts(node, NODE_DIR)


@pytest.fixture(scope="session")
def conformance_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(
        tmp_path_factory.mktemp("conformance"),
        extra_env={
            "KYCGW_INTROSPECTION": "true",
            "KYCGW_CONNECTION_INIT_TIMEOUT_S": str(INIT_TIMEOUT_S),
        },
    ) as server:
        yield server
