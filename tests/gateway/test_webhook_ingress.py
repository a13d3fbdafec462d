"""Webhook ingress rules (docs/model.md, Ordering) on real signed Didit deliveries."""

from __future__ import annotations

import json
import time

import httpx
from sqlmodel import select

from gateway.store.models import StatusChangeRow, VendorEventRow
from tests.conftest import Harness
from tests.gateway.queries import CREATE, GET
from tests.support.signing.didit import didit_body, signed_request


async def _create(h: Harness, ref: str = "user-1") -> dict:
    data = await h.gql(CREATE, {"input": {"provider": "didit", "clientReference": ref}})
    assert data["createSession"]["userErrors"] == []
    return data["createSession"]["session"]


async def _post(h: Harness, raw: bytes, headers: dict[str, str]) -> int:
    response = await h.client.post("/webhooks/didit", content=raw, headers=headers)
    return response.status_code


async def _deliver(h: Harness, psid: str, status: str, ts: int) -> httpx.Response:
    """Sign a `status.updated` for `psid` at vendor time `ts` and post it."""
    raw, headers = signed_request(didit_body(psid, status, ts), h.didit_secret, ts)
    return await h.client.post("/webhooks/didit", content=raw, headers=headers)


async def _count(h: Harness, model: type) -> int:
    async with h.gateway.service.db_factory() as db:
        return len((await db.exec(select(model))).all())


async def _session(h: Harness, sid: str) -> dict:
    return (await h.gql(GET, {"id": sid}))["session"]


async def test_valid_webhook_applies_and_is_recorded(harness: Harness) -> None:
    s = await _create(harness)
    now = int(time.time())
    raw, headers = signed_request(
        didit_body(s["providerSessionId"], "In Progress", now), harness.didit_secret, now
    )
    assert await _post(harness, raw, headers) == 200
    got = await _session(harness, s["id"])
    assert got["status"] == "IN_PROGRESS"
    assert [c["source"] for c in got["history"]] == ["API", "WEBHOOK"]
    assert await _count(harness, VendorEventRow) == 1


async def test_bad_signature_is_401_and_nothing_stored(harness: Harness) -> None:
    s = await _create(harness)
    now = int(time.time())
    raw, headers = signed_request(
        didit_body(s["providerSessionId"], "Approved", now), "wrong-secret", now
    )
    assert await _post(harness, raw, headers) == 401
    assert await _count(harness, VendorEventRow) == 0
    assert await _count(harness, StatusChangeRow) == 1  # only CREATED
    assert (await _session(harness, s["id"]))["status"] == "CREATED"


async def test_stale_timestamp_is_401(harness: Harness) -> None:
    s = await _create(harness)
    old = int(time.time()) - 301
    raw, headers = signed_request(
        didit_body(s["providerSessionId"], "Approved", old), harness.didit_secret, old
    )
    assert await _post(harness, raw, headers) == 401
    assert await _count(harness, VendorEventRow) == 0


async def test_duplicate_delivery_is_2xx_and_one_change(harness: Harness) -> None:
    s = await _create(harness)
    now = int(time.time())
    raw, headers = signed_request(
        didit_body(s["providerSessionId"], "Approved", now, event_id="evt-1"),
        harness.didit_secret,
        now,
    )
    assert await _post(harness, raw, headers) == 200
    second = await harness.client.post("/webhooks/didit", content=raw, headers=headers)
    assert second.status_code == 200
    assert second.json()["outcomes"] == ["duplicate"]
    got = await _session(harness, s["id"])
    assert [c["status"] for c in got["history"]] == ["CREATED", "APPROVED"]
    assert await _count(harness, VendorEventRow) == 1


