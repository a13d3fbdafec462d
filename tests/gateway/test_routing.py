"""Routing, sticky splits, failover with circuit breakers, and gateway-level idempotency."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from adapters.base import (
    Capability,
    CreateSessionRequest,
    ErrorCode,
    ExpectedPerson,
    ProviderError,
    StepRequest,
    StepType,
)
from gateway.errors import ServiceError
from gateway.routing_rules import RoutingConfig, RoutingRule
from gateway.vendors.breakers import Breakers, BreakerState
from gateway.vendors.routing import pick_weighted
from tests.conftest import FakeClock
from tests.gateway.fake_service import fake_service, named_vendor

SPLIT = RoutingConfig(rules=[RoutingRule(name="ab", split={"alpha": 70, "beta": 30})])


async def test_split_is_70_30_within_5_percent_and_sticky(tmp_path: Path, clock: FakeClock) -> None:
    alpha, beta = named_vendor("alpha"), named_vendor("beta")
    async with fake_service(tmp_path, clock, alpha, others=(beta,), routing=SPLIT) as (svc, _):
        chosen = {}
        for i in range(1000):
            row = await svc.create_session(None, CreateSessionRequest(client_reference=f"p{i}"))
            chosen[f"p{i}"] = row.provider
            assert row.route_rule == "ab"
        share = sum(1 for p in chosen.values() if p == "alpha") / 1000
        assert 0.65 <= share <= 0.75, share
        for i in range(0, 1000, 37):  # the same person always lands on the same vendor
            again = await svc.create_session(None, CreateSessionRequest(client_reference=f"p{i}"))
            assert again.provider == chosen[f"p{i}"]


def test_sticky_pick_is_a_pure_function_of_the_reference() -> None:
    split = {"alpha": 70, "beta": 30}
    assert {pick_weighted(split, "same-person") for _ in range(50)} == {
        pick_weighted(split, "same-person")
    }


async def test_rules_by_country_and_capability_and_explicit_wins(
    tmp_path: Path, clock: FakeClock
) -> None:
    alpha, beta = named_vendor("alpha"), named_vendor("beta")
    type(beta).capabilities = beta.capabilities | {Capability.STEPS}
    routing = RoutingConfig(
        rules=[
            RoutingRule(name="gulf", when={"document_country": ["ARE"]}, provider="beta"),
        ]
    )
    async with fake_service(tmp_path, clock, alpha, others=(beta,), routing=routing) as (svc, _):
        gulf = await svc.create_session(
            None, CreateSessionRequest(expected_person=ExpectedPerson(document_country="ARE"))
        )
        assert (gulf.provider, gulf.route_rule) == ("beta", "gulf")
        other = await svc.create_session(
            None, CreateSessionRequest(expected_person=ExpectedPerson(document_country="ESP"))
        )
        assert (other.provider, other.route_rule) == ("alpha", "default")
        stepped = await svc.create_session(
            None, CreateSessionRequest(steps=(StepRequest(StepType.IDENTIFY),))
        )
        assert (stepped.provider, stepped.route_rule) == ("beta", "capability")
        explicit = await svc.create_session(
            "alpha", CreateSessionRequest(expected_person=ExpectedPerson(document_country="ARE"))
        )
        assert (explicit.provider, explicit.route_rule) == ("alpha", "explicit")
        with pytest.raises(ServiceError) as info:
            await svc.create_session(
                "alpha", CreateSessionRequest(steps=(StepRequest(StepType.IDENTIFY),))
            )
        assert info.value.problems[0].field == ("input", "steps")


def _failing(vendor, code: ErrorCode):  # type: ignore[no-untyped-def]
    calls = {"n": 0}

    async def create(request):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        raise ProviderError(code, f"{vendor.name} says no")

    vendor.create_session = create  # type: ignore[method-assign]
    return calls


async def test_transient_failure_fails_over_and_opens_the_breaker(
    tmp_path: Path, clock: FakeClock
) -> None:
    alpha, beta = named_vendor("alpha"), named_vendor("beta")
    routing = RoutingConfig(failover=["beta"])
    breakers = Breakers(threshold=3, cooldown_s=0.3)
    async with fake_service(
        tmp_path, clock, alpha, others=(beta,), routing=routing, breakers=breakers
    ) as (svc, _):
        original = alpha.create_session
        calls = _failing(alpha, ErrorCode.PROVIDER_UNAVAILABLE)
        for _ in range(5):
            row = await svc.create_session(None, CreateSessionRequest())
            assert row.provider == "beta"
            assert row.route_attempts and row.route_attempts[0]["provider"] == "alpha"
        assert calls["n"] == 3  # then the breaker stopped calling alpha
        assert row.route_attempts[0]["code"] == "CIRCUIT_OPEN"
        assert await breakers.state("alpha") is BreakerState.OPEN
        alpha.create_session = original  # type: ignore[method-assign]
        await asyncio.sleep(0.35)
        assert await breakers.state("alpha") is BreakerState.HALF_OPEN
        probe = await svc.create_session(None, CreateSessionRequest())
        assert probe.provider == "alpha" and not probe.route_attempts
        assert await breakers.state("alpha") is BreakerState.CLOSED


async def test_caller_errors_never_trip_the_breaker_or_fail_over(
    tmp_path: Path, clock: FakeClock
) -> None:
    alpha, beta = named_vendor("alpha"), named_vendor("beta")
    breakers = Breakers(threshold=2, cooldown_s=60)
    async with fake_service(
        tmp_path,
        clock,
        alpha,
        others=(beta,),
        routing=RoutingConfig(failover=["beta"]),
        breakers=breakers,
    ) as (svc, _):
        _failing(alpha, ErrorCode.BAD_USER_INPUT)
        for _ in range(4):
            with pytest.raises(ServiceError) as info:
                await svc.create_session(None, CreateSessionRequest())
            assert info.value.problems[0].code is ErrorCode.BAD_USER_INPUT
        assert await breakers.state("alpha") is BreakerState.CLOSED
        assert beta.fetches == [] and beta._next == 0


async def test_explicit_provider_never_fails_over(tmp_path: Path, clock: FakeClock) -> None:
    alpha, beta = named_vendor("alpha"), named_vendor("beta")
    async with fake_service(
        tmp_path, clock, alpha, others=(beta,), routing=RoutingConfig(failover=["beta"])
    ) as (svc, _):
        _failing(alpha, ErrorCode.PROVIDER_UNAVAILABLE)
        with pytest.raises(ServiceError) as info:
            await svc.create_session("alpha", CreateSessionRequest())
        assert info.value.problems[0].code is ErrorCode.PROVIDER_UNAVAILABLE
        assert beta._next == 0


async def test_concurrent_creates_with_one_key_make_one_vendor_session(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with fake_service(tmp_path, clock) as (svc, vendor):
        original = vendor.create_session

        async def slow(request):  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.05)
            return await original(request)

        vendor.create_session = slow  # type: ignore[method-assign]
        request = CreateSessionRequest(client_reference="same", idempotency_key="key-1")
        rows = await asyncio.gather(*(svc.create_session(None, request) for _ in range(10)))
        assert len({r.id for r in rows}) == 1
        assert vendor._next == 1
        with pytest.raises(ServiceError) as info:
            await svc.create_session(
                None, CreateSessionRequest(client_reference="other", idempotency_key="key-1")
            )
        assert info.value.problems[0].field == ("input", "idempotencyKey")


async def test_a_failed_create_releases_its_idempotency_key(
    tmp_path: Path, clock: FakeClock
) -> None:
    async with fake_service(tmp_path, clock) as (svc, vendor):
        original = vendor.create_session
        _failing(vendor, ErrorCode.PROVIDER_UNAVAILABLE)
        request = CreateSessionRequest(idempotency_key="retry-me")
        with pytest.raises(ServiceError):
            await svc.create_session(None, request)
        vendor.create_session = original  # type: ignore[method-assign]
        row = await svc.create_session(None, request)
        assert row.provider == "fake"
