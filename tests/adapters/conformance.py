"""The contract every adapter honours. A vendor's test module subclasses `EmulatorConformance`
(the contract plus the same calls against the vendor's emulator; `AdapterConformance` alone for
a vendor without one) and supplies the fixtures; the tests here are inherited unchanged
(after LiteLLM's `BaseLLMChatTest`, Libcloud's contract mixin).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

import httpx
import pytest

from adapters.base import (
    AdapterConfig,
    Capability,
    CreateSessionRequest,
    DecisionAction,
    Environment,
    ErrorCode,
    ProviderAdapter,
    ProviderError,
    SandboxConfig,
    SandboxHandle,
    SessionStatus,
    UnsupportedByProvider,
    WebhookEvent,
    WebhookRejected,
    WebhookRejectReason,
)
from adapters.registry import adapter_class

Webhook = tuple[bytes, dict[str, str]]

#: Capability → a call exercising it. Calls for capabilities an adapter lacks must raise
#: `UnsupportedByProvider` before touching the network.
ACTIONS: dict[Capability, Callable[[ProviderAdapter], Awaitable[object]]] = {
    Capability.CANCEL: lambda a: a.cancel_session("conformance-id"),
    Capability.DECIDE: lambda a: a.decide_session("conformance-id", DecisionAction.APPROVE, None),
    Capability.REQUEST_RESUBMISSION: lambda a: a.decide_session(
        "conformance-id", DecisionAction.REQUEST_RESUBMISSION, None
    ),
    Capability.CONTINUE: lambda a: a.continue_session("conformance-id"),
    Capability.RESUME: lambda a: a.resume_session("conformance-id"),
    Capability.REDACT: lambda a: a.redact_session("conformance-id"),
    Capability.UPDATE_METADATA: lambda a: a.update_metadata("conformance-id", {"k": "v"}),
    Capability.REPROCESS: lambda a: a.reprocess_session("conformance-id"),
    Capability.ISSUE_LINK: lambda a: a.issue_link("conformance-id"),
    Capability.LIST: lambda a: a.list_sessions(limit=1),
}


@dataclass
class Sandboxed:
    adapter: ProviderAdapter
    build: Callable[..., ProviderAdapter]
    sandbox: SandboxHandle


#: Keys (lower case, without separators) whose values are personal data in vendor payloads.
PERSONAL_KEYS = frozenset(
    {
        "firstname",
        "lastname",
        "fullname",
        "givennames",
        "givenname",
        "surname",
        "familyname",
        "dateofbirth",
        "birthdate",
        "dob",
        "documentnumber",
        "personalnumber",
        "idnumber",
        "email",
        "phone",
        "phonenumber",
        "address",
    }
)


def personal_values(data: object) -> set[str]:
    """Every string stored under a personal-data key anywhere in a payload."""
    found: set[str] = set()
    if isinstance(data, dict):
        for key, value in data.items():
            normalized = str(key).lower().replace("_", "").replace("-", "")
            if normalized in PERSONAL_KEYS and isinstance(value, str) and len(value) >= 4:
                found.add(value)
            found |= personal_values(value)
    elif isinstance(data, list):
        for item in data:
            found |= personal_values(item)
    return found


GARBAGE_STATUSES = ["", " ", "unknown", "???", "null", "None", "0", "\u00a0", "x" * 1000]


class AdapterConformance:
    """Fixtures to provide: `adapter`, `expected_statuses` (the vendor's column of its docs/vendors
    page, written out), `signed_webhook` (a valid session event) and `unsigned_webhook` (same, no
    signature)."""

    @pytest.fixture
    def adapter(self) -> ProviderAdapter:
        raise NotImplementedError

    @pytest.fixture
    def expected_statuses(self) -> Mapping[str, SessionStatus]:
        raise NotImplementedError

    @pytest.fixture
    def vocabulary(self, adapter: ProviderAdapter) -> frozenset[str]:
        return type(adapter).vocabulary()

    @pytest.fixture
    def signed_webhook(self) -> Webhook:
        raise NotImplementedError

    @pytest.fixture
    def unsigned_webhook(self) -> Webhook:
        raise NotImplementedError

    @pytest.fixture
    def create_request(self) -> CreateSessionRequest:
        """The smallest valid create for this vendor (override, e.g. UIP needs steps)."""
        return CreateSessionRequest(client_reference="conformance-ref", metadata={"k": "v"})

    @pytest.fixture
    def rate_limited_reply(self) -> httpx.Response:
        """The vendor's documented 429 answer (body and headers, incl. Retry-After)."""
        raise NotImplementedError

    # -- identity ---------------------------------------------------------------------------
    def test_declares_identity(self, adapter: ProviderAdapter) -> None:
        assert adapter.name and adapter.name == adapter.name.lower()
        assert adapter.default_base_url.startswith("https://")
        assert adapter.credential_keys and all(adapter.credential_keys)

    def test_is_registered(self, adapter: ProviderAdapter) -> None:
        assert adapter_class(adapter.name) is type(adapter)

    # -- status table -----------------------------------------------------------------------
    def test_table_covers_the_whole_vocabulary(
        self, vocabulary: frozenset[str], expected_statuses: Mapping[str, SessionStatus]
    ) -> None:
        assert vocabulary == frozenset(expected_statuses)

    def test_every_documented_status_maps(
        self, adapter: ProviderAdapter, expected_statuses: Mapping[str, SessionStatus]
    ) -> None:
        wrong = {
            raw: (adapter.map_status(raw), want)
            for raw, want in expected_statuses.items()
            if adapter.map_status(raw) is not want
        }
        assert not wrong, wrong

    def test_garbage_statuses_map_to_none(
        self, adapter: ProviderAdapter, vocabulary: frozenset[str]
    ) -> None:
        variants = {v.swapcase() for v in vocabulary} | {f" {v} " for v in vocabulary}
        for raw in [*GARBAGE_STATUSES, *sorted(variants - vocabulary)]:
            assert adapter.map_status(raw) is None, raw

    # -- capabilities -----------------------------------------------------------------------
    def test_capabilities_are_a_frozenset_of_capability(self, adapter: ProviderAdapter) -> None:
        assert isinstance(adapter.capabilities, frozenset)
        assert adapter.capabilities and all(isinstance(c, Capability) for c in adapter.capabilities)

    def test_session_capabilities_never_exceed_the_adapter(
        self, adapter: ProviderAdapter, vocabulary: frozenset[str]
    ) -> None:
        for raw in [*sorted(vocabulary), None, "unknown"]:
            allowed = adapter.session_capabilities(raw)
            assert isinstance(allowed, frozenset)
            assert allowed <= adapter.capabilities, raw

    def test_declared_capabilities_are_implemented(self, adapter: ProviderAdapter) -> None:
        """The other way round: a declared action has its method, not the base refusal."""
        assert type(adapter).unimplemented_capabilities() == ()

    def test_declared_actions_are_capabilities(self, adapter: ProviderAdapter) -> None:
        cls = type(adapter)
        assert (cls.always_allowed or frozenset()) <= cls.capabilities
        for row, actions in cls.actions_by_status.items():
            assert actions and actions <= cls.capabilities, row

    def test_declared_rows_are_statuses(self, adapter: ProviderAdapter) -> None:
        """Every row of the per-status tables is a raw status that reads as that row (a typo
        in a table would silently allow or poll nothing)."""
        cls = type(adapter)
        for row in [*cls.actions_by_status, *cls.polled_statuses]:
            reading = cls.read_status(row)
            assert reading is not None and reading.row == row, row

    def test_polling_follows_the_declarations(
        self, adapter: ProviderAdapter, vocabulary: frozenset[str]
    ) -> None:
        cls = type(adapter)
        if cls.poll_non_final:
            assert not cls.polled_statuses
        for raw in vocabulary:
            status = adapter.map_status(raw)
            if status is not None and status.is_final:
                assert not adapter.needs_polling(raw), raw

    async def test_missing_actions_raise_unsupported(self, adapter: ProviderAdapter) -> None:
        missing = [c for c in ACTIONS if c not in adapter.capabilities]
        for capability in missing:
            with pytest.raises(UnsupportedByProvider) as info:
                await ACTIONS[capability](adapter)
            assert info.value.code == "UNSUPPORTED_BY_PROVIDER"

    # -- webhooks -----------------------------------------------------------------------------
    def test_unsigned_webhook_is_rejected(
        self, adapter: ProviderAdapter, unsigned_webhook: Webhook
    ) -> None:
        with pytest.raises(WebhookRejected) as info:
            adapter.parse_webhook(*unsigned_webhook)
        assert info.value.reason is WebhookRejectReason.SIGNATURE

    def test_tampered_webhook_is_rejected(
        self, adapter: ProviderAdapter, signed_webhook: Webhook
    ) -> None:
        body, headers = signed_webhook
        tampered = body[:-1] + b', "injected": true}'
        with pytest.raises(WebhookRejected):
            adapter.parse_webhook(tampered, headers)

    def test_signed_webhook_parses(
        self,
        adapter: ProviderAdapter,
        signed_webhook: Webhook,
        expected_statuses: Mapping[str, SessionStatus],
    ) -> None:
        events = adapter.parse_webhook(*signed_webhook)
        assert events and all(isinstance(e, WebhookEvent) for e in events)
        for event in events:
            assert event.dedupe_key
            if event.snapshot is None:
                # A hint-only event (e.g. Beltic document webhooks): the gateway reads the
                # session it names right away.
                assert event.refetch and event.provider_session_id
                continue
            assert event.snapshot.provider_session_id == event.provider_session_id
            assert event.snapshot.status is expected_statuses[event.snapshot.provider_status]

    async def test_rate_limit_maps_with_retry_after(
        self, adapter: ProviderAdapter, rate_limited_reply: httpx.Response
    ) -> None:
        limited = type(adapter)(
            replace(
                adapter.config,
                transport=httpx.MockTransport(lambda _: rate_limited_reply),
                retry_wait_s=0,
            )
        )
        try:
            with pytest.raises(ProviderError) as info:
                await limited.fetch_session("conformance-id")
        finally:
            await limited.aclose()
        assert info.value.code is ErrorCode.RATE_LIMITED
        assert info.value.retry_after and info.value.retry_after > 0

    def test_dedupe_key_is_stable(self, adapter: ProviderAdapter, signed_webhook: Webhook) -> None:
        first = [e.dedupe_key for e in adapter.parse_webhook(*signed_webhook)]
        again = [e.dedupe_key for e in adapter.parse_webhook(*signed_webhook)]
        assert first == again


