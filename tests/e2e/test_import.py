"""Issue 19, item 2: `kyc-gateway import --provider P` against a sandbox holding 250 sessions
created outside the gateway (straight at the sandbox's create endpoint, some driven to a
decision) imports 250 through the vendor's list (Didit `GET /v3/sessions/`, Verifa `GET
/api/v1/sessions`: limit/offset pages, docs/vendors/<v>.md), a second run imports 0,
`kyc-gateway report` counts them, and each keeps its vendor status. Real processes: the
gateway, the CLI, the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import GatewayProcess
from tests.support import sandbox_paths

SANDBOX_KEY = "sandbox-key-for-an-outside-integration"
WORKFLOW = "5f0c6a52-7d3e-4c1b-9a8e-2b6d1f4e9c07"  # the Didit sandbox's workflow
#: Didit's count is the issue's acceptance; Verifa's keeps the suite short.
SESSIONS = {"didit": 250, "verifa": 60}
DECIDED = 10
ENV = {
    **{f"KYCGW_{v}_SANDBOX_API_KEY": SANDBOX_KEY for v in ("DIDIT", "VERIFA")},
    # Every vendor call of the import waits its turn under this budget: a test need not wait.
    **{f"KYCGW_{v}_POLL_REQUESTS_PER_MINUTE": "600000" for v in ("DIDIT", "VERIFA")},
}


@dataclass(frozen=True)
class DirectCreate:
    """How an outside integration creates a session at the vendor's (sandbox) API."""

    path: str
    headers: dict[str, str]
    body: dict
    id_field: str


OUTSIDE = {
    "didit": DirectCreate(
        "/sandbox/didit/v3/session/",
        {"x-api-key": SANDBOX_KEY},
        {"workflow_id": WORKFLOW, "vendor_data": "legacy"},
        "session_id",
    ),
    "verifa": DirectCreate(
        "/sandbox/verifa/api/v1/sessions",
        {"X-API-Key": SANDBOX_KEY, "Key-Inflection": "snake"},
        {"external_ref": "legacy"},
        "id",
    ),
}
FIND = """
query($p: String!, $c: String) { sessions(filter: {provider: $p}, first: 100, after: $c) {
  edges { cursor node { providerSessionId status createdAt routing { rule }
                        history { status source } } }
  pageInfo { hasNextPage endCursor } } }
"""


def create_outside(base: str, vendor: str) -> str:
    """A session made at the vendor's own API; returns the vendor's id for it."""
    how = OUTSIDE[vendor]
    body = {k: f"{v}-{uuid.uuid4().hex[:8]}" for k, v in how.body.items() if k != "workflow_id"}
    r = httpx.post(
        f"{base}{how.path}",
        headers=how.headers,
        json={**how.body, **body},
        timeout=20,
    )
    assert r.status_code == 201, r.text
    return r.json()[how.id_field]


def command(server: GatewayProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**server.env}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=os.getcwd(),
    )


def stored(base: str, vendor: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    cursor = None
    while True:
        body = httpx.post(
            f"{base}/graphql",
            json={"query": FIND, "variables": {"p": vendor, "c": cursor}},
            timeout=20,
        ).json()
        page = body["data"]["sessions"]
        found |= {e["node"]["providerSessionId"]: e["node"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return found
        cursor = page["pageInfo"]["endCursor"]


@pytest.mark.parametrize("vendor", sorted(OUTSIDE))
def test_import_brings_in_every_outside_session_once_and_report_counts_them(
    tmp_path: Path, vendor: str
) -> None:
    with GatewayProcess(tmp_path, extra_env=ENV) as server:
        with ThreadPoolExecutor(8) as pool:
            made = list(
                pool.map(lambda _: create_outside(server.base, vendor), range(SESSIONS[vendor]))
            )
        decided = made[:DECIDED]
        approve = sandbox_paths.path_to(sandbox_paths.script(server.base, vendor), "APPROVED")
        assert not [step for step in approve if step.startswith("decide:")]
        for psid in decided:
            sandbox_paths.drive(server.base, vendor, {"providerSessionId": psid}, approve)
        assert stored(server.base, vendor) == {}, "the gateway knows none of them yet"

        first = command(server, "import", "--provider", vendor)
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith(f"imported {SESSIONS[vendor]} sessions from {vendor}"), (
            first.stdout
        )
        second = command(server, "import", "--provider", vendor)
        assert second.returncode == 0, second.stderr
        assert second.stdout.startswith(f"imported 0 sessions from {vendor}"), second.stdout
        assert f"already known {SESSIONS[vendor]}" in second.stdout

        deadline = time.monotonic() + 20
        while {(s := stored(server.base, vendor))[p]["status"] for p in decided} != {"APPROVED"}:
            # A completed Verifa session is read as PROCESSING until its result is read.
            assert time.monotonic() < deadline, {p: s[p]["status"] for p in decided}
            time.sleep(0.2)
        report = command(server, "report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert set(s) == set(made)
    assert all(row["routing"] == {"rule": "imported"} for row in s.values())
    untouched = [row for p, row in s.items() if p not in decided]
    assert {row["status"] for row in untouched} == {"CREATED"}
    assert all(row["history"][0] == {"status": "CREATED", "source": "POLL"} for row in s.values())
    rows = json.loads(report.stdout)["rows"]
    (counted,) = [row for row in rows if row["provider"] == vendor]
    assert counted["created"] == SESSIONS[vendor]


def test_import_refuses_an_unknown_provider_a_bad_window_and_a_vendor_without_a_list(
    tmp_path: Path,
) -> None:
    with GatewayProcess(tmp_path, extra_env=ENV) as server:
        unknown = command(server, "import", "--provider", "nope")
        backwards = command(
            server,
            "import",
            "--provider",
            "didit",
            "--since",
            "2026-02-01",
            "--until",
            "2026-01-01",
        )
        no_zone = command(server, "import", "--provider", "didit", "--since", "2026-01-01T10:00")
        no_list = command(server, "import", "--provider", "uqudo")
    assert unknown.returncode == 2 and "unknown provider 'nope'" in unknown.stderr
    assert backwards.returncode == 2 and "--until must be after --since" in backwards.stderr
    assert no_zone.returncode == 2 and "needs its zone" in no_zone.stderr
    assert no_list.returncode == 2 and "cannot page through uqudo" in no_list.stderr
