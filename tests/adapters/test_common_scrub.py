"""Scrubbing of vendor messages before they reach a client (docs/model.md, Security)."""

from __future__ import annotations

import pytest

from adapters.common.scrub import (
    EMAIL_PLACEHOLDER,
    PHONE_PLACEHOLDER,
    REDACTED,
    TOKEN_PLACEHOLDER,
    Scrubber,
    scrub,
)


def test_configured_secrets_are_removed() -> None:
    out = scrub(
        "key sk_live_abc123 and secret whsec-XYZ789 leaked", ["sk_live_abc123", "whsec-XYZ789"]
    )
    assert "sk_live_abc123" not in out and "whsec-XYZ789" not in out
    assert out.count(REDACTED) == 2


def test_longer_secret_containing_a_shorter_one_is_removed_whole() -> None:
    out = scrub("token abcdef123456789", ["abcdef", "abcdef123456789"])
    assert out == f"token {REDACTED}"


def test_empty_and_tiny_secrets_are_ignored() -> None:
    assert scrub("a normal message", ["", "a", "me"]) == "a normal message"


@pytest.mark.parametrize(
    "email", ["jane.doe@example.com", "JOHN+kyc@mail.example.co.uk", "x_y-z@sub.domain.org"]
)
def test_emails_are_removed(email: str) -> None:
    out = scrub(f"Enter a valid email address: {email}.")
    assert email not in out
    assert EMAIL_PLACEHOLDER in out


PHONES = ["+14155552671", "+44 20 7946 0958", "+1 (555) 555-0100", "+34-600-000-000"]
TOKENS = [
    "3FaJ9wLqX2Mz3FaJ9wLqX2Mz",
    "d641411b656ca53eec73e234f772f5572444917f0d27a43910960730abf0ae74",
    "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0",
]


@pytest.mark.parametrize(
    ("value", "placeholder", "sentence"),
    [
        *((phone, PHONE_PLACEHOLDER, "phone {} is not valid") for phone in PHONES),
        *((token, TOKEN_PLACEHOLDER, "bad token {} here") for token in TOKENS),
    ],
)
def test_e164_like_phone_numbers_and_long_token_like_strings_are_removed(
    value: str, placeholder: str, sentence: str
) -> None:
    out = scrub(sentence.format(value))
    assert value not in out
    assert placeholder in out


@pytest.mark.parametrize(
    "message",
    [
        "You do not have permission to perform this action.",
        "Write request rate limit exceeded. You can make up to 300 requests per minute.",
        "Session 11111111-2222-3333-4444-555555555555 not found.",
        "Request was throttled. Expected available in 30 seconds.",
        "ensure_this_field_is_a_long_identifier_name",  # letters only: not a token
        "Order 1768478400 failed",  # bare digits: counts and timestamps stay
    ],
)
def test_harmless_messages_are_kept_verbatim(message: str) -> None:
    assert scrub(message) == message


def test_scrubber_binds_secrets() -> None:
    scrubber = Scrubber(("test-api-key-123",))
    assert scrubber("bad key test-api-key-123 for a@example.com") == (
        f"bad key {REDACTED} for {EMAIL_PLACEHOLDER}"
    )
