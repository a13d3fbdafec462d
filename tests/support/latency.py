"""`/healthz` latency while something heavy runs: the probe and its summary, shared by the
tests that prove a load (QR drawing, query bombs) does not stall the event loop."""

from __future__ import annotations

import statistics
import time

import httpx


def healthz_latencies(base: str, seconds: float = 3.0, timeout_s: float = 30.0) -> list[float]:
    """Seconds each `/healthz` took, probed every 20 ms for `seconds`; every probe must pass."""
    latencies: list[float] = []
    with httpx.Client(base_url=base, timeout=timeout_s) as client:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            assert client.get("/healthz").status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.02)
    return latencies


def p95(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=20)[-1]


def summary(latencies: list[float]) -> str:
    """n, median, p95 and max in milliseconds, for the test's printed report."""
    return (
        f"/healthz n={len(latencies)} median={statistics.median(latencies) * 1000:.1f} ms "
        f"p95={p95(latencies) * 1000:.1f} ms max={max(latencies) * 1000:.1f} ms"
    )
