"""What every vendor's webhook verification must do, said once (adapters/common/webhook_verify.py).

Each `tests/adapters/test_<vendor>_signature.py` subclasses `WebhookVerificationConformance`
and supplies its signer (from `tests/support/signing`, written independently of the adapter),
its verifier, a valid event and where its signature and timestamp live; the vendor's own
module keeps only what is particular to its scheme.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, ClassVar

import pytest

from adapters.base import WebhookRejected, WebhookRejectReason
from adapters.common.webhook_verify import WebhookScheme

Signed = tuple[bytes, dict[str, str]]

#: Signature header values that cannot verify: absent, blank, not hex, the wrong length, not
#: ASCII, a bare prefix.
BAD_SIGNATURES = [
    None,
    "",
    "   ",
    "0" * 64,
    "zz" * 32,
    "é" * 64,
    "sha256=",
    "sha256=abc",
    "not-hex",
    "ab" * 31,
    "ab" * 33,
]

#: Bodies that are not a JSON object: refused as MALFORMED once signed, never read unsigned.
NOT_AN_OBJECT = [
    b"not json",
    b"[1, 2]",
    b'"text"',
    b"",
    b"\xff\xfe",
    b'{"a": NaN}',
    b"null",
    b"{" * 5000,
    b"[" * 100_000 + b"]" * 100_000,  # too deep: malformed, not a crash
]

#: Unsigned bytes that would be costly or wrong to parse.
UNSIGNED = [b"not json", b"[1, 2]", b"", b"\xff\xfe", b"[" * 100_000]


def spy_on_parsing(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every JSON parse from here on is recorded (the parser itself is patched)."""
    reads: list[Any] = []
    real: Callable[..., Any] = json.loads

    def spy(text: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(text)
        return real(text, *args, **kwargs)

    monkeypatch.setattr(json, "loads", spy)
    return reads


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


@dataclass(frozen=True)
class Verifier:
    """A scheme with the test's secret and clock: call it for the body, `rejected` for the
    refusal (keyword arguments override the secret, clock, tolerance and body limit)."""

    scheme: WebhookScheme
    secret: str
    now: datetime = datetime(2026, 1, 1, tzinfo=UTC)
    tolerance_s: int = 300

    def __call__(self, raw: bytes, headers: Mapping[str, str], **options: Any) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "secret": self.secret,
            "now": self.now,
            "tolerance_s": self.tolerance_s,
            **options,
        }
        return self.scheme.verify(raw, headers, **settings).body

    def rejected(self, raw: bytes, headers: Mapping[str, str], **options: Any) -> WebhookRejected:
        with pytest.raises(WebhookRejected) as info:
            self(raw, headers, **options)
        return info.value