class EmulatorConformance(AdapterConformance):
    """The contract against the vendor's own emulator, for every vendor that ships one (all
    registered vendors do; a vendor without a sandbox subclasses `AdapterConformance`)."""

    @pytest.fixture
    async def sandboxed(self, adapter: ProviderAdapter) -> AsyncIterator[Sandboxed]:
        """The adapter wired to its own emulator, as the gateway does without credentials."""
        cls = type(adapter)
        sandbox = cls.build_sandbox(
            SandboxConfig(
                public_base_url=f"http://gateway.test/sandbox/{adapter.name}",
                webhook_url=f"http://gateway.test/webhooks/{adapter.name}",
                webhook_transport=httpx.MockTransport(lambda _: httpx.Response(200)),
            )
        )
        if sandbox is None:
            pytest.fail(f"{adapter.name} declares no sandbox: subclass AdapterConformance")

        def build(api_key: str | None = None) -> ProviderAdapter:
            return cls(
                AdapterConfig(
                    environment=Environment.SANDBOX,
                    base_url=f"http://{adapter.name}.sandbox",
                    api_key=api_key or sandbox.api_key,
                    webhook_secret=sandbox.webhook_secret,
                    options=dict(sandbox.options),
                    transport=httpx.ASGITransport(app=sandbox.app),
                    retry_wait_s=0,
                )
            )

        real = build()
        yield Sandboxed(real, build, sandbox)
        await real.aclose()
        await sandbox.aclose()

    # -- create, read and errors against the vendor's emulator -------------------------------
    async def test_create_then_read(
        self, sandboxed: Sandboxed, create_request: CreateSessionRequest
    ) -> None:
        created = await sandboxed.adapter.create_session(create_request)
        assert created.provider_session_id
        assert created.status is SessionStatus.CREATED
        assert created.environment is Environment.SANDBOX
        # How the person starts: a link, a QR code, or (no hosted page) the adapter's words.
        assert (
            created.verification_url or created.qr_code or type(sandboxed.adapter).person_flow_note
        )
        read = await sandboxed.adapter.fetch_session(created.provider_session_id)
        assert read.provider_session_id == created.provider_session_id
        assert read.status is SessionStatus.CREATED
        assert read.provider_status == created.provider_status

    async def test_logs_hold_no_secrets_or_personal_data(
        self,
        sandboxed: Sandboxed,
        create_request: CreateSessionRequest,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Run the vendor's flow at DEBUG: no key, secret, capability URL, QR code, name,
        birth date or document number may reach a log record."""
        caplog.set_level(logging.DEBUG)
        adapter, sandbox = sandboxed.adapter, sandboxed.sandbox
        created = await adapter.create_session(create_request)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox.app), base_url="http://sandbox"
        ) as control:
            for action in ("open", "submit", "approve"):
                await control.post(
                    f"/sessions/{created.provider_session_id}/simulate", json={"action": action}
                )
        read = await adapter.fetch_session(created.provider_session_id)
        bad = sandboxed.build("conformance-wrong-key-0123456789")
        try:
            with pytest.raises(ProviderError):
                await bad.create_session(create_request)
        finally:
            await bad.aclose()
        logged = "\n".join([caplog.text, *(str(vars(record)) for record in caplog.records)])
        secrets = {
            sandbox.api_key,
            sandbox.webhook_secret,
            "conformance-wrong-key-0123456789",
            created.verification_url,
            created.qr_code,
            *(v for k, v in sandbox.options.items() if "secret" in k or "value" in k),
            *personal_values(read.raw),
            *personal_values(created.raw),
        }
        leaked = sorted(s for s in secrets if isinstance(s, str) and len(s) >= 6 and s in logged)
        assert not leaked, f"found in logs: {[s[:12] + '...' for s in leaked]}"

    async def test_unknown_session_is_not_found(self, sandboxed: Sandboxed) -> None:
        with pytest.raises(ProviderError) as info:
            await sandboxed.adapter.fetch_session("conformance-no-such-session")
        assert info.value.code is ErrorCode.NOT_FOUND

    async def test_wrong_key_is_provider_rejected(
        self, sandboxed: Sandboxed, create_request: CreateSessionRequest
    ) -> None:
        bad = sandboxed.build("conformance-wrong-key")
        try:
            with pytest.raises(ProviderError) as info:
                await bad.create_session(create_request)
        finally:
            await bad.aclose()
        assert info.value.code is ErrorCode.PROVIDER_REJECTED
        assert "conformance-wrong-key" not in info.value.message