async def test_older_event_after_newer_never_downgrades(harness: Harness) -> None:
    s = await _create(harness)
    now = int(time.time())
    psid = s["providerSessionId"]
    newer = signed_request(didit_body(psid, "Approved", now), harness.didit_secret, now)
    older = signed_request(didit_body(psid, "In Progress", now - 5), harness.didit_secret, now - 5)
    assert await _post(harness, *newer) == 200
    response = await harness.client.post("/webhooks/didit", content=older[0], headers=older[1])
    assert response.status_code == 200
    assert response.json()["outcomes"] == ["stale"]
    got = await _session(harness, s["id"])
    assert got["status"] == "APPROVED"
    assert got["providerStatus"] == "Approved"
    assert [c["status"] for c in got["history"]] == ["CREATED", "APPROVED"]
    # The raw event is still kept (nothing lost), marked stale.
    assert await _count(harness, VendorEventRow) == 2


async def test_same_second_lower_rank_does_not_replace_higher(harness: Harness) -> None:
    s = await _create(harness)
    now = int(time.time())
    psid = s["providerSessionId"]
    assert (await _deliver(harness, psid, "Declined", now)).status_code == 200
    assert (await _deliver(harness, psid, "In Progress", now)).status_code == 200
    assert (await _session(harness, s["id"]))["status"] == "DECLINED"


async def test_later_reviewer_flip_is_accepted(harness: Harness) -> None:
    """Didit reviewers can turn Approved into Declined: a newer final status applies."""
    s = await _create(harness)
    now = int(time.time())
    psid = s["providerSessionId"]
    assert (await _deliver(harness, psid, "Approved", now - 10)).status_code == 200
    assert (await _deliver(harness, psid, "Declined", now)).status_code == 200
    got = await _session(harness, s["id"])
    assert [c["status"] for c in got["history"]] == ["CREATED", "APPROVED", "DECLINED"]


async def test_malformed_json_is_400(harness: Harness) -> None:
    now = int(time.time())
    raw, headers = signed_request(b"{not json", harness.didit_secret, now)
    assert await _post(harness, raw, headers) == 400
    assert await _count(harness, VendorEventRow) == 0


async def test_unknown_status_keeps_previous_and_shows_raw(harness: Harness) -> None:
    s = await _create(harness)
    now = int(time.time())
    psid = s["providerSessionId"]
    assert (await _deliver(harness, psid, "In Progress", now - 1)).status_code == 200
    response = await _deliver(harness, psid, "Teleported", now)
    assert response.status_code == 200
    assert response.json()["outcomes"] == ["unknown_status"]
    got = await _session(harness, s["id"])
    assert got["status"] == "IN_PROGRESS"
    assert got["providerStatus"] == "Teleported"
    metrics = (await harness.client.get("/metrics")).text
    assert 'kycgw_unknown_provider_status_total{provider="didit"}' in metrics


async def test_unknown_session_is_404_so_the_vendor_retries(harness: Harness) -> None:
    now = int(time.time())
    raw, headers = signed_request(
        didit_body("no-such-session", "Approved", now), harness.didit_secret, now
    )
    assert await _post(harness, raw, headers) == 404
    assert await _count(harness, VendorEventRow) == 0


async def test_unknown_provider_is_404(harness: Harness) -> None:
    response = await harness.client.post("/webhooks/nope", content=b"{}")
    assert response.status_code == 404


async def test_oversized_body_is_413(harness: Harness) -> None:
    big = json.dumps({"x": "a" * (harness.settings.webhook_max_body_bytes + 10)}).encode()
    response = await harness.client.post("/webhooks/didit", content=big)
    assert response.status_code == 413


async def test_transient_store_failure_is_503(harness: Harness, monkeypatch) -> None:
    from sqlalchemy.exc import OperationalError

    s = await _create(harness)

    async def broken(*_a, **_k):
        raise OperationalError("INSERT", {}, Exception("database is locked"))

    monkeypatch.setattr(harness.gateway.service, "ingest_webhook", broken)
    now = int(time.time())
    raw, headers = signed_request(
        didit_body(s["providerSessionId"], "Approved", now), harness.didit_secret, now
    )
    assert await _post(harness, raw, headers) == 503
