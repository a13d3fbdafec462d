"""The Beltic emulator's behaviour, free of HTTP: keys and scopes, accounts, the session
status rules, the emulated documents / verifications, and the document webhooks.

Every status change takes one path (`_change`): check the vendor's rule → set the status and
its timestamp → persist. Nothing is pushed for a session's status change: Beltic has no
session webhooks (docs/vendors/beltic.md, Webhooks and signature); the gateway polls. A
transition Beltic's flow does not allow is refused with `TRANSITION_REFUSED_STATUS`
(docs/vendors/beltic.md, Errors).
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.base import SandboxConfig
from adapters.beltic.inferred import TRANSITION_REFUSED_STATUS
from adapters.beltic.sandbox import outcomes
from adapters.beltic.sandbox.jsonapi import ApiError, api_error, document_resource, found
from adapters.beltic.sandbox.model import (
    CONTROL_ACTIONS,
    DECIDABLE,
    DEFAULT_SESSION_TTL,
    EXPIRABLE,
    FINAL_STATUSES,
    KEY_PREFIX,
    PRE_COMPLETION,
    SIMULATE_RULES,
    STATUS_TIMESTAMP,
    SUBSCRIBED_DOCUMENT_STATUSES,
    UPDATABLE,
    Account,
    Document,
    Session,
    Status,
    Verification,
    iso,
    new_id,
    parse_iso,
)
from adapters.beltic.sandbox.store import Store
from adapters.beltic.sandbox.webhooks import DocumentWebhooks
from adapters.common.sandbox.webhooks import NOT_SENT, DeliveryResult

JSON = dict[str, Any]

#: How the sandbox's API keys appear as a session's creator (`creator_type`; inferred value).
CREATOR_TYPE = "api_key"
#: The identity the sandbox's document check "extracts" when the checks pass, written back
#: to the session like `meta.auto_update_session` does (documented on verification create,
#: https://docs.beltic.com/api-reference/endpoint/identity-verifications-create); only empty
#: fields are filled.
SANDBOX_PERSON: JSON = {
    "name": {"first": "Alex", "middle": None, "last": "Sandbox"},
    "birth_date": "1990-05-17",
}
SANDBOX_ADDRESS: JSON = {
    "line1": "1 Sandbox Way",
    "line2": None,
    "sublocality": None,
    "locality": "Springfield",
    "administrative_area": "IL",
    "postal_code": "62701",
    "country_code": "US",
}
SANDBOX_FILES = (
    {"filename": "front.jpg", "content_type": "image/jpeg", "byte_size": 184_320},
    {"filename": "back.jpg", "content_type": "image/jpeg", "byte_size": 176_128},
    {"filename": "selfie.jpg", "content_type": "image/jpeg", "byte_size": 96_256},
)


@dataclass(frozen=True)
class ApiKey:
    id: str  # what a session's `creator_id` shows: never the secret itself
    secret: str
    scopes: frozenset[str]


@dataclass(frozen=True)
class SimulateResult:
    session: Session
    document_webhook: DeliveryResult | None


#: Actions whose checks run on the submitted document (the sandbox's outcomes).
PROCESSING_ACTIONS = frozenset({"approve", "decline", "review"})


class BelticEmulator:
    def __init__(self, config: SandboxConfig, webhook_secret: str, webhook_token: str) -> None:
        self.config = config
        self.store = Store(config.state_path)
        self.keys: dict[str, ApiKey] = {}
        self.webhooks = DocumentWebhooks(config, webhook_secret, webhook_token)

    def now(self) -> datetime:
        return self.config.clock()

    def _new_id(self, prefix: str) -> str:
        return new_id(prefix, self.now(), self.store.next_sequence())

    # -- keys -------------------------------------------------------------------------------
    def add_key(self, scopes: frozenset[str], secret: str | None = None) -> ApiKey:
        key = ApiKey(
            id=f"key_{secrets.token_hex(8)}",
            secret=secret or KEY_PREFIX + secrets.token_urlsafe(32),
            scopes=scopes,
        )
        self.keys[key.secret] = key
        return key

    def authenticate(self, sent: str | None) -> ApiKey:
        """401 for a missing or unknown key."""
        if not sent:
            raise api_error(401, "unauthorized", "The X-Api-Key header is missing.")
        for secret, key in self.keys.items():
            if secrets.compare_digest(sent.encode(), secret.encode()):
                return key
        raise api_error(401, "unauthorized", "The API key is not valid.")

    @staticmethod
    def require(key: ApiKey, scope: str) -> None:
        """403 for a key without the scope (approve / decline need `sessions:decide`)."""
        if scope not in key.scopes:
            raise api_error(403, "forbidden", f"This API key lacks the `{scope}` permission.")

    # -- time -------------------------------------------------------------------------------
    def expire_due(self) -> None:
        """Sessions whose `expires_at` passed before completion are `expired` ("The session
        expired before completion"), at their `expires_at`. Checked on every request."""
        now, changed = self.now(), False
        for session in self.store.sessions.values():
            if session.status_enum in PRE_COMPLETION and parse_iso(session.expires_at) <= now:
                self._set_status(session, Status.EXPIRED, session.expires_at)
                changed = True
        if changed:
            self.store.save()

    # -- accounts -----------------------------------------------------------------------------
    def create_account(self, clean: JSON) -> Account:
        external_id = clean.get("external_id")
        if external_id is not None and self.store.account_by_external_id(external_id):
            # Inferred: external ids are unique per environment: look the account up instead.
            raise api_error(
                409,
                "already_exists",
                "An account with this external_id already exists.",
                pointer="/data/attributes/external_id",
            )
        stamp = iso(self.now())
        account = Account(
            id=self._new_id("acc"),
            created_at=stamp,
            updated_at=stamp,
            entity_type=clean["entity_type"],
            external_id=external_id,
            person=clean.get("person"),
            business=clean.get("business"),
            contact=clean.get("contact"),
            address=clean.get("address"),
            identity_numbers=[
                self._stamp_number(n, None) for n in clean.get("identity_numbers") or [] if n
            ],
        )
        self.store.accounts[account.id] = account
        self.store.save()
        return account

    def get_account(self, account_id: str) -> Account:
        return found(self.store.accounts, account_id, "account")

    # -- sessions -----------------------------------------------------------------------------
    def create_session(self, clean: JSON, account_id: str, key: ApiKey) -> Session:
        if account_id not in self.store.accounts:
            # JSON:API: a reference to a related resource that does not exist is a 404.
            raise api_error(
                404,
                "not_found",
                "No account with this id.",
                pointer="/data/relationships/account/data/id",
            )
        now = self.now()
        expires = now + DEFAULT_SESSION_TTL
        if clean.get("expires_at") is not None:
            expires = parse_iso(clean["expires_at"])
            if expires <= now:
                raise api_error(
                    422,
                    "invalid_attribute",
                    "`expires_at` must be in the future.",
                    pointer="/data/attributes/expires_at",
                )
        stamp = iso(now)
        session = Session(
            id=self._new_id("sess"),
            account_id=account_id,
            status=Status.CREATED.value,
            entity_type=clean["entity_type"],
            creator_type=CREATOR_TYPE,
            creator_id=key.id,
            created_at=stamp,
            updated_at=stamp,
            expires_at=iso(expires),
        )
        self._apply_applicant_data(session, clean)
        self.store.sessions[session.id] = session
        self.store.save()
        return session

    def get_session(self, session_id: str) -> Session:
        return found(self.store.sessions, session_id, "session")

    def update_session(self, session: Session, clean: JSON) -> Session:
        if session.status_enum not in UPDATABLE:
            raise self._conflict(session, "updated")
        if session.redacted_at is not None and clean:
            raise api_error(
                TRANSITION_REFUSED_STATUS,
                "session_redacted",
                "A redacted session takes no new personal data.",
            )
        self._apply_applicant_data(session, clean)
        session.updated_at = iso(self.now())
        self.store.save()
        return session

    def decide(self, session: Session, target: Status) -> Session:
        """approve / decline: only from `completed` or `marked_for_review` (the guide's
        status flow)."""
        if session.status_enum not in DECIDABLE:
            raise self._conflict(session, "approved" if target == Status.APPROVED else "declined")
        self._change(session, target)
        return session

    def expire(self, session: Session) -> Session:
        if session.status_enum not in EXPIRABLE:
            raise self._conflict(session, "expired")
        self._change(session, Status.EXPIRED)
        return session

    def redact(self, session: Session) -> Session:
        """Remove the personal data (the guide's "Redacting a Session"); idempotent: a second
        call keeps the first `redacted_at` (inferred)."""
        if session.redacted_at is not None:
            return session
        stamp = iso(self.now())
        session.person = session.business = session.identity_numbers = None
        session.contact = session.address = session.behavior_analysis = None
        for document_id in session.document_ids:
            self.store.documents[document_id].files = []
        for verification_id in session.verification_ids:
            for check in self.store.verifications[verification_id].checks:
                check["metadata"] = {}
        session.redacted_at = stamp
        session.updated_at = stamp
        self.store.save()
        return session

    # -- the integrator's uploads and Beltic's checks (the control endpoint) -----------------
    def check_action(self, session: Session, action: str) -> Status:
        """The status `action` leads to, or a refusal (400 unknown; Beltic's transition
        refusal when the session's status does not allow it)."""
        if action not in SIMULATE_RULES:
            raise api_error(
                400,
                "unsupported_action",
                f"Beltic has no '{action}' action. Actions the Beltic sandbox supports: "
                f"{', '.join(CONTROL_ACTIONS)}.",
                pointer="/action",
            )
        target, allowed_from = SIMULATE_RULES[action]
        if session.status_enum not in allowed_from:
            raise api_error(
                TRANSITION_REFUSED_STATUS,
                "invalid_status_transition",
                f"'{action}' is not possible on a session in status '{session.status}' "
                f"(it needs one of: {', '.join(sorted(allowed_from))}).",
            )
        return target

    async def simulate(self, session: Session, action: str, reason: Any = None) -> SimulateResult:
        target = self.check_action(session, action)
        cause = outcomes.cause_for(action, reason)  # refused before anything changes
        current = session.status_enum
        document: Document | None = None
        if action == "submit":
            self._submit_document(session)
        elif action in PROCESSING_ACTIONS and current == Status.PENDING:
            document = self._process_document(session, action, cause)
            self._change(session, Status.COMPLETED)
        elif action == "fail":
            document = self._latest_document(session)
            if document is not None:
                document.status = "failed"
                document.processed_at = iso(self.now())
        if session.status_enum != target:
            self._change(session, target)
        webhook = None
        if document is not None and document.status in SUBSCRIBED_DOCUMENT_STATUSES:
            webhook = await self.webhooks.send(session.id, {"data": document_resource(document)})
        return SimulateResult(session, webhook)

    def _submit_document(self, session: Session) -> None:
        stamp = iso(self.now())
        document = Document(
            id=self._new_id("doc"),
            session_id=session.id,
            status="submitted",
            document_type="passport",  # inferred value
            created_at=stamp,
            submitted_at=stamp,
            files=[dict(f) for f in SANDBOX_FILES],
        )
        self.store.documents[document.id] = document
        session.document_ids.append(document.id)
        session.behavior_analysis = self._behavior(session, threat="low")

    def _process_document(
        self, session: Session, action: str, cause: outcomes.Cause | None
    ) -> Document | None:
        document = self._latest_document(session)
        if document is None:
            return None
        stamp = iso(self.now())
        document.status = "processed"
        document.processed_at = stamp
        status, checks = outcomes.verification(action, cause)
        verification = Verification(
            id=self._new_id("ver"),
            session_id=session.id,
            document_id=document.id,
            status=status,
            created_at=stamp,
            updated_at=stamp,
            checks=checks,
        )
        self.store.verifications[verification.id] = verification
        session.verification_ids.append(verification.id)
        session.behavior_analysis = self._behavior(
            session, threat="medium" if action == "review" else "low"
        )
        if status == "passed" and session.entity_type == "person" and session.redacted_at is None:
            # auto_update_session: a passing check writes the extracted data back.
            session.person = self._extracted_person(session)
            session.address = session.address or _copy(SANDBOX_ADDRESS)
        return document

    def _extracted_person(self, session: Session) -> JSON:
        """The person the document shows: the session's own applicant data, else its
        account's (the person the integrator expects), else the sandbox's sample person."""
        account = self.store.accounts.get(session.account_id)
        for person in (session.person, account.person if account else None):
            name = (person or {}).get("name") or {}
            if name.get("first") and name.get("last") and (person or {}).get("birth_date"):
                return _copy(person or {})
        return _copy(SANDBOX_PERSON)

    def _latest_document(self, session: Session) -> Document | None:
        if not session.document_ids:
            return None
        return self.store.documents.get(session.document_ids[-1])

    def _behavior(self, session: Session, *, threat: str) -> JSON:
        started = parse_iso(session.started_at) if session.started_at else self.now()
        seconds = max(0, int((self.now() - started).total_seconds()))
        return {
            "completion_time_seconds": seconds,
            "autofill_cancels": 0,
            "autofill_starts": 1,
            "bot_score": 2,
            "threat_level": threat,
            "shortcut_copies": 0,
            "shortcut_pastes": 0,
            "distraction_events": 1,
            "devtools_open": False,
            "debugger_attached": False,
            "request_spoof_attempts": 0,
            "user_agent_spoof_attempts": 0,
            "hesitation_baseline": 1200,
            "hesitation_count": 2,
            "hesitation_percentage": 4,
            "hesitation_time": 2400,
        }

    # -- helpers ------------------------------------------------------------------------------
    def _change(self, session: Session, target: Status) -> None:
        """The one path of a status change: status + its timestamp + persist. No push."""
        self._set_status(session, target, iso(self.now()))
        self.store.save()

    @staticmethod
    def _set_status(session: Session, target: Status, stamp: str) -> None:
        session.status = target.value
        attribute = STATUS_TIMESTAMP.get(target)
        if attribute is not None:
            setattr(session, attribute, stamp)
        session.updated_at = stamp

    def _apply_applicant_data(self, session: Session, clean: JSON) -> None:
        for name in ("person", "business", "contact", "address"):
            if name in clean:
                setattr(session, name, clean[name])
        if "identity_numbers" in clean:
            value = clean["identity_numbers"]
            session.identity_numbers = (
                self._stamp_number(value, session.identity_numbers) if value else None
            )

    def _stamp_number(self, number: JSON, previous: JSON | None) -> JSON:
        stamp = iso(self.now())
        created = (previous or {}).get("created_at") or stamp
        return {**number, "created_at": created, "updated_at": stamp}

    @staticmethod
    def _conflict(session: Session, verb: str) -> ApiError:
        final = " (it is final)" if session.status_enum in FINAL_STATUSES else ""
        return api_error(
            TRANSITION_REFUSED_STATUS,
            "invalid_status_transition",
            f"A session in status '{session.status}' cannot be {verb}{final}.",
        )

    async def aclose(self) -> None:
        await self.webhooks.aclose()


def _copy(value: JSON) -> JSON:
    return copy.deepcopy(value)


__all__ = ["NOT_SENT", "ApiKey", "BelticEmulator", "SimulateResult"]
