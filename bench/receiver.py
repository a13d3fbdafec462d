"""The delivery benchmark's side of the receiver (`bench/receiver_app.py`): start it, reset
it, wait for deliveries, and check that what arrived is exactly what was owed."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import httpx

from bench.process import ServedProcess, free_port, python_argv
from bench.receiver_app import PATH, SECRET_ENV

REPO = Path(__file__).resolve().parents[1]
#: Give up when the receiver sees nothing new for this long.
STALL_S = 30.0
POLL_S = 0.05


class DeliveryMismatch(RuntimeError):
    """What arrived is not what was owed: the run measured nothing."""


def receiver_process(work_dir: Path, secret: str) -> ServedProcess:
    """The secret goes in the environment, not on the command line."""
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env[SECRET_ENV] = secret
    return ServedProcess(
        python_argv("-m", "bench.receiver_app", str(port)),
        port=port,
        env=env,
        log_path=work_dir / f"receiver-{port}.log",
    )


class ReceiverClient:
    def __init__(self, receiver: ServedProcess, client: httpx.AsyncClient) -> None:
        self.receiver = receiver
        self.client = client

    @property
    def url(self) -> str:
        return self.receiver.base + PATH

    async def reset(self) -> None:
        (await self.client.post(self.receiver.base + "/reset")).raise_for_status()

    async def stats(self) -> dict[str, Any]:
        answer = await self.client.get(self.receiver.base + "/stats")
        answer.raise_for_status()
        return dict(answer.json())

    async def wait_for(self, ids: int) -> None:
        """Until `ids` distinct webhook-ids arrived; a stall or a bad signature is an error."""
        seen, moved = -1, time.monotonic()
        while True:
            progress = (await self.client.get(self.receiver.base + "/progress")).json()
            if progress["rejected"]:
                raise DeliveryMismatch(f"receiver rejected {progress['rejected']} signatures")
            if progress["ids"] >= ids:
                return
            if progress["accepted"] != seen:
                seen, moved = progress["accepted"], time.monotonic()
            elif time.monotonic() - moved > STALL_S:
                raise DeliveryMismatch(
                    f"receiver stalled at {progress['ids']} of {ids} webhook-ids for {STALL_S} s"
                )
            await asyncio.sleep(POLL_S)


def check_arrivals(stats: dict[str, Any], expected: set[str]) -> None:
    """Every expected webhook-id exactly once, nothing else, every signature good."""
    counts: dict[str, int] = stats["counts"]
    missing = expected - counts.keys()
    unexpected = counts.keys() - expected
    repeated = [webhook_id for webhook_id, n in counts.items() if n != 1]
    if missing or unexpected or repeated or stats["rejected"]:
        raise DeliveryMismatch(
            f"{len(missing)} missing, {len(unexpected)} unexpected, {len(repeated)} repeated "
            f"webhook-ids, {stats['rejected']} bad signatures (of {len(expected)})"
        )
