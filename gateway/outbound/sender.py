"""One HTTP attempt: to the checked address (`targets.py`), with connect and read timeouts,
never following a redirect (a 3xx is a failure, like any non-2xx), reading at most a little
of the answer."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from gateway.outbound.targets import TargetPolicy, TargetRefused

#: What of a receiver's answer is kept in the delivery log (it is the receiver's text).
MAX_ERROR_CHARS = 200


@dataclass(frozen=True)
class AttemptResult:
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    def __init__(
        self,
        policy: TargetPolicy,
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
        concurrency: int,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.policy = policy
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            timeout=httpx.Timeout(
                connect=connect_timeout_s,
                read=read_timeout_s,
                write=read_timeout_s,
                pool=connect_timeout_s,
            ),
            limits=httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency),
            transport=transport,
            trust_env=False,
        )

    async def send(self, url: str, headers: dict[str, str], body: bytes) -> AttemptResult:
        started = time.perf_counter()
        try:
            target = await self.policy.resolve(url)
            request_headers = {**headers, "host": target.host_header()}
            extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
            async with self.client.stream(
                "POST",
                target.pinned_url(),
                content=body,
                headers=request_headers,
                extensions=extensions,
            ) as response:
                error = None
                if not 200 <= response.status_code < 300:
                    error = await _answer_excerpt(response)
                return AttemptResult(response.status_code, error, _ms(started))
        except TargetRefused as refused:
            return AttemptResult(None, f"refused target: {refused}", _ms(started))
        except httpx.TimeoutException as timeout:
            return AttemptResult(None, f"timeout ({type(timeout).__name__})", _ms(started))
        except httpx.HTTPError as error:
            return AttemptResult(
                None, f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS], _ms(started)
            )

    async def aclose(self) -> None:
        await self.client.aclose()


async def _answer_excerpt(response: httpx.Response) -> str:
    if 300 <= response.status_code < 400:
        return f"HTTP {response.status_code}: redirects are not followed"
    chunks = []
    size = 0
    async for chunk in response.aiter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size >= MAX_ERROR_CHARS:
            break
    text = b"".join(chunks)[:MAX_ERROR_CHARS].decode("utf-8", "replace").strip()
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
