"""docs/clients.md cannot rot: its files (tests/conformance/node/clients/) are quoted in the doc
verbatim, graphql-codegen generates types from schema.graphql and the example operations,
they compile under `tsc --strict`, and both examples — the Apollo Client + graphql-ws setup
and the Python gql one — follow a session to a final status on a live dev-mode gateway."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conformance.conftest import NODE_DIR, NodeScripts
from tests.e2e.client import gql, simulate
from tests.e2e.server import GatewayProcess

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "clients.md"
CLIENTS = NODE_DIR / "clients"
#: The files the doc quotes, each after a `<!-- file: <path> -->` line.
QUOTED = ["codegen.yml", "operations.ts", "client.ts", "tsconfig.json", "gql_example.py"]
CREATE = """
    mutation Create($ref: String!) {
      createSession(input: {provider: "didit", clientReference: $ref}) {
        session { id providerSessionId }
      }
    }
    """
EXPECTED_CHANGES = [("CREATED", "IN_PROGRESS"), ("IN_PROGRESS", "APPROVED")]


def _npx(*args: str) -> subprocess.CompletedProcess[str]:
    npx = shutil.which("npx")
    assert npx is not None, "npx not on PATH"
    # --no: use the locked local install only, never fetch a package.
    return subprocess.run(
        [npx, "--no", "--", *args], cwd=CLIENTS, capture_output=True, text=True, timeout=180
    )


def _doc_blocks() -> dict[str, str]:
    """Code blocks of docs/clients.md that are marked as a copy of a file."""
    pattern = re.compile(r"<!-- file: (\S+) -->\n```[a-z]*\n(.*?)```", re.DOTALL)
    return {path: body for path, body in pattern.findall(DOC.read_text())}


@pytest.mark.parametrize("name", QUOTED)
def test_doc_quotes_the_tested_file_verbatim(name: str) -> None:
    path = f"tests/conformance/node/clients/{name}"
    blocks = _doc_blocks()
    assert path in blocks, f"docs/clients.md does not quote {path}"
    assert blocks[path] == (CLIENTS / name).read_text(), f"docs/clients.md's {path} differs"


@pytest.fixture(scope="module")
def generated(node_scripts: NodeScripts) -> Path:
    shutil.rmtree(CLIENTS / "generated", ignore_errors=True)
    result = _npx("graphql-codegen", "--config", "codegen.yml")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return CLIENTS / "generated"


def test_codegen_maps_every_scalar(generated: Path) -> None:
    schema = (generated / "schema.ts").read_text()
    for scalar, ts_type in {
        "DateTime": "string",
        "Date": "string",
        "JSON": "unknown",
        "Upload": "File",
    }.items():
        assert f"{scalar}: {{ input: {ts_type}; output: {ts_type}; }}" in schema, scalar
    assert not re.search(r":\s*any\b", schema), "a type is mapped to any"
    operations = (generated / "graphql.ts").read_text()
    for name in ("CreateSessionMutation", "SessionQuery", "SessionStatusSubscription"):
        assert f"export type {name} =" in operations, name


def test_generated_types_and_examples_compile_under_tsc_strict(generated: Path) -> None:
    result = _npx("tsc", "--strict", "--noEmit", "-p", "tsconfig.json")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


async def _follow(
    command: list[str],
    env: dict[str, str],
    ready: Callable[[str], bool],
    base: str,
    provider_session_id: Callable[[list[str]], str],
) -> tuple[list[str], str, int]:
    """Run an example; once a line satisfies `ready`, drive its session to APPROVED."""
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
    )
    assert process.stdout is not None
    lines: list[str] = []
    try:
        async with asyncio.timeout(60):
            while line := (await process.stdout.readline()).decode():
                lines.append(line.strip())
                if ready(line):
                    for action in ("open", "approve"):
                        await simulate(base, "didit", provider_session_id(lines), action)
                    break
            rest, stderr = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    lines += [line for line in rest.decode().splitlines() if line.strip()]
    return lines, stderr.decode(), process.returncode or 0


def test_apollo_example_follows_a_session(
    generated: Path, node_scripts: NodeScripts, conformance_gateway: GatewayProcess
) -> None:
    build = _npx("tsc", "--strict", "-p", "tsconfig.json")
    assert build.returncode == 0, build.stdout[-4000:]
    base = conformance_gateway.base
    lines, stderr, returncode = asyncio.run(
        _follow(
            [node_scripts.node, str(CLIENTS / "dist" / "example.js"), f"{base}/graphql"],
            dict(os.environ),
            lambda line: json.loads(line)["step"] == "read",
            base,
            lambda lines: json.loads(lines[0])["providerSessionId"],
        )
    )
    assert returncode == 0, stderr
    steps = [json.loads(line) for line in lines]
    assert [s["step"] for s in steps[:2]] == ["created", "read"], steps
    assert steps[1]["status"] == "CREATED"
    # Replayed from after: "0" over the websocket link, then live.
    assert [s["status"] for s in steps[2:]] == ["CREATED", "IN_PROGRESS", "APPROVED"], steps


def test_python_gql_example_follows_a_session(conformance_gateway: GatewayProcess) -> None:
    base = conformance_gateway.base
    created = asyncio.run(gql(base, CREATE, {"ref": f"gql-example-{uuid.uuid4().hex[:8]}"}))
    session = created["createSession"]["session"]
    lines, stderr, returncode = asyncio.run(
        _follow(
            [sys.executable, str(CLIENTS / "gql_example.py"), session["id"]],
            {**os.environ, "KYCGW_URL": f"{base}/graphql"},
            lambda line: line.startswith("status "),
            base,
            lambda _lines: session["providerSessionId"],
        )
    )
    assert returncode == 0, stderr
    assert lines[0] == "status CREATED", lines
    changes = [tuple(line.split()[1:]) for line in lines[1:]]
    assert changes == EXPECTED_CHANGES, lines
