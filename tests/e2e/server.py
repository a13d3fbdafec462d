"""Runs the real gateway (`kyc-gateway serve`) in a subprocess on a free port."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
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


class GatewayProcess:
    """One `kyc-gateway serve` child process; can be killed hard and started again."""

    def __init__(
        self, data_dir: Path, port: int | None = None, extra_env: dict[str, str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("KYCGW_")}
        self.env.update(
            KYCGW_PORT=str(self.port),
            KYCGW_DATA_DIR=str(data_dir),
            KYCGW_SANDBOX_WEBHOOK_RETRY_DELAYS_S="[0.2, 0.5]",
            # Poll quickly so vendors without session webhooks (Beltic) progress in a test.
            KYCGW_RECONCILE_TICK_S="0.1",
            KYCGW_BELTIC_POLL_INTERVAL_S="0.2",
            KYCGW_BELTIC_POLL_MAX_INTERVAL_S="0.5",
            KYCGW_VERIFA_POLL_INTERVAL_S="0.2",
            KYCGW_VERIFA_POLL_MAX_INTERVAL_S="0.5",
            KYCGW_UIP_POLL_INTERVAL_S="0.2",
            KYCGW_UIP_POLL_MAX_INTERVAL_S="0.5",
        )
        self.env.update(extra_env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"server-{self.port}-{self.starts}.log"

    def start(self, timeout_s: float = 30.0) -> None:
        self.starts += 1
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gateway.cli", "serve"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited:\n{self.log_path.read_text()}")
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing — a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> GatewayProcess:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stored_events(self) -> int:
        """Vendor events in the gateway's SQLite file: what a refused webhook must not add."""
        db = sqlite3.connect(self.data_dir / "gateway.db")
        try:
            return int(db.execute("select count(*) from vendor_events").fetchone()[0])
        finally:
            db.close()

    def log_text(self) -> str:
        return "\n".join(
            p.read_text() for p in sorted(self.data_dir.glob(f"server-{self.port}-*.log"))
        )


@contextmanager
def running_gateway(
    data_dir: Path, port: int | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[str]:
    with GatewayProcess(data_dir, port, extra_env) as server:
        yield server.base


def metric(
    base: str, name: str, credential: str | None = None, *, default: float | None = None
) -> float:
    """One series' value from the server's /metrics: a name, or a name with its labels as
    Prometheus prints them (`credential`: a key with stats:read, for a keyed server). A
    series not there yet is `default`, or an error without one."""
    headers = {"authorization": f"Bearer {credential}"} if credential else {}
    for line in httpx.get(f"{base}/metrics", headers=headers, timeout=5).text.splitlines():
        if line.startswith(f"{name} "):
            return float(line.rsplit(" ", 1)[1])
    if default is not None:
        return default
    raise AssertionError(f"{name} missing from /metrics")


def active_subscriptions(base: str, credential: str | None = None) -> float:
    """The server's own count of live subscriptions (from /metrics)."""
    return metric(base, "kycgw_active_subscriptions", credential)


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 20.0) -> None:
    """Poll a condition that lives in another process (nothing to await on here)."""
    for _ in range(int(timeout_s / 0.05)):
        if predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")
