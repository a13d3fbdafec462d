"""HTTP load from wrk (C, its own process): fixed concurrency, keep-alive, latency percentiles.

Requests are pre-built (signed webhooks must each be unique), written one per line and replayed
by `lua/replay.lua`; this module writes that file, runs wrk and parses its JSON summary.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

REPLAY_SCRIPT = Path(__file__).resolve().parent / "lua" / "replay.lua"
MARKER = "BENCH_JSON "


class WrkMissing(RuntimeError):
    pass


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: Mapping[str, str]
    body: str = ""

    def line(self) -> str:
        for part in (self.method, self.path, self.body, *self.headers, *self.headers.values()):
            if any(c in part for c in "\t\n\r\x1e\x1f"):
                raise ValueError("request fields must not contain tabs, newlines or separators")
        headers = "\x1e".join(f"{name}\x1f{value}" for name, value in self.headers.items())
        return f"{self.method}\t{self.path}\t{headers}\t{self.body}"


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    latency_ms: dict[str, float]
    errors: dict[str, int]
    statuses: dict[str, int]
    overrun: int

    @property
    def per_second(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    def ok(self, status: int = 200) -> int:
        return self.statuses.get(str(status), 0)


def write_requests(path: Path, requests: Iterable[Request]) -> int:
    count = 0
    with path.open("w") as out:
        for request in requests:
            out.write(request.line())
            out.write("\n")
            count += 1
    return count


def wrk_binary() -> str:
    found = shutil.which("wrk")
    if not found:
        raise WrkMissing(
            "wrk is not installed: `apt-get install wrk` (Debian), or run ./scripts/bench, "
            "which installs it"
        )
    return found


def run_wrk(
    base_url: str,
    requests_file: Path,
    *,
    connections: int,
    duration_s: float,
    once: bool,
    threads: int = 1,
    timeout_s: float = 10.0,
) -> WrkResult:
    env = dict(os.environ)
    env.update(
        REPLAY_FILE=str(requests_file),
        REPLAY_ONCE="1" if once else "0",
        REPLAY_THREADS=str(threads),
    )
    argv = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration_s))}s",
        f"--timeout={max(1, round(timeout_s))}s",
        "-s",
        str(REPLAY_SCRIPT),
        base_url,
    ]
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr[-2000:]}")
    for line in completed.stdout.splitlines():
        if line.startswith(MARKER):
            data = json.loads(line[len(MARKER) :])
            return WrkResult(
                requests=data["requests"],
                duration_s=data["duration_us"] / 1e6,
                latency_ms={k: v / 1000 for k, v in data["latency_us"].items()},
                errors=data["errors"],
                statuses=data["statuses"],
                overrun=data["overrun"],
            )
    raise RuntimeError(f"wrk printed no summary:\n{completed.stdout[-2000:]}")
