"""The UIP create request: JSON, or multipart/form-data with a sign step's document, and what
happens to every normalized input field (adapters/uip/inputs.py; docs/vendors/uip.md, Input
support).

Documented: "JSON for most requests. The sign primitive carries files, so a session that
includes a sign step is created as multipart/form-data" (https://docs.uip.digital/
api-reference/introduction); the create fields and the Idempotency-Key header
(https://docs.uip.digital/api-reference/sessions/create). The form layout is inferred
(inferred.MULTIPART_JSON_FIELDS, inferred.SIGN_FILE_PART).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from adapters.base import (
    Contact,
    CreateSessionRequest,
    DocumentType,
    Environment,
    ErrorCode,
    ExpectedPerson,
    InputSupport,
    ProviderError,
    SessionStatus,
    StepDocument,
    StepRequest,
    StepType,
    input_fields,
)
from adapters.uip import create as create_module
from adapters.uip.adapter import UipAdapter
from adapters.uip.inputs import INPUT_SUPPORT
from tests.adapters.test_uip_adapter import (
    CREATED,
    Script,
    drive,
    emulated,  # noqa: F401 - the fixture
    fail,
    make_config,
    no_network,
    ok,
)

PDF = StepDocument("contract.pdf", "application/pdf", b"%PDF-1.7 the contract")


class FormVendor:
    """UIP's create endpoint as far as the request goes: records each request's form."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses) or [201]
        self.seen: list[dict[str, Any]] = []

        async def create(request: Request) -> JSONResponse:
            form = await request.form()
            parts: dict[str, Any] = {}
            for name, value in form.multi_items():
                if isinstance(value, UploadFile):
                    parts[name] = (value.filename, value.content_type, await value.read())
                else:
                    parts[name] = value
            self.seen.append(
                {
                    "content_type": request.headers.get("content-type", ""),
                    "key": request.headers.get("idempotency-key"),
                    "auth": request.headers.get("authorization"),
                    "parts": parts,
                }
            )
            status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
            body = CREATED if status < 400 else {"error": "busy", "code": "internal/server-error"}
            return JSONResponse(body, status_code=status)

        self.app = Starlette(routes=[Route("/v1/sessions", create, methods=["POST"])])

    def adapter(self) -> UipAdapter:
        return UipAdapter(make_config(transport=httpx.ASGITransport(app=self.app)))


def with_sign(**overrides: Any) -> CreateSessionRequest:
    values: dict[str, Any] = {
        "steps": (
            StepRequest(StepType.IDENTIFY, gate=True),
            StepRequest(StepType.SIGN, document=PDF),
        ),
        "client_reference": "order_4417",
        "metadata": {"checkout": "abc"},
        "return_url": "https://shop.example.com/verified",
        "expires_in": 3600,
        "idempotency_key": "order_4417",
    }
    values.update(overrides)
    return CreateSessionRequest(**values)


# -- sign steps and their document ------------------------------------------------------------
async def test_a_create_with_a_sign_step_is_multipart_with_the_document() -> None:
    vendor = FormVendor()
    adapter = vendor.adapter()
    created = await adapter.create_session(with_sign())
    await adapter.aclose()
    assert created.status is SessionStatus.CREATED
    (seen,) = vendor.seen
    assert seen["content_type"].startswith("multipart/form-data; boundary=")
    assert seen["key"] and seen["auth"] == "Bearer test-api-key"
    parts = seen["parts"]
    assert json.loads(parts["steps"]) == [
        {"primitive": "identify", "gate": True},
        {"primitive": "sign"},
    ]
    assert json.loads(parts["metadata"]) == {"checkout": "abc"}
    assert parts["client_reference_id"] == "order_4417"
    assert parts["return_url"] == "https://shop.example.com/verified"
    assert parts["expires_in"] == "3600"
    assert parts["files[1]"] == ("contract.pdf", "application/pdf", PDF.content)
    assert set(parts) == {
        "steps",
        "metadata",
        "client_reference_id",
        "return_url",
        "expires_in",
        "files[1]",
    }


async def test_each_sign_step_sends_its_own_document() -> None:
    other = StepDocument("annex.txt", "text/plain", b"annex")
    vendor = FormVendor()
    adapter = vendor.adapter()
    steps = (StepRequest(StepType.SIGN, document=PDF), StepRequest(StepType.SIGN, document=other))
    await adapter.create_session(CreateSessionRequest(steps=steps))
    await adapter.aclose()
    parts = vendor.seen[0]["parts"]
    assert parts["files[0]"] == ("contract.pdf", "application/pdf", PDF.content)
    assert parts["files[1]"] == ("annex.txt", "text/plain", b"annex")


