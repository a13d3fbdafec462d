"""GraphQL-over-HTTP: graphql-http's server audits against a live gateway. Every MUST and
SHOULD audit must pass; MAY audits are reported but not required."""

from __future__ import annotations

import json
import subprocess
from collections import Counter
from typing import Any

import pytest

from tests.conformance.conftest import NodeScripts
from tests.e2e.server import GatewayProcess

REQUIRED = ("MUST", "SHOULD")


@pytest.fixture(scope="module")
def audits(node_scripts: NodeScripts, conformance_gateway: GatewayProcess) -> list[dict[str, Any]]:
    command = node_scripts.command("audit-http.mjs", f"{conformance_gateway.base}/graphql")
    run = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if run.returncode not in (0, 1):  # 1: some audit failed, reported below
        pytest.fail(f"audit-http.mjs exited {run.returncode}:\n{run.stderr}", pytrace=False)
    results: list[dict[str, Any]] = json.loads(run.stdout)["results"]
    return results


def _describe(audit: dict[str, Any]) -> str:
    text = f"{audit['id']} [{audit['status']}] {audit['name']}"
    if audit.get("reason"):
        text += f"\n    {audit['reason']}"
    if audit.get("response"):
        text += f"\n    got {json.dumps(audit['response'])}"
    return text


def test_graphql_over_http_audits(audits: list[dict[str, Any]]) -> None:
    counts = Counter((audit["level"], audit["status"]) for audit in audits)
    for level in ("MUST", "SHOULD", "MAY"):
        total = sum(n for (lvl, _), n in counts.items() if lvl == level)
        by_status = ", ".join(f"{s} {n}" for (lvl, s), n in sorted(counts.items()) if lvl == level)
        print(f"{level}: {total} audits ({by_status})")
    for audit in audits:
        if audit["level"] not in REQUIRED and audit["status"] != "ok":
            print("not required:", _describe(audit))

    assert {audit["level"] for audit in audits} >= set(REQUIRED), "the audit run looks empty"
    failing = [a for a in audits if a["level"] in REQUIRED and a["status"] != "ok"]
    assert not failing, f"{len(failing)} MUST/SHOULD audits failed:\n" + "\n".join(
        _describe(audit) for audit in failing
    )
