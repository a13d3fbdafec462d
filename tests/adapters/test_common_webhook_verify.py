"""The webhook-verification template (adapters/common/webhook_verify.py): its mechanics on a toy
scheme, and every adapter's webhook entry honouring the configured body limit before anything
else (the vendors' own schemes are in test_<vendor>_signature.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import pytest

from adapters.base import AdapterConfig, Environment, WebhookRejected, WebhookRejectReason
from adapters.common.webhook_verify import (
    Claim,
    WebhookScheme,
    check_size,
    header_value,
    unix_seconds,
)
from adapters.registry import adapter_class, provider_names
from tests.adapters.webhook_conformance import spy_on_parsing

SECRET = "toy-secret"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class ToyScheme(WebhookScheme):
    """`X-Sig` over the raw bytes; `X-Late` (optional) over a message built only on demand."""

    accept_base64 = True
    signature_prefixes = ("sha256=",)

    def __init__(self) -> None:
        self.built: list[str] = []

    def claim(self, headers: Mapping[str, str]) -> Claim:
        signatures = {
            kind: (value,)
            for kind, name in (("raw", "x-sig"), ("late", "x-late"))
            if (value := header_value(headers, name)) is not None
        }
        if not signatures:
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "missing X-Sig")
        stamp = headers.get("x-time")
        timestamp = None if stamp is None else unix_seconds(stamp, "X-Time")
        return Claim(signatures, timestamp, "X-Time")

    def signed_messages(self, kind: str, raw: bytes, claim: Claim) -> Iterable[bytes]:
        self.built.append(kind)
        yield raw


def digest(raw: bytes, secret: str = SECRET) -> bytes:
    return hmac.new(secret.encode(), raw, hashlib.sha256).digest()


RAW = b'{"ok": true}'


@pytest.mark.parametrize(
    "value",
    [
        digest(RAW).hex(),
        digest(RAW).hex().upper(),
        " " + digest(RAW).hex() + " ",
        "sha256=" + digest(RAW).hex(),
        "SHA256=" + digest(RAW).hex(),
        base64.b64encode(digest(RAW)).decode(),
    ],
    ids=["hex", "HEX", "spaces", "prefixed", "PREFIXED", "base64"],
)
def test_the_encodings_a_scheme_allows_are_decoded(value: str) -> None:
    assert ToyScheme().verify(RAW, {"X-Sig": value}, secret=SECRET).body == {"ok": True}


@pytest.mark.parametrize(
    "value",
    [
        digest(RAW).hex()[:-2],  # a byte short
        digest(RAW).hex() + "00",  # a byte long
        " ".join(digest(RAW).hex()[i : i + 2] for i in range(0, 64, 2)),  # spaced bytes
        base64.b64encode(digest(RAW)[:-1]).decode(),
        "é" * 64,
    ],
)
def test_only_a_whole_digest_is_a_candidate(value: str) -> None:
    with pytest.raises(WebhookRejected) as info:
        ToyScheme().verify(RAW, {"X-Sig": value}, secret=SECRET)
    assert info.value.reason is WebhookRejectReason.SIGNATURE


def test_a_signature_that_does_not_decode_never_builds_its_message() -> None:
    """Didit's V2 message needs a parse: an undecodable V2 value must not cost one."""
    scheme = ToyScheme()
    with pytest.raises(WebhookRejected):
        scheme.verify(RAW, {"X-Late": "not-a-digest"}, secret=SECRET)
    assert scheme.built == []


def test_the_first_matching_kind_wins() -> None:
    scheme = ToyScheme()
    headers = {"X-Sig": digest(RAW).hex(), "X-Late": "0" * 64}
    assert scheme.verify(RAW, headers, secret=SECRET).body == {"ok": True}
    assert scheme.built == ["raw"]


def test_the_steps_run_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """size → secret → headers → freshness → signature → parse, each refusing first."""
    reads = spy_on_parsing(monkeypatch)
    scheme = ToyScheme()
    good = {"X-Sig": digest(RAW).hex(), "X-Time": str(int(NOW.timestamp()))}
    stale = {**good, "X-Time": str(int(NOW.timestamp()) - 1000)}

    def reason(raw: bytes, headers: dict[str, str], secret: str = SECRET, **extra: int) -> str:
        with pytest.raises(WebhookRejected) as info:
            scheme.verify(raw, headers, secret=secret, now=NOW, tolerance_s=300, **extra)
        return info.value.detail

    assert "larger" in reason(RAW, {}, secret="", max_body_bytes=len(RAW) - 1)
    assert "secret" in reason(RAW, {}, secret="")
    assert "missing" in reason(RAW, {})
    assert "tolerance" in reason(RAW, {**stale, "X-Sig": "0" * 64})
    assert "mismatch" in reason(b"not json", good)
    assert reads == []
    assert "not JSON" in reason(b"not json", {**good, "X-Sig": digest(b"not json").hex()})
    assert reads == [b"not json"]


def test_a_timestamped_claim_needs_a_clock() -> None:
    headers = {"X-Sig": digest(RAW).hex(), "X-Time": str(int(NOW.timestamp()))}
    with pytest.raises(TypeError):
        ToyScheme().verify(RAW, headers, secret=SECRET)
    assert ToyScheme().verify(RAW, headers, secret=SECRET, now=NOW, tolerance_s=1).signed_at


@pytest.mark.parametrize("value", [None, "", " ", "-1", "1.5", "1e9", "0x10", "9" * 13])
def test_unix_seconds_are_digits_only(value: str | None) -> None:
    with pytest.raises(WebhookRejected) as info:
        unix_seconds(value, "X-Time")
    assert info.value.reason is WebhookRejectReason.TIMESTAMP
    assert "X-Time" in info.value.detail


def test_no_limit_means_the_caller_limits() -> None:
    check_size(b"x" * 10_000_000, None)
    check_size(b"x" * 10, 10)
    with pytest.raises(WebhookRejected):
        check_size(b"x" * 11, 10)


@pytest.mark.parametrize("provider", provider_names())
def test_every_adapter_refuses_a_body_over_its_limit_before_reading_it(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit reaches each adapter's webhook entry (AdapterConfig.webhook_max_body_bytes),
    and is applied before any header is checked or byte parsed."""
    config = AdapterConfig(
        environment=Environment.LIVE,
        base_url="https://vendor.invalid",
        api_key="test-api-key",
        webhook_secret="test-webhook-secret",
        options={"client_id": "test-client-id", "client_secret": "test-client-secret"},
        webhook_max_body_bytes=64,
    )
    adapter = adapter_class(provider)(config)
    reads = spy_on_parsing(monkeypatch)
    with pytest.raises(WebhookRejected) as info:
        adapter.parse_webhook(b"[" * 65, {})
    assert info.value.reason is WebhookRejectReason.MALFORMED
    assert "larger" in info.value.detail
    assert reads == []