async def test_a_retried_multipart_create_keeps_its_key_and_body() -> None:
    vendor = FormVendor(503, 201)
    adapter = vendor.adapter()
    await adapter.create_session(with_sign())
    await adapter.aclose()
    first, second = vendor.seen
    assert first["key"] == second["key"]
    assert first["parts"] == second["parts"]


async def test_a_create_without_a_sign_step_stays_json() -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(CreateSessionRequest(steps=(StepRequest(StepType.IDENTIFY),)))
    await adapter.aclose()
    (request,) = script.requests
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"steps": [{"primitive": "identify"}]}


@pytest.mark.parametrize(
    ("steps", "index"),
    [
        ((StepRequest(StepType.SIGN),), 0),
        ((StepRequest(StepType.IDENTIFY), StepRequest(StepType.SIGN, gate=True)), 1),
        ((StepRequest(StepType.IDENTIFY, document=PDF),), 0),
        ((StepRequest(StepType.LIGHT_SIGN, {"text": "I agree."}, document=PDF),), 0),
    ],
)
async def test_a_document_only_and_always_on_a_sign_step(
    steps: tuple[StepRequest, ...], index: int
) -> None:
    adapter = no_network()
    with pytest.raises(ProviderError) as info:
        await adapter.create_session(CreateSessionRequest(steps=steps))
    await adapter.aclose()
    assert info.value.code is ErrorCode.BAD_USER_INPUT
    assert info.value.field == ("input", "steps", str(index), "document")


