"""The contract every adapter honours. A vendor's test module subclasses `AdapterConformance`
and supplies the fixtures; the tests here are inherited unchanged (style.md: LiteLLM's
`BaseLLMChatTest`, Libcloud's contract mixin).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

import pytest

from adapters.base import (
    Capability,
    DecisionAction,
    ProviderAdapter,
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
}

GARBAGE_STATUSES = ["", " ", "unknown", "???", "null", "None", "0", "\u00a0", "x" * 1000]


class AdapterConformance:
    """Fixtures to provide: `adapter`, `expected_statuses` (design §3.2 column, written out),
    `signed_webhook` (a valid session event) and `unsigned_webhook` (same, no signature)."""

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
            assert event.snapshot is not None
            assert event.snapshot.provider_session_id == event.provider_session_id
            assert event.snapshot.status is expected_statuses[event.snapshot.provider_status]

    def test_dedupe_key_is_stable(self, adapter: ProviderAdapter, signed_webhook: Webhook) -> None:
        first = [e.dedupe_key for e in adapter.parse_webhook(*signed_webhook)]
        again = [e.dedupe_key for e in adapter.parse_webhook(*signed_webhook)]
        assert first == again
