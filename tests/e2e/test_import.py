"""Issue 19, item 2, for Didit: `kyc-gateway import --provider didit` against a sandbox
holding 250 sessions created outside the gateway (straight at the sandbox's `POST
/v3/session/`, some driven to a decision) imports 250 through `GET /v3/sessions/`
(limit/offset pages, docs/vendors/didit.md), a second run imports 0, `kyc-gateway report`
counts them, and each keeps its vendor status and creation time. Real processes: the
gateway, the CLI, the report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from tests.e2e.server import GatewayProcess

SANDBOX_KEY = "didit-sandbox-key-for-an-outside-integration"
WORKFLOW = "5f0c6a52-7d3e-4c1b-9a8e-2b6d1f4e9c07"
SESSIONS = 250
DECIDED = 10
ENV = {
    "KYCGW_DIDIT_SANDBOX_API_KEY": SANDBOX_KEY,
    # Every vendor call of the import waits its turn under this budget: a test need not wait.
    "KYCGW_DIDIT_POLL_REQUESTS_PER_MINUTE": "600000",
}
FIND = """
query($c: String) { sessions(filter: {provider: "didit"}, first: 100, after: $c) {
  edges { cursor node { providerSessionId status createdAt routing { rule }
                        history { status source } } }
  pageInfo { hasNextPage endCursor } } }
"""


def create_outside(base: str) -> dict:
    r = httpx.post(
        f"{base}/sandbox/didit/v3/session/",
        headers={"x-api-key": SANDBOX_KEY},
        json={"workflow_id": WORKFLOW, "vendor_data": f"legacy-{uuid.uuid4().hex[:8]}"},
        timeout=20,
    )
    assert r.status_code == 201, r.text
    return r.json()


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


def stored(base: str) -> dict[str, dict]:
    found: dict[str, dict] = {}
    cursor = None
    while True:
        body = httpx.post(
            f"{base}/graphql", json={"query": FIND, "variables": {"c": cursor}}, timeout=20
        ).json()
        page = body["data"]["sessions"]
        found |= {e["node"]["providerSessionId"]: e["node"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return found
        cursor = page["pageInfo"]["endCursor"]


def test_import_brings_in_every_outside_session_once_and_report_counts_them(
    tmp_path: Path,
) -> None:
    with GatewayProcess(tmp_path, extra_env=ENV) as server:
        with ThreadPoolExecutor(8) as pool:
            made = list(pool.map(lambda _: create_outside(server.base), range(SESSIONS)))
        decided = [m["session_id"] for m in made[:DECIDED]]
        for psid in decided:
            for action in ("open", "approve"):
                r = httpx.post(
                    f"{server.base}/sandbox/didit/sessions/{psid}/simulate",
                    json={"action": action},
                    timeout=10,
                )
                assert r.status_code == 200, r.text
        assert stored(server.base) == {}, "the gateway knows none of them yet"

        first = command(server, "import", "--provider", "didit")
        assert first.returncode == 0, first.stderr
        assert first.stdout.startswith(f"imported {SESSIONS} sessions from didit"), first.stdout
        second = command(server, "import", "--provider", "didit")
        assert second.returncode == 0, second.stderr
        assert second.stdout.startswith("imported 0 sessions from didit"), second.stdout
        assert f"already known {SESSIONS}" in second.stdout

        sessions = stored(server.base)
        report = command(server, "report", "--format", "json")
    assert report.returncode == 0, report.stderr
    assert set(sessions) == {m["session_id"] for m in made}
    assert all(s["routing"] == {"rule": "imported"} for s in sessions.values())
    assert {sessions[p]["status"] for p in decided} == {"APPROVED"}
    untouched = [s for p, s in sessions.items() if p not in decided]
    assert {s["status"] for s in untouched} == {"CREATED"}
    assert all(
        s["history"][0] == {"status": "CREATED", "source": "POLL"} for s in sessions.values()
    )
    rows = json.loads(report.stdout)["rows"]
    (didit,) = [row for row in rows if row["provider"] == "didit"]
    assert didit["created"] == SESSIONS


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
