"""Remove secrets and PII from text that may reach a client or a log (docs/model.md, Security).

Vendor error messages are kept because they help the integrator, but they can echo what we
sent: keys, e-mails, phone numbers, tokens. Everything that leaves an adapter as a message
goes through here first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.base import AdapterConfig

REDACTED = "[redacted]"
EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[phone]"
TOKEN_PLACEHOLDER = "[token]"

#: Secrets shorter than this are not scrubbed literally: replacing "a" everywhere would
#: destroy the message and a real credential is never this short.
MIN_SECRET_LENGTH = 6

#: An e-mail address. Anchored at the start of a run and bounded (RFC 5321: 64 characters
#: before the `@`), so a long run of word characters costs linear time, not quadratic (an
#: unanchored pattern took 2 s on 38 KB of letters).
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-])[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+"
)
#: E.164-like: a leading "+", a country code, then 6-14 more digits with optional separators.
#: Bare digit runs are left alone: they are far more often counts, ids or timestamps.
PHONE = re.compile(r"(?<![\w+])\+[1-9](?:[\s.\-()]{0,2}\d){6,14}(?!\w)")
# Token-like: 20+ characters from URL-safe/base64 alphabets containing letters and digits.
_TOKEN = re.compile(r"(?<![\w\-])[A-Za-z0-9_\-+/=]{20,}(?![\w\-])")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _token_or_keep(match: re.Match[str]) -> str:
    text = match.group(0)
    if _UUID.fullmatch(text):  # ids are not secrets and make errors traceable
        return text
    has_letter = any(c.isalpha() for c in text)
    has_digit = any(c.isdigit() for c in text)
    return TOKEN_PLACEHOLDER if has_letter and has_digit else text


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Return `text` with the given secrets, e-mail addresses, E.164-like phone numbers and
    long token-like strings replaced by placeholders."""
    out = text
    # Longest first, so a secret containing another is removed whole.
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET_LENGTH}, key=len)[::-1]:
        out = out.replace(secret, REDACTED)
    out = EMAIL.sub(EMAIL_PLACEHOLDER, out)
    out = PHONE.sub(PHONE_PLACEHOLDER, out)
    return _TOKEN.sub(_token_or_keep, out)


@dataclass(frozen=True)
class Scrubber:
    """`scrub` bound to one adapter's secrets (its credentials + configured extras)."""

    secrets: tuple[str, ...] = ()

    @classmethod
    def of(cls, config: AdapterConfig, *more: str) -> Scrubber:
        """An adapter's scrubber: its configured extras, its key and webhook secret, `more`."""
        return cls((*config.secrets_to_scrub, config.api_key, config.webhook_secret, *more))

    def __call__(self, text: str) -> str:
        return scrub(text, self.secrets)
