"""Unsigned bytes are refused for their signature before they are read, at a real server
(adapters/common/webhook_verify.py; docs/security.md, Threat model: "size, signed timestamp
freshness, signature over the raw bytes, then parse").

A body that is not even JSON, posted without a valid signature, is a 401 `signature` — never a
400 `malformed`, which would mean the unauthenticated bytes were parsed first (as Beltic's
verification once did). Nothing is stored.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.server import GatewayProcess

#: Bytes a parser would choke on (or spend time on): not JSON, deep, not UTF-8.
UNSIGNED_BODIES = [b"not json", b"[" * 100_000, b"\xff\xfe{", b"[1, 2]"]


def forged_headers(provider: str) -> dict[str, str]:
    """Each vendor's signature headers, fresh where a time is signed, with a digest that
    matches nothing."""
    now = str(int(time.time()))
    zeros = "0" * 64
    return {
        "beltic": {"X-Webhook-Signature": zeros},
        "didit": {"X-Timestamp": now, "X-Signature": zeros},
        "verifa": {"X-Verifa-Signature": f"t={now},v1={zeros}"},
        "uip": {"X-UIP-Timestamp": now, "X-UIP-Signature": zeros},
    }[provider]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    process = GatewayProcess(tmp_path_factory.mktemp("webhook-order"))
    process.start()
    yield process
    process.stop()


@pytest.mark.parametrize("body", UNSIGNED_BODIES, ids=["text", "deep", "not-utf8", "array"])
@pytest.mark.parametrize("provider", ["beltic", "didit", "verifa", "uip"])
@pytest.mark.parametrize("signed", [True, False], ids=["forged", "unsigned"])
def test_unsigned_garbage_is_refused_for_its_signature_not_parsed(
    server: GatewayProcess, provider: str, body: bytes, signed: bool
) -> None:
    before = server.stored_events()
    headers = {"content-type": "application/json", **forged_headers(provider)}
    if not signed:  # the signed time stays: only the signature is missing
        headers = {k: v for k, v in headers.items() if "signature" not in k.lower()}
    with httpx.Client(base_url=server.base, timeout=10) as client:
        answer = client.post(f"/webhooks/{provider}", content=body, headers=headers)
    assert (answer.status_code, answer.json()) == (401, {"error": "signature"}), answer.text
    assert server.stored_events() == before
