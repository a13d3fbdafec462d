"""Runs the real gateway (`kyc-gateway serve`) in a subprocess on a free port."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_gateway(
    data_dir: Path, port: int | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYCGW_")}
    env.update(
        KYCGW_PORT=str(port),
        KYCGW_DATA_DIR=str(data_dir),
        KYCGW_SANDBOX_WEBHOOK_RETRY_DELAYS_S="[0.2, 0.5]",
        # Poll quickly so vendors without session webhooks (Beltic) progress within a test.
        KYCGW_RECONCILE_TICK_S="0.1",
        KYCGW_BELTIC_POLL_INTERVAL_S="0.2",
        KYCGW_BELTIC_POLL_MAX_INTERVAL_S="0.5",
        KYCGW_VERIFA_POLL_INTERVAL_S="0.2",
        KYCGW_VERIFA_POLL_MAX_INTERVAL_S="0.5",
    )
    env.update(extra_env or {})
    log_path = data_dir / f"server-{port}.log"
    data_dir.mkdir(parents=True, exist_ok=True)
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"server exited:\n{log_path.read_text()}")
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{log_path.read_text()}")
                time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def active_subscriptions(base: str) -> float:
    """The server's own count of live subscriptions (from /metrics)."""
    for line in httpx.get(f"{base}/metrics", timeout=5).text.splitlines():
        if line.startswith("kycgw_active_subscriptions "):
            return float(line.split()[1])
    raise AssertionError("kycgw_active_subscriptions missing from /metrics")


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll a condition that lives in another process (nothing to await on here)."""
    for _ in range(int(timeout_s / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