class WebhookVerificationConformance:
    """The shared suite. Subclasses declare their scheme, signer and event."""

    #: The module holding the vendor's verification (it must hold no signer).
    module: ClassVar[ModuleType]
    #: The scheme under test, with the vendor's test secret and fixed clock.
    verifier: ClassVar[Verifier]
    #: The vendor's test signer: `signer(body or raw bytes, secret=…, [timestamp=…])`.
    signer: ClassVar[Callable[..., Signed]]
    #: The header carrying the signature (as the signer spells it).
    signature_header: ClassVar[str]
    #: The header `sign_bytes` puts its signature in (Didit: X-Signature, over the raw bytes).
    bytes_signature_header: ClassVar[str | None] = None
    #: A value of the event's raw bytes, and what tampering turns it into.
    tamper: ClassVar[tuple[bytes, bytes]]
    #: A valid event of the vendor's.
    event: ClassVar[Callable[[], dict[str, Any]]]

    @property
    def secret(self) -> str:
        return self.verifier.secret

    def sign(self, body: dict[str, Any], *, secret: str) -> Signed:
        return type(self).signer(body, secret=secret)

    def sign_bytes(self, raw: bytes, *, secret: str) -> Signed:
        """Bytes that need not be JSON, validly signed (for a scheme signing raw bytes)."""
        return type(self).signer(raw, secret=secret)

    def accepted(self, signed: Signed, **options: Any) -> dict[str, Any]:
        return self.verifier(*signed, **options)

    def rejected(self, signed: Signed, **options: Any) -> WebhookRejected:
        return self.verifier.rejected(*signed, **options)

    def with_signature(
        self, signed: Signed, value: str | None, *, header: str | None = None
    ) -> Signed:
        """`signed` with its signature header replaced by `value` (None: removed)."""
        raw, headers = signed
        name = header or self.signature_header
        headers = dict(headers)
        if value is None:
            del headers[name]
        else:
            headers[name] = value
        return raw, headers

    # -- accepted -----------------------------------------------------------------------------
    def test_a_signed_event_is_accepted_and_parsed(self) -> None:
        assert self.accepted(self.sign(self.event(), secret=self.secret)) == self.event()

    def test_header_names_are_case_insensitive(self) -> None:
        raw, headers = self.sign(self.event(), secret=self.secret)
        assert self.accepted((raw, {k.lower(): v for k, v in headers.items()}))
        assert self.accepted((raw, {k.upper(): v for k, v in headers.items()}))

    def test_hex_case_is_ignored(self) -> None:
        signed = self.sign(self.event(), secret=self.secret)
        value = signed[1][self.signature_header]
        head, sep, digest = value.rpartition("=")  # `t=…,v1=<hex>` keeps its keys
        assert self.accepted(self.with_signature(signed, head + sep + digest.upper()))

    # -- refused for the signature ------------------------------------------------------------
    def test_wrong_secret_is_a_signature_failure(self) -> None:
        signed = self.sign(self.event(), secret="another-secret")
        assert self.rejected(signed).reason is WebhookRejectReason.SIGNATURE

    def test_tampered_body_is_a_signature_failure(self) -> None:
        raw, headers = self.sign(self.event(), secret=self.secret)
        before, after = self.tamper
        assert before in raw
        tampered = raw.replace(before, after)
        assert self.rejected((tampered, headers)).reason is WebhookRejectReason.SIGNATURE

    @pytest.mark.parametrize("value", BAD_SIGNATURES)
    def test_missing_or_malformed_signature_is_a_signature_failure(self, value: str | None) -> None:
        signed = self.with_signature(self.sign(self.event(), secret=self.secret), value)
        error = self.rejected(signed)
        assert error.reason is WebhookRejectReason.SIGNATURE
        if value is None or not value.strip():
            assert "missing" in error.detail

    def test_truncated_signature_is_a_signature_failure(self) -> None:
        signed = self.sign(self.event(), secret=self.secret)
        truncated = self.with_signature(signed, signed[1][self.signature_header][:32])
        assert self.rejected(truncated).reason is WebhookRejectReason.SIGNATURE

    def test_an_empty_secret_never_verifies(self) -> None:
        error = self.rejected(self.sign(self.event(), secret=""), secret="")
        assert error.reason is WebhookRejectReason.SIGNATURE
        assert "secret" in error.detail

    def test_rejection_details_never_echo_the_body_or_the_secret(self) -> None:
        signed = self.with_signature(self.sign(self.event(), secret=self.secret), "00" * 32)
        error = self.rejected(signed)
        assert self.secret not in error.detail
        for value in _strings(self.event()):
            assert len(value) < 4 or value not in error.detail

    # -- size and parsing ---------------------------------------------------------------------
    def test_a_body_over_the_limit_is_refused_before_it_is_read(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        signed = self.sign(self.event(), secret=self.secret)
        assert self.accepted(signed, max_body_bytes=len(signed[0]))
        reads = spy_on_parsing(monkeypatch)
        error = self.rejected(signed, max_body_bytes=len(signed[0]) - 1)
        assert error.reason is WebhookRejectReason.MALFORMED
        assert "larger" in error.detail
        assert reads == []

    @pytest.mark.parametrize("raw", NOT_AN_OBJECT)
    def test_a_signed_body_that_is_not_a_json_object_is_malformed(self, raw: bytes) -> None:
        signed = self.sign_bytes(raw, secret=self.secret)
        assert self.rejected(signed).reason is WebhookRejectReason.MALFORMED

    @pytest.mark.parametrize("raw", UNSIGNED)
    def test_unsigned_bytes_are_refused_for_their_signature_and_never_parsed(
        self, raw: bytes, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Nothing unsigned is read: a body that is not even JSON is refused for its
        signature (SIGNATURE, not MALFORMED), and the JSON parser never sees it."""
        reads = spy_on_parsing(monkeypatch)
        header = self.bytes_signature_header or self.signature_header
        forged = self.sign_bytes(raw, secret="someone-else")
        assert self.rejected(forged).reason is WebhookRejectReason.SIGNATURE
        unsigned = self.with_signature(forged, None, header=header)
        assert self.rejected(unsigned).reason is WebhookRejectReason.SIGNATURE
        zeros = self.with_signature(forged, "00" * 32, header=header)
        assert self.rejected(zeros).reason is WebhookRejectReason.SIGNATURE
        assert reads == []

    def test_the_verification_module_has_no_signing_helper(self) -> None:
        assert not [name for name in vars(self.module) if name.startswith("sign")]


class ReplayWindowConformance(WebhookVerificationConformance):
    """For a scheme that signs a time: the window both ways, the caller's tolerance, and
    freshness judged before the signature."""

    def sign_at(self, offset_s: int, *, secret: str | None = None) -> Signed:
        """The event signed `offset_s` seconds from `now` (with `secret`, default the right one)."""
        timestamp = int(self.verifier.now.timestamp()) + offset_s
        return type(self).signer(self.event(), secret=secret or self.secret, timestamp=timestamp)

    @pytest.mark.parametrize("offset", [-300, -299, 0, 299, 300])
    def test_inside_the_tolerance_is_accepted(self, offset: int) -> None:
        assert self.accepted(self.sign_at(offset))

    # -- refused for the time -----------------------------------------------------------------
    @pytest.mark.parametrize(
        "offset", [-301, 301, -86_400, 86_400], ids=["past", "future", "day-old", "day-ahead"]
    )
    def test_stale_or_future_timestamps_are_refused(self, offset: int) -> None:
        assert self.rejected(self.sign_at(offset)).reason is WebhookRejectReason.TIMESTAMP

    @pytest.mark.parametrize(
        ("age_s", "tolerance_s", "accepted"), [(60, 30, False), (60, 60, True), (100, 60, False)]
    )
    def test_the_tolerance_is_the_callers(
        self, age_s: int, tolerance_s: int, accepted: bool
    ) -> None:
        signed = self.sign_at(-age_s)
        if accepted:
            assert self.accepted(signed, tolerance_s=tolerance_s)
        else:
            error = self.rejected(signed, tolerance_s=tolerance_s)
            assert error.reason is WebhookRejectReason.TIMESTAMP

    def test_freshness_is_judged_before_the_signature(self) -> None:
        stale_and_forged = self.sign_at(-1000, secret="wrong")
        assert self.rejected(stale_and_forged).reason is WebhookRejectReason.TIMESTAMP
