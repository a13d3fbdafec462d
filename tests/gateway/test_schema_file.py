"""`schema.graphql` is the exported SDL; this fails when they drift."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from gateway.web.graphql.schema import export_sdl

ROOT = Path(__file__).resolve().parents[2]


def test_checked_in_schema_matches_the_code() -> None:
    checked_in = (ROOT / "schema.graphql").read_text()
    assert checked_in == export_sdl(), "run: kyc-gateway export-schema -o schema.graphql"


def test_cli_export_schema_prints_the_sdl() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "export-schema"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert out == export_sdl()
    assert "sessionStatusChanged" in out
