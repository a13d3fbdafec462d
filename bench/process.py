"""A server under test in its own process: started, waited for, measured from /proc, stopped.

Load generators run in other processes, so what the server spends is read from the kernel's
accounting of its process (CPU seconds, resident memory), not guessed from the client side.
"""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def raise_fd_limit() -> None:
    """Thousands of websockets need thousands of descriptors: lift the soft limit to the hard."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


class ServedProcess:
    """`argv` serving HTTP on 127.0.0.1:`port`, ready once `ready_path` answers 200."""

    def __init__(
        self,
        argv: list[str],
        *,
        port: int,
        env: dict[str, str],
        log_path: Path,
        ready_path: str = "/healthz",
    ) -> None:
        self.argv = argv
        self.port = port
        self.env = env
        self.log_path = log_path
        self.ready_path = ready_path
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.argv,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=raise_fd_limit,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.argv[:3]} exited with {self.process.returncode}; "
                    f"log: {self.log_path}\n{self.log_tail()}"
                )
            try:
                if httpx.get(self.base + self.ready_path, timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{self.argv[:3]} not ready in {timeout_s} s; log: {self.log_path}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        return _stat_cpu_seconds(Path(f"/proc/{self.pid}/stat"))

    def main_thread_cpu_seconds(self) -> float:
        """The same for the main thread alone: for an asyncio server, its event loop. The
        rest of `cpu_seconds` is spent in other threads (aiosqlite runs one per connection)."""
        return _stat_cpu_seconds(Path(f"/proc/{self.pid}/task/{self.pid}/stat"))

    def rss_bytes(self) -> int:
        return int(Path(f"/proc/{self.pid}/statm").read_text().split()[1]) * PAGE_SIZE

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> ServedProcess:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _stat_cpu_seconds(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def python_argv(*args: str) -> list[str]:
    return [sys.executable, *args]
