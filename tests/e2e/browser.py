"""Debian's chromium, driven headless by Playwright (no browser download: the system binary)."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    """The system chromium; skipped locally when absent, a failure when services are required."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path:
        return path
    if os.environ.get("KYCGW_REQUIRE_SERVICES"):
        pytest.fail("chromium is required (apt-get install chromium); scripts/test installs it")
    pytest.skip("chromium not installed (set KYCGW_REQUIRE_SERVICES to make this a failure)")