async def test_a_document_over_the_documented_size_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ "Up to 50 files, 50 MB combined" (core-concepts/primitives), scaled down here."""
    monkeypatch.setattr(create_module, "SIGN_MAX_BYTES", len(PDF.content) - 1)
    adapter = no_network()
    with pytest.raises(ProviderError) as info:
        await adapter.create_session(with_sign())
    await adapter.aclose()
    assert info.value.field == ("input", "steps", "1", "document")


async def test_the_sandbox_takes_the_multipart_create_and_signs_the_document(
    emulated: Any,  # noqa: F811 - the fixture
) -> None:
    adapter, _, sink, control = emulated
    created = await adapter.create_session(
        CreateSessionRequest(steps=(StepRequest(StepType.SIGN, document=PDF),))
    )
    assert created.environment is Environment.SANDBOX
    await drive(control, created.provider_session_id, "approve")
    await sink.wait_for(2)
    step = json.loads(sink.requests[0].content)["data"]
    # "UIP computes the SHA-256 of each file and a single manifest digest over all of them
    # (in declared order)" (core-concepts/primitives); the manifest form is the sandbox's.
    file_digest = hashlib.sha256(PDF.content).hexdigest()
    manifest = hashlib.sha256(file_digest.encode()).hexdigest()
    assert step["primitive"] == "sign" and step["document_hash"] == f"sha256:{manifest}"


async def test_the_sandbox_refuses_a_sign_step_sent_without_its_file(
    emulated: Any,  # noqa: F811 - the fixture
) -> None:
    """What UIP does with a JSON create that names a sign step (its documented 400 for
    invalid steps[]): the adapter never sends one, so the request is made by hand."""
    _, sandbox, _, _ = emulated
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url="http://uip.sandbox"
    ) as client:
        answer = await client.post(
            "/v1/sessions",
            json={"steps": [{"primitive": "sign"}]},
            headers={"Authorization": f"Bearer {sandbox.api_key}"},
        )
    assert answer.status_code == 400
    assert answer.json()["code"] == "request/invalid-payload"


# -- input support, one field at a time ---------------------------------------------------------
def test_every_input_field_is_declared() -> None:
    assert UipAdapter.undeclared_inputs() == ()
    assert set(INPUT_SUPPORT) == set(input_fields())
    assert UipAdapter.input_support is INPUT_SUPPORT
    assert all(d.note for d in INPUT_SUPPORT.values())
    assert InputSupport.REFUSED not in {d.support for d in INPUT_SUPPORT.values()}


#: SENT / MAPPED fields: (request overrides, what UIP must receive: a JSON key and value, or
#: a header).
SENT_FIELDS: dict[str, tuple[dict[str, Any], tuple[str, Any]]] = {
    "client_reference": ({"client_reference": "order_1"}, ("client_reference_id", "order_1")),
    "metadata": ({"metadata": {"cart": "7"}}, ("metadata", {"cart": "7"})),
    "return_url": (
        {"return_url": "https://shop.example.com/done"},
        ("return_url", "https://shop.example.com/done"),
    ),
    "expires_in": ({"expires_in": 600}, ("expires_in", 600)),
    "steps": (
        {"steps": (StepRequest(StepType.AGE_VERIFY, {"min_age": 21}, gate=True),)},
        ("steps", [{"primitive": "age_verify", "params": {"min_age": 21}, "gate": True}]),
    ),
    "idempotency_key": ({"idempotency_key": "k-1"}, ("header", "idempotency-key")),
}

#: IGNORED fields: a value for each, which must not reach UIP nor fail the create.
IGNORED_FIELDS: dict[str, dict[str, Any]] = {
    "language": {"language": "de"},
    "contact.email": {"contact": Contact(email="jane@example.com")},
    "contact.phone": {"contact": Contact(phone="+15555550100")},
    "expected_person.first_name": {"expected_person": ExpectedPerson(first_name="Jane")},
    "expected_person.last_name": {"expected_person": ExpectedPerson(last_name="Doe")},
    "expected_person.date_of_birth": {
        "expected_person": ExpectedPerson(date_of_birth=date(1990, 4, 12))
    },
    "expected_person.nationality": {"expected_person": ExpectedPerson(nationality="USA")},
    "expected_person.document_country": {"expected_person": ExpectedPerson(document_country="USA")},
    "expected_person.document_types": {
        "expected_person": ExpectedPerson(document_types=(DocumentType.DRIVERS_LICENSE,))
    },
    "workflow_id": {"workflow_id": "wf_1"},
}


def test_the_tables_cover_every_declaration() -> None:
    by_support = {
        name: d.support for name, d in INPUT_SUPPORT.items() if name != "provider_options"
    }
    assert {n for n, s in by_support.items() if s is InputSupport.IGNORED} == set(IGNORED_FIELDS)
    assert {n for n, s in by_support.items() if s is not InputSupport.IGNORED} == set(SENT_FIELDS)


@pytest.mark.parametrize("name", sorted(SENT_FIELDS))
async def test_a_sent_or_mapped_field_reaches_uip(name: str) -> None:
    overrides, (where, want) = SENT_FIELDS[name]
    values: dict[str, Any] = {"steps": (StepRequest(StepType.IDENTIFY),), **overrides}
    script = Script(ok(status=201))
    adapter = script.adapter()
    await adapter.create_session(CreateSessionRequest(**values))
    await adapter.aclose()
    (request,) = script.requests
    if where == "header":
        assert request.headers[want]
    else:
        assert json.loads(request.content)[where] == want


@pytest.mark.parametrize("name", sorted(IGNORED_FIELDS))
async def test_an_ignored_field_is_neither_sent_nor_refused(name: str) -> None:
    script = Script(ok(status=201))
    adapter = script.adapter()
    plain = CreateSessionRequest(steps=(StepRequest(StepType.IDENTIFY),), idempotency_key="k")
    await adapter.create_session(plain)
    await adapter.create_session(replace(plain, **IGNORED_FIELDS[name]))
    await adapter.aclose()
    without, with_field = script.requests
    assert with_field.content == without.content  # byte for byte: nothing of it is sent


async def test_provider_options_are_checked_and_uip_takes_none() -> None:
    adapter = no_network()
    with pytest.raises(ProviderError) as info:
        await adapter.create_session(
            CreateSessionRequest(
                steps=(StepRequest(StepType.IDENTIFY),), provider_options={"gate": True}
            )
        )
    await adapter.aclose()
    assert info.value.field == ("input", "providerOptions", "gate")


async def test_expires_at_is_uips_own_on_create_and_on_reads() -> None:
    """Create answers `expires`, GET (Version A) `expires_at`: both are UIP's expiry; the
    gateway never works one out from expiresIn."""
    script = Script(
        ok({**CREATED, "expires": "2026-06-07T12:15:00Z"}, status=201),
        ok({"id": "sess_abc123", "status": "created", "expires_at": "2026-06-07T12:15:00Z"}),
    )
    adapter = script.adapter()
    created = await adapter.create_session(
        CreateSessionRequest(steps=(StepRequest(StepType.IDENTIFY),), expires_in=600)
    )
    read = await adapter.fetch_session("sess_abc123")
    await adapter.aclose()
    assert created.expires_at == read.expires_at
    assert created.expires_at is not None and created.expires_at.isoformat().startswith(
        "2026-06-07T12:15"
    )


async def test_a_4xx_on_multipart_create_is_not_retried() -> None:
    script = Script(fail(400, "steps[1]: bad", "request/invalid-payload"))
    adapter = script.adapter()
    with pytest.raises(ProviderError) as info:
        await adapter.create_session(with_sign())
    await adapter.aclose()
    assert info.value.code is ErrorCode.BAD_USER_INPUT and len(script.requests) == 1
    assert script.requests[0].headers["content-type"].startswith("multipart/form-data")
