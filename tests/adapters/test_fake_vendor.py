"""A vendor that is one folder (tests/adapters/fake_vendor/) and one registry line passes the
whole adapter conformance suite: the declarations are all the base class needs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from adapters.base import (
    Capability,
    CreateSessionRequest,
    Environment,
    ProviderAdapter,
    SessionStatus,
)
from adapters.registry import adapter_class, provider_names, registered
from tests.adapters.conformance import AdapterConformance, Webhook
from tests.adapters.fake_vendor.adapter import AcmeAdapter, sign
from tests.adapters.fake_vendor.vendor import AcmeVendor
from tests.adapters.http_conformance import Call, ErrorReply, HttpConformance
from tests.support.scripted_vendor import LiveConfig

TARGET = "tests.adapters.fake_vendor.adapter:AcmeAdapter"
S1 = "acme-1"
make_config = LiveConfig(
    base_url="https://api.acme.invalid",
    api_key="acme-test-key",
    webhook_secret="acme-test-secret",
    now=datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
)


@pytest.fixture(autouse=True)
def acme_registered() -> Iterator[None]:
    with registered("acme", TARGET):
        yield


def event(status: str = "passed") -> bytes:
    return json.dumps({"id": "evt-1", "session": {"id": S1, "status": status}}).encode()


def reply(status: int, error: str, code: str | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": error, **({"code": code} if code else {})})


class TestAcmeConformance(AdapterConformance, HttpConformance):
    @pytest.fixture
    def adapter(self) -> AcmeAdapter:
        return AcmeAdapter(make_config())

    @pytest.fixture
    def expected_statuses(self) -> dict[str, SessionStatus]:
        return {
            "new": SessionStatus.CREATED,
            "started": SessionStatus.IN_PROGRESS,
            "passed": SessionStatus.APPROVED,
            "failed": SessionStatus.DECLINED,
            "cancelled": SessionStatus.CANCELLED,
        }

    @pytest.fixture
    def signed_webhook(self) -> Webhook:
        body = event()
        return body, {"X-Acme-Signature": sign(body, "acme-test-secret")}

    @pytest.fixture
    def unsigned_webhook(self) -> Webhook:
        return event(), {}

    @pytest.fixture
    def rate_limited_reply(self) -> httpx.Response:
        return httpx.Response(429, json={"error": "slow down"}, headers={"Retry-After": "30"})

    @pytest.fixture
    def session_id(self) -> str:
        return S1

    @pytest.fixture
    def read_reply(self) -> httpx.Response:
        return httpx.Response(200, json={"id": S1, "status": "started"})

    @pytest.fixture
    def read_status(self) -> SessionStatus:
        return SessionStatus.IN_PROGRESS

    @pytest.fixture
    def quoted_read(self) -> tuple[str, bytes]:
        return "../admin", b"/sessions/..%2Fadmin"

    @pytest.fixture
    def unretried_writes(self) -> list[Call]:
        return [lambda a: a.cancel_session(S1)]

    @pytest.fixture
    def retried_call(self) -> Call:
        return lambda a: a.fetch_session(S1)

    @pytest.fixture
    def error_reply(self) -> ErrorReply:
        return reply


def test_registered_only_inside_the_block() -> None:
    assert "acme" in provider_names()
    assert adapter_class("acme") is AcmeAdapter


def test_registering_a_known_name_is_refused() -> None:
    with pytest.raises(ValueError), registered("didit", TARGET):
        pass


def test_the_base_class_reads_the_declarations() -> None:
    acme: ProviderAdapter = AcmeAdapter(make_config())
    assert acme.vocabulary() == {"new", "started", "passed", "failed", "cancelled"}
    assert acme.map_status("passed") is SessionStatus.APPROVED
    assert acme.map_status("Passed") is None
    assert Capability.CANCEL in acme.session_capabilities("new")
    assert Capability.CANCEL not in acme.session_capabilities("passed")
    assert acme.session_capabilities(None) == acme.always_allowed
    assert acme.needs_polling("started") and not acme.needs_polling("new")


async def test_create_read_cancel_against_the_transport_fake() -> None:
    vendor = AcmeVendor("acme-test-key")
    acme = AcmeAdapter(make_config(transport=vendor.transport()))
    created = await acme.create_session(CreateSessionRequest(client_reference="ref-1"))
    assert (created.status, created.environment) == (SessionStatus.CREATED, Environment.LIVE)
    assert (await acme.fetch_session(created.provider_session_id)).client_reference == "ref-1"
    cancelled = await acme.cancel_session(created.provider_session_id)
    assert cancelled is not None and cancelled.status is SessionStatus.CANCELLED
    await acme.aclose()


def test_unregistered_after_the_block() -> None:
    with registered("acme-2", TARGET):
        assert "acme-2" in provider_names()
    assert "acme-2" not in provider_names()
