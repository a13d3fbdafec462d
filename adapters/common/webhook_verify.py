"""One way to verify a vendor's webhook: a template each vendor's `signature.py` fills in.

The order is fixed here, so no vendor can get it wrong (docs/security.md, Threat model: "size,
signed timestamp freshness, signature over the raw bytes, then parse"):

1. size: a body over the limit is refused before anything else is done with it;
2. the empty-secret guard: an empty configured secret would let anyone sign;
3. the headers (`WebhookScheme.claim`): which signatures were sent, and the signed time;
4. freshness of that signed time (schemes that sign none skip it);
5. the signature over the raw bytes: hex (or base64) decoded here, compared in constant time;
6. only then the body is parsed, and checked against what was signed (`check_signed`).

A vendor supplies its header names and its signed-message function (`signed_messages`).
Didit's `X-Signature-V2` covers the canonical JSON of the parsed body, so its message function
parses — the one documented exception (docs/vendors/didit.md, Webhooks and signature) — and it
runs only after the size, secret and freshness steps, and only when its signature decodes.
"""

from __future__ import annotations

import abc
import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from adapters.base import AdapterConfig, WebhookRejected, WebhookRejectReason
from adapters.common.webhook_body import parse_json_object

_UNIX_SECONDS = re.compile(r"\d{1,12}")
_DIGEST_SIZE = hashlib.sha256().digest_size
_HEX_DIGEST = re.compile(rf"[0-9a-fA-F]{{{2 * _DIGEST_SIZE}}}")


@dataclass(frozen=True)
class Claim:
    """What a delivery's headers claim, read before anything is verified.

    `signatures` maps a kind of signed message (the vendor's names: "raw", "v2", …) to the
    signature values sent for it; one of them must verify. `timestamp` is the signed unix time,
    None for a scheme that signs none (then there is no replay window to judge)."""

    signatures: Mapping[str, tuple[str, ...]]
    timestamp: int | None = None
    timestamp_name: str = "signature timestamp"


@dataclass(frozen=True)
class Verified:
    """An authentic delivery: the parsed body and the time the vendor signed (if it signs one)."""

    body: dict[str, Any]
    signed_at: int | None

    @property
    def signed_time(self) -> int:
        """The signed time, for a scheme that always signs one."""
        if self.signed_at is None:
            raise ValueError("this delivery carries no signed time")
        return self.signed_at


def lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Header names are case-insensitive: look them up in lower case."""
    return {k.lower(): v for k, v in headers.items()}


def header_value(headers: Mapping[str, str], name: str) -> str | None:
    """A header's stripped value, or None when it is absent or blank."""
    value = headers.get(name)
    if value is None or not value.strip():
        return None
    return value.strip()


def unix_seconds(value: str | None, name: str) -> int:
    """A signed time as unix seconds (digits only: no sign, fraction, exponent or millis)."""
    if value is None or not value.strip():
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, f"missing {name}")
    if not _UNIX_SECONDS.fullmatch(value.strip()):
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, f"{name} is not unix seconds")
    return int(value.strip())


def check_size(raw: bytes, max_body_bytes: int | None) -> None:
    """Refuse a body over the limit before it is hashed or parsed (None: the caller limits)."""
    if max_body_bytes is not None and len(raw) > max_body_bytes:
        raise WebhookRejected(
            WebhookRejectReason.MALFORMED, f"body larger than {max_body_bytes} bytes"
        )


def check_fresh(signed_at: int, name: str, now: datetime, tolerance_s: int) -> None:
    """The signed time within `tolerance_s` of `now`, in the past or the future."""
    if abs(now.timestamp() - signed_at) > tolerance_s:
        raise WebhookRejected(WebhookRejectReason.TIMESTAMP, f"{name} outside tolerance")


class WebhookScheme(abc.ABC):
    """A vendor's HMAC-SHA256 webhook signature. Subclasses say where the signature and the
    signed time are (`claim`) and what message was signed (`signed_messages`); `verify` runs
    the steps in the module's fixed order."""

    #: Signature encodings the vendor's docs leave open: hex always, base64 when allowed.
    accept_base64: ClassVar[bool] = False
    #: Prefixes tolerated before the digest (e.g. `sha256=`), compared case-insensitively.
    signature_prefixes: ClassVar[tuple[str, ...]] = ()

    def verify(
        self,
        raw: bytes,
        headers: Mapping[str, str],
        *,
        secret: str,
        now: datetime | None = None,
        tolerance_s: int | None = None,
        max_body_bytes: int | None = None,
    ) -> Verified:
        """The authentic delivery, else `WebhookRejected` from the first step that fails."""
        check_size(raw, max_body_bytes)
        if not secret:  # an empty key would let anyone sign
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "no webhook secret configured")
        claim = self.claim(lower_headers(headers))
        if claim.timestamp is not None:
            if now is None or tolerance_s is None:
                raise TypeError("a timestamped scheme needs `now` and `tolerance_s`")
            check_fresh(claim.timestamp, claim.timestamp_name, now, tolerance_s)
        if not self._authentic(raw, claim, secret.encode("utf-8")):  # the secret as UTF-8 text
            raise WebhookRejected(WebhookRejectReason.SIGNATURE, "signature mismatch")
        body = parse_json_object(raw)
        self.check_signed(body, claim)
        return Verified(body, claim.timestamp)

    def check(self, raw: bytes, headers: Mapping[str, str], config: AdapterConfig) -> Verified:
        """`verify` with an adapter's secret, clock, tolerance and body limit."""
        return self.verify(
            raw,
            headers,
            secret=config.webhook_secret,
            now=config.clock(),
            tolerance_s=config.webhook_tolerance_s,
            max_body_bytes=config.webhook_max_body_bytes,
        )

    # -- what a vendor fills in --------------------------------------------------------------
    @abc.abstractmethod
    def claim(self, headers: Mapping[str, str]) -> Claim:
        """Read the (lower-cased) headers; raise `WebhookRejected` for missing or malformed
        ones (SIGNATURE for the signature, TIMESTAMP for the time)."""

    @abc.abstractmethod
    def signed_messages(self, kind: str, raw: bytes, claim: Claim) -> Iterable[bytes]:
        """The message(s) a signature of `kind` covers; lazily, tried in turn."""

    def check_signed(self, body: dict[str, Any], claim: Claim) -> None:  # noqa: B027 - optional
        """A check of the authentic body against the claim (default: none)."""

    # -- the shared mechanics ----------------------------------------------------------------
    def decode_signature(self, value: str) -> list[bytes]:
        """Candidate SHA-256 digests from a header value: hex, then base64 when allowed."""
        text = value.strip()
        for prefix in self.signature_prefixes:
            if text.lower().startswith(prefix):
                text = text[len(prefix) :].strip()
                break
        candidates: list[bytes] = []
        if _HEX_DIGEST.fullmatch(text):
            candidates.append(bytes.fromhex(text))
        if self.accept_base64:
            try:
                candidates.append(base64.b64decode(text.encode("ascii"), validate=True))
            except (binascii.Error, UnicodeEncodeError, ValueError):
                pass
        return [c for c in candidates if len(c) == _DIGEST_SIZE]

    def _authentic(self, raw: bytes, claim: Claim, key: bytes) -> bool:
        for kind, values in claim.signatures.items():
            given = [digest for value in values for digest in self.decode_signature(value)]
            if not given:  # nothing decodable: its message is not even built
                continue
            for message in self.signed_messages(kind, raw, claim):
                expected = hmac.new(key, message, hashlib.sha256).digest()
                if any(hmac.compare_digest(expected, digest) for digest in given):
                    return True
        return False
