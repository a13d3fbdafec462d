"""The vendor-neutral building blocks of the adapters' error mappers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from adapters.base import ErrorCode
from adapters.common import errors

NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
IN_SECONDS = re.compile(r"in (\d+) seconds")


def reply(**headers: str) -> httpx.Response:
    return httpx.Response(429, headers=headers)


@pytest.mark.parametrize(
    ("headers", "message", "expected"),
    [
        ({"Retry-After": "17", "X-RateLimit-Reset": "30"}, "in 9 seconds", 17),
        ({"Retry-After": "Thu, 15 Jan 2026 12:00:40 GMT"}, "", 40),
        ({"Retry-After": "Thu, 15 Jan 2026 12:00:40 -0000"}, "", 40),  # naive date = GMT
        ({"Retry-After": "Thu, 15 Jan 2026 11:00:00 GMT"}, "", 0),  # in the past
        ({"Retry-After": "soon", "X-RateLimit-Reset": str(int(NOW.timestamp()) + 5)}, "", 5),
        ({}, "try again in 9 seconds", 9),
        ({}, "slow down", None),
    ],
)
def test_wait_seconds_reads_header_then_reset_then_message(
    headers: dict[str, str], message: str, expected: int | None
) -> None:
    assert (
        errors.wait_seconds(reply(**headers), NOW, message=message, pattern=IN_SECONDS) == expected
    )


def test_reset_header_is_relative_below_the_unix_threshold() -> None:
    response = reply(**{"X-RateLimit-Reset": "12"})
    assert errors.wait_seconds(response, NOW, reset_unix_from=1_000_000_000) == 12
    assert errors.wait_seconds(response, NOW) == 0  # as a unix time, long past


def test_message_is_not_read_without_a_pattern() -> None:
    assert errors.wait_seconds(reply(), NOW, message="try again in 9 seconds") is None


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (301, ErrorCode.PROVIDER_REJECTED),
        (400, ErrorCode.PROVIDER_REJECTED),
        (401, ErrorCode.PROVIDER_REJECTED),
        (403, ErrorCode.PROVIDER_REJECTED),
        (404, ErrorCode.NOT_FOUND),
        (409, ErrorCode.PROVIDER_REJECTED),
        (422, ErrorCode.PROVIDER_REJECTED),
        (429, ErrorCode.RATE_LIMITED),
        (500, ErrorCode.PROVIDER_UNAVAILABLE),
        (503, ErrorCode.PROVIDER_UNAVAILABLE),
    ],
)
def test_error_code_for_status(status: int, code: ErrorCode) -> None:
    assert errors.error_code_for_status(status) is code


def test_longest_prefix_wins() -> None:
    table = {("a",): "A", ("a", "b"): "AB"}
    assert errors.longest_prefix(table, ("a", "b", "0")) == "AB"
    assert errors.longest_prefix(table, ("a", "c")) == "A"
    assert errors.longest_prefix(table, ("c",)) is None
    assert errors.longest_prefix(table, ()) is None


def test_response_json_is_none_for_other_bodies() -> None:
    assert errors.response_json(httpx.Response(500, content=b"<html>")) is None
    assert errors.response_json(httpx.Response(500, content=b"")) is None
    assert errors.response_json(httpx.Response(400, json={"detail": "x"})) == {"detail": "x"}


def test_messages_and_codes_are_scrubbed_and_capped() -> None:
    def scrub(text: str) -> str:
        return text.replace("secret", "[redacted]")

    assert errors.scrubbed_message("secret " + "x" * 600, scrub).startswith("[redacted] x")
    assert len(errors.scrubbed_message("x" * 600, scrub)) == errors.MAX_MESSAGE_LENGTH
    assert errors.scrubbed_code("secret_code", scrub) == "[redacted]_code"
    assert len(errors.scrubbed_code("c" * 100, scrub) or "") == errors.MAX_CODE_LENGTH
    assert errors.scrubbed_code("", scrub) is None
    assert errors.scrubbed_code(42, scrub) is None
