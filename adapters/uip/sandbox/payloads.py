"""The bodies the UIP emulator answers and sends, each as UIP's pages show it
(docs/vendors/uip.md, Endpoints we call; Webhooks and signature).

- create `{id, status, url, expires}` (note `expires`, not `expires_at`);
- GET in both published versions: A `{id, status, current_step, step_count, primitives,
  current_primitive, created_at, updated_at, expires_at}` (status and progress only) and
  B `{id, status, current_step, step_count, results, outcome, client_reference_id,
  metadata, updated_at}` (with the per-step verdicts);
- continue `{id, status, current_step, step_count, current_primitive}`, stop
  `{id, status, current_step, step_count}`;
- the redacted audit record; errors `{error, code}` (the only documented form, v1);
- webhook envelopes `{event, data}` and the per-primitive step results with fake claims.

`current_step` differs between the two GET examples at a gate: version A (and continue/stop)
shows the gated step itself, version B the number of verified steps. Each shape keeps its own
example's meaning.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import date, datetime
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from adapters.common.sandbox.times import parse_iso
from adapters.uip.sandbox.model import (
    IDENTIFY_DEFAULT_BLOCKS,
    LIGHT_SIGN_TEXT_PARAM,
    MIN_AGE_DEFAULT,
    SANDBOX_WALLET,
    TERMINAL,
    UNMAPPED_BLOCKS,
    SandboxSession,
    iso,
    iso_nanos,
)
from adapters.uip.sandbox.validation import manifest_digest

JSON = dict[str, Any]

#: Fake people the sandbox's "wallet" presents (never real data); one per session, by id.
FAKE_PEOPLE: tuple[JSON, ...] = (
    {
        "first_name": "Jane",
        "last_name": "Doe",
        "dob": "1990-04-12",
        "country": "US",
        "document_number": "D1234567",
    },
    {
        "first_name": "Ada",
        "last_name": "Lovelace",
        "dob": "1985-12-10",
        "country": "US",
        "document_number": "L7654321",
    },
    {
        "first_name": "Sam",
        "last_name": "Sample",
        "dob": "2001-07-30",
        "country": "US",
        "document_number": "S1029384",
    },
)
#: `portrait`: a placeholder image payload (the format is not documented [INFERRED]).
FAKE_PORTRAIT = base64.b64encode(b"UIP sandbox portrait placeholder, not a real photo").decode()
UNAVAILABLE = "unavailable"


def error_body(message: str, code: str) -> JSON:
    """core-concepts/error-handling: `{"error": "...", "code": "area/kebab-code"}` (v1 form, the
    only one)."""
    return {"error": message, "code": code}


# -- API responses ------------------------------------------------------------------------------


def create_body(session: SandboxSession, url: str) -> JSON:
    return {
        "id": session.id,
        "status": session.status,
        "url": url,
        "expires": iso(parse_iso(session.expires_at)),
    }


def current_primitive(session: SandboxSession) -> str:
    return session.steps[min(session.current_step, len(session.steps) - 1)].primitive


def progress(session: SandboxSession) -> JSON:
    """Where a session stands: what GET, continue and stop answers start with (all of stop)."""
    return {
        "id": session.id,
        "status": session.status,
        "current_step": session.current_step,
        "step_count": len(session.steps),
    }


def get_body_a(session: SandboxSession) -> JSON:
    return {
        **progress(session),
        "primitives": session.primitives,
        "current_primitive": current_primitive(session),
        "created_at": iso(parse_iso(session.created_at)),
        "updated_at": iso(parse_iso(session.updated_at)),
        "expires_at": iso(parse_iso(session.expires_at)),
    }


def get_body_b(session: SandboxSession) -> JSON:
    terminal = session.status_enum in TERMINAL
    return {
        **progress(session),
        "current_step": len(session.results),
        "results": [result_view(result) for result in session.results],
        "outcome": session.status if terminal else "",
        # Unset strings read as "" (Version B's `outcome` is "" while in progress) [INFERRED].
        "client_reference_id": session.client_reference_id or "",
        "metadata": dict(session.metadata),
        "updated_at": iso(parse_iso(session.updated_at)),
    }


def continue_body(session: SandboxSession) -> JSON:
    return {
        **progress(session),
        "current_primitive": current_primitive(session),
    }


def stop_body(session: SandboxSession) -> JSON:
    return progress(session)


def result_view(result: JSON) -> JSON:
    """One verified step as GET (version B) lists it."""
    return {
        "step": result["step"],
        "primitive": result["primitive"],
        "verified_at": iso(parse_iso(result["verified_at"])),
        "audit_id": result["audit_id"],
        **result["fields"],
    }


def audit_body(session: SandboxSession, result: JSON) -> JSON:
    audit = result["audit"]
    return {
        "id": result["audit_id"],
        "session_id": session.id,
        "stage": result["step"],
        "primitive": result["primitive"],
        "wallet": audit["wallet"],
        "proof": audit["proof"],
        "occurred_at": iso_nanos(parse_iso(result["verified_at"])),
        "client_reference_id": session.client_reference_id or "",
        "prev_hash": audit["prev_hash"],
        "record_hash": audit["record_hash"],
        "ts_token": audit["ts_token"],
        "business_redacted": True,
    }


# -- webhooks -----------------------------------------------------------------------------------


def envelope(event: str, session: SandboxSession, fields: JSON) -> JSON:
    """`data` always has `session_id`, plus `client_reference_id` and `metadata` when set."""
    data: JSON = {"session_id": session.id}
    if session.client_reference_id:
        data["client_reference_id"] = session.client_reference_id
    if session.metadata:
        data["metadata"] = dict(session.metadata)
    data.update(fields)
    return {"event": event, "data": data}


def step_completed_fields(result: JSON) -> JSON:
    return {
        "stage": result["step"],
        "primitive": result["primitive"],
        "audit_id": result["audit_id"],
        **result["fields"],
    }


# -- what a verified step yields (fake wallet data) ------------------------------------------------


class FakeWallet:
    """Stands in for the person's wallet: presents a fake credential and signs with a P-256
    key of its own (real ECDSA signatures, so `signature` looks and verifies like one)."""

    def __init__(self) -> None:
        self._key = ec.generate_private_key(ec.SECP256R1())

    def person(self, session: SandboxSession) -> JSON:
        index = int(hashlib.sha256(session.id.encode()).hexdigest(), 16) % len(FAKE_PEOPLE)
        return FAKE_PEOPLE[index]

    def sign(self, document_hash: str) -> str:
        der = self._key.sign(document_hash.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(der).decode("ascii")

    def verify_step(
        self,
        session: SandboxSession,
        stage: int,
        now: datetime,
        stamp_now: str,
        *,
        unmet: bool = False,
    ) -> JSON:
        """The stored result of step `stage` verifying now, with its audit record (`unmet`: an
        age_verify step is not satisfied, whatever the fake person's age)."""
        step = session.steps[stage]
        person = self.person(session)
        if step.primitive == "identify":
            blocks = step.params.get("blocks") or list(IDENTIFY_DEFAULT_BLOCKS)
            claims = {block: self._claim(person, block) for block in blocks}
            fields: JSON = {"claims": claims}
            proof: JSON = {"claims_digest": _digest(claims)}
        elif step.primitive == "age_verify":
            min_age = step.params.get("min_age", MIN_AGE_DEFAULT)
            old_enough = _age(person["dob"], now.date()) >= min_age
            fields = {"satisfied": old_enough and not unmet, "min_age": min_age}
            proof = dict(fields)
        else:
            if step.primitive == "sign":
                document_hash = manifest_digest(step.files)
            else:
                text = step.params[LIGHT_SIGN_TEXT_PARAM].encode("utf-8")
                document_hash = "sha256:" + hashlib.sha256(text).hexdigest()
            fields = {"signature": self.sign(document_hash), "document_hash": document_hash}
            proof = dict(fields)
        audit_id = f"{session.id}_{stage}"
        previous = session.results[-1]["audit"]["record_hash"] if session.results else "0x000"
        record = {
            "id": audit_id,
            "session_id": session.id,
            "stage": stage,
            "primitive": step.primitive,
            "wallet": SANDBOX_WALLET,
            "proof": proof,
            "occurred_at": iso_nanos(now),
            "prev_hash": previous,
        }
        audit = {
            "wallet": SANDBOX_WALLET,
            "proof": proof,
            "prev_hash": previous,
            "record_hash": _digest(record),
            # An RFC 3161-looking timestamp token (DER SEQUENCE prefix), not a real one.
            "ts_token": base64.b64encode(b"\x30\x82\x04\x00" + secrets.token_bytes(96)).decode(),
        }
        return {
            "step": stage,
            "primitive": step.primitive,
            "verified_at": stamp_now,
            "audit_id": audit_id,
            "fields": fields,
            "audit": audit,
        }

    @staticmethod
    def _claim(person: JSON, block: str) -> str:
        if block in UNMAPPED_BLOCKS:
            return UNAVAILABLE
        if block == "portrait":
            return FAKE_PORTRAIT
        return person.get(block, UNAVAILABLE)


def _age(dob: str, today: date) -> int:
    born = date.fromisoformat(dob)
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
