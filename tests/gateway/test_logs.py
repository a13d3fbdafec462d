"""Logs keep what an operator needs (session ids, vendor names, event types, tracebacks with
their file paths) and lose secrets and personal data (docs/security.md)."""

from __future__ import annotations

import io
import json
import logging
import secrets
import traceback
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest

from gateway.auth import Authenticator
from gateway.logs import JsonFormatter, ScrubbingFilter, failure, scrub_log
from tests.e2e.server import GatewayProcess

SESSION_ID = "ses_" + "0123456789abcdef" * 2
VENDOR_SECRET = "vendor-webhook-secret-7Qx"


@pytest.fixture
def emitted() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    """A logger wired like `configure_logging` (JSON formatter + scrubbing filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ScrubbingFilter({VENDOR_SECRET}))
    logger = logging.getLogger("tests.gateway.test_logs")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    try:
        yield logger, stream
    finally:
        logger.handlers[:] = []


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_ids_and_tracebacks_survive_secrets_and_pii_do_not(
    emitted: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = emitted
    api_key = "kgw_" + secrets.token_urlsafe(32)
    client_token, _ = Authenticator(
        [], "a-client-token-secret-of-32-bytes-or-more"
    ).issue_client_token(SESSION_ID, 60)
    bare_jwt = jwt.encode({"sub": "x"}, "another-secret-of-32-bytes-or-more-0", algorithm="HS256")
    email = "jane.doe@example.org"
    phone = "+44 20 7946 0958"
    capture = secrets.token_urlsafe(24)
    link = f"https://verify.example.net/session/{capture}?lang=en&sig=abc123XYZ456"

    logger.info(
        "webhook processed",
        extra={"session_id": SESSION_ID, "provider": "acme", "event_type": "status.updated"},
    )
    try:
        json.loads("{")  # raised inside the standard library: a real path with python3.x
    except ValueError as error:
        expected_exc = "".join(traceback.format_exception(error)).rstrip("\n")
        logger.exception("read failed for %s", SESSION_ID)
    logger.warning(f"caller sent x-api-key: {api_key} and Authorization: Bearer {client_token}")
    logger.warning("token in a message", extra={"detail": f"claims {bare_jwt} for {email}"})
    logger.warning(f"vendor said: phone {phone} invalid; secret {VENDOR_SECRET}; link {link}")
    logger.warning("an object in extra", extra={"error": ValueError(f"bad address {email}")})

    first, second, *rest = lines(stream)
    assert first["session_id"] == SESSION_ID
    assert (first["provider"], first["event_type"]) == ("acme", "status.updated")
    assert second["msg"] == f"read failed for {SESSION_ID}"
    assert second["exc"] == expected_exc  # verbatim: paths, line numbers, the message
    assert "/json/decoder.py" in expected_exc  # (the traceback does name a library file)

    out = stream.getvalue()
    for leaked in (api_key, client_token, client_token[7:], bare_jwt, email, VENDOR_SECRET):
        assert leaked not in out
    assert phone not in out and "7946 0958" not in out and "[phone]" in out
    assert capture not in out and "abc123XYZ456" not in out
    assert "https://verify.example.net/session/" in out  # where the link went stays readable
    assert [r["level"] for r in rest] == ["WARNING"] * 4


KEPT = [
    '  File "/srv/.venv/lib/python3.11/site-packages/uvicorn/protocols/http/h11_impl.py", line 4',
    "    token = self._verify_token(credential[len(TOKEN_PREFIX) :])",
    "    signature = hmac_sha256(body)",
    "GET https://api.example.net/v2/session/5f0c6a52-7d3e-4c1b-9a8e-2b6d1f4e9c07/decision/",
    "Basic checks failed; Token expired; at 2026-12-03T11:27:35.400286+00:00, 123456789012 rows",
    "StrawberryGraphQLCoreExecutionContext",
]
GONE = [
    ("Authorization: Basic dXNlcjpwYXNzd29yZA==", "dXNlcjpwYXNzd29yZA"),
    ("{'password': 'hunter2hunter2'}", "hunter2hunter2"),
    ("api_key=sk_live_51HxYzAbCdEf", "sk_live_51HxYzAbCdEf"),
    ("capture tok_Ab3dEf9hIjKlMnOpQrStUvWx12 expired", "Ab3dEf9hIjKlMnOpQrStUvWx12"),
    ("link http://127.0.0.1:8000/sandbox/v/session/jAiUaQsEwU1o", "jAiUaQsEwU1o"),
]


@pytest.mark.parametrize("text", KEPT)
def test_code_paths_ids_and_prose_are_kept(text: str) -> None:
    assert scrub_log(text) == text


@pytest.mark.parametrize(("text", "secret"), GONE)
def test_credentials_go(text: str, secret: str) -> None:
    assert secret not in scrub_log(text)


def test_scrubbing_a_huge_line_is_linear() -> None:
    import time

    started = time.perf_counter()
    scrub_log("x" * 200_000 + " " + "Ab1" * 50_000)
    assert time.perf_counter() - started < 1  # the caller-facing e-mail pattern took minutes


def test_failure_extra_says_why_without_the_statement() -> None:
    from sqlalchemy.exc import OperationalError

    error = OperationalError(
        "UPDATE sessions SET metadata=? WHERE id=?",
        ("{'name': 'Jane Roe'}", SESSION_ID),
        Exception("database is locked"),
    )
    assert failure(error) == {"error": "OperationalError", "reason": "database is locked"}
    assert failure(TimeoutError()) == {"error": "TimeoutError", "reason": "TimeoutError"}
    assert failure(ValueError("x" * 1000))["reason"] == "x" * 300


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    with GatewayProcess(
        tmp_path_factory.mktemp("logs"), extra_env={"KYCGW_LOG_LEVEL": "DEBUG"}
    ) as proc:
        yield proc


def test_a_real_servers_webhook_line_keeps_its_session_id(server: GatewayProcess) -> None:
    with httpx.Client(base_url=server.base, timeout=20) as client:
        created = client.post(
            "/graphql",
            json={
                "query": 'mutation { createSession(input: {provider: "didit", clientReference: '
                '"logs-1"}) { session { id providerSessionId verificationUrl } } }'
            },
        ).json()["data"]["createSession"]["session"]
        r = client.post(
            f"/sandbox/didit/sessions/{created['providerSessionId']}/simulate",
            json={"action": "open"},
        )
        assert r.status_code == 200 and r.json()["webhook"]["delivered"] is True, r.text
    text = Path(server.log_path).read_text()
    records = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    processed = [r for r in records if r["msg"] == "webhook processed"]
    assert processed, [r["msg"] for r in records]
    assert {r["session_id"] for r in processed} == {created["id"]}
    assert all(r["provider"] == "didit" and r["event_type"] for r in processed)
    # The link's token is short (a dozen characters): at DEBUG the database driver's own
    # lines quoted it with every statement's parameters.
    token = created["verificationUrl"].rsplit("/", 1)[1]
    assert token not in text
