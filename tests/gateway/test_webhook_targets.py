"""Where an outbound webhook may go (gateway/outbound/targets.py): https to public addresses
only, http only to loopback in dev mode, private ranges only when allowed by name, address or
network; checked again at every attempt, which connects to the very address that passed, so a
host that re-resolves to an internal address (DNS rebinding) gets nothing."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from gateway.outbound import targets
from gateway.outbound.sender import Sender
from gateway.outbound.targets import TargetPolicy, TargetRefused

KEYED = TargetPolicy(dev_mode=False)
DEV = TargetPolicy(dev_mode=True)


@asynccontextmanager
async def answering(
    policy: TargetPolicy, answer: httpx.Response, seen: list[httpx.Request]
) -> AsyncIterator[Sender]:
    """A sender whose every request gets `answer`, each request kept in `seen`."""

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer

    sender = Sender(
        policy,
        connect_timeout_s=1,
        read_timeout_s=1,
        concurrency=1,
        transport=httpx.MockTransport(receiver),
    )
    try:
        yield sender
    finally:
        await sender.aclose()


REFUSED_WHEN_KEYED = [
    "https://127.0.0.1/h",
    "https://127.8.9.10/h",
    "https://10.0.0.1/h",
    "https://172.16.5.4/h",
    "https://192.168.1.1/h",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/h",  # shared address space (carrier NAT)
    "https://0.0.0.0/h",
    "https://[::1]/h",
    "https://[fd00::1]/h",
    "https://[fe80::1]/h",
    "https://[::ffff:127.0.0.1]/h",  # IPv4-mapped loopback
    "https://224.0.0.1/h",
    "http://93.184.215.14/h",  # plain http, even public
    "ftp://93.184.215.14/h",
    "https://user:secret@93.184.215.14/h",
    "https:///nohost",
    "https://93.184.215.14/h#frag",
    "https://93.184.215.14:99999/h",
]


@pytest.mark.parametrize("url", REFUSED_WHEN_KEYED)
async def test_a_non_public_or_malformed_target_is_refused_outside_dev_mode(url: str) -> None:
    with pytest.raises(TargetRefused) as refused:
        await KEYED.resolve(url)
    assert "secret" not in str(refused.value)


async def test_a_public_https_target_passes_and_is_pinned_to_its_address() -> None:
    target = await KEYED.resolve("https://93.184.215.14:8443/hooks?x=1")
    assert target.address == ipaddress.ip_address("93.184.215.14")
    assert target.pinned_url() == "https://93.184.215.14:8443/hooks?x=1"


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("http://127.0.0.1:9000/h", True),
        ("https://127.0.0.1/h", True),
        ("https://[::1]/h", True),
        ("http://10.0.0.1/h", False),  # http only to loopback
        ("https://10.0.0.1/h", False),  # private needs the allow list, even in dev mode
        ("https://169.254.169.254/h", False),
    ],
)
async def test_dev_mode_allows_loopback_only(url: str, allowed: bool) -> None:
    if allowed:
        await DEV.resolve(url)
    else:
        with pytest.raises(TargetRefused):
            await DEV.resolve(url)


@pytest.mark.parametrize(
    ("allow", "url"),
    [
        (["10.0.0.0/8"], "https://10.1.2.3/h"),
        (["10.1.2.3"], "https://10.1.2.3/h"),
        (["fd00::/8"], "https://[fd12::1]/h"),
        (["hooks.internal"], "https://hooks.internal/h"),
    ],
)
async def test_the_allow_list_admits_named_private_targets(
    allow: list[str], url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def private(host: str, port: int) -> list[ipaddress.IPv4Address]:
        return [ipaddress.IPv4Address("10.9.9.9")]

    monkeypatch.setattr(targets, "_addresses", private if "internal" in url else targets._addresses)
    policy = TargetPolicy(dev_mode=False, allowed=allow)
    await policy.resolve(url)
    with pytest.raises(TargetRefused):
        await TargetPolicy(dev_mode=False, allowed=["192.168.0.0/16"]).resolve(url)


async def test_a_host_with_one_private_address_among_public_ones_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def mixed(host: str, port: int) -> list[ipaddress.IPv4Address]:
        return [ipaddress.IPv4Address("93.184.215.14"), ipaddress.IPv4Address("10.0.0.1")]

    monkeypatch.setattr(targets, "_addresses", mixed)
    with pytest.raises(TargetRefused, match=re.escape("10.0.0.1")):
        await KEYED.resolve("https://hooks.example.com/h")


async def test_an_attempt_checks_again_and_connects_to_the_checked_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    answers = iter(["93.184.215.14", "127.0.0.1"])

    async def rebinding(host: str, port: int) -> list[ipaddress.IPv4Address]:
        return [ipaddress.IPv4Address(next(answers))]

    monkeypatch.setattr(targets, "_addresses", rebinding)
    seen: list[httpx.Request] = []
    async with answering(KEYED, httpx.Response(204), seen) as sender:
        first = await sender.send("https://hooks.example.com/in", {"webhook-id": "m"}, b"{}")
        second = await sender.send("https://hooks.example.com/in", {"webhook-id": "m"}, b"{}")
    assert first.succeeded and first.status_code == 204
    (request,) = seen
    assert request.url.host == "93.184.215.14"
    assert request.headers["host"] == "hooks.example.com"
    assert request.extensions["sni_hostname"] == "hooks.example.com"
    assert not second.succeeded and second.status_code is None
    assert (
        second.error is not None
        and "refused target" in second.error
        and "127.0.0.1" in second.error
    )


async def test_a_redirect_is_not_followed_and_counts_as_a_failure() -> None:
    seen: list[httpx.Request] = []
    redirect = httpx.Response(307, headers={"location": "http://169.254.169.254/"})
    async with answering(DEV, redirect, seen) as sender:
        result = await sender.send("http://127.0.0.1:9/in", {}, b"{}")
    assert len(seen) == 1 and not result.succeeded and result.status_code == 307
    assert result.error is not None and "not followed" in result.error
