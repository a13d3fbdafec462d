"""Accounts and safe creates (providers/beltic.md §2.2 "Create", §2.6).

Every Beltic session belongs to an account; our client reference is the account's
`external_id` (design §3.3). Beltic has no idempotency header, so before creating a session
for an account that already existed, its newest unopened session is looked up and reused
(choices in `inferred`). Pure helpers only: the adapter does the HTTP calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

from adapters.base import CreateSessionRequest
from adapters.beltic import inferred
from adapters.beltic.wire import (
    AccountAttributes,
    AccountListDocument,
    ContactDetails,
    CreateAccountBody,
    NewAccount,
    Person,
    PersonName,
    SessionListDocument,
    SessionResource,
)

#: How many candidate sessions one reuse check reads (a single page).
REUSE_CHECK_PAGE_SIZE = 10


def query(path: str, params: Mapping[str, str | int]) -> str:
    """`path?params`, JSON:API bracket names percent-encoded as httpx would."""
    return f"{path}?{urlencode(params)}" if params else path


def find_account_path(external_id: str) -> str:
    return query(
        inferred.ACCOUNTS_PATH,
        {inferred.FILTER_EXTERNAL_ID_PARAM: external_id, inferred.PAGE_SIZE_PARAM: 10},
    )


def pick_account(document: AccountListDocument, external_id: str) -> str | None:
    """The id of the account whose `external_id` is exactly ours. Checked here because a
    server that ignores an unknown filter would answer with other accounts."""
    for account in document.data:
        if account.type == "account" and account.attribute("external_id") == external_id:
            return account.id
    return None


def account_body(
    request: CreateSessionRequest, entity_type: str, *, external_id: str | None
) -> CreateAccountBody:
    """A new account carrying what the request knows about the person (§2.2 account fields)."""
    contact = None
    if request.contact is not None and (request.contact.email or request.contact.phone):
        contact = ContactDetails(email=request.contact.email, phone=request.contact.phone)
    person = None
    expected = request.expected_person
    if entity_type == "person" and expected is not None:
        name = None
        if expected.first_name or expected.last_name:
            name = PersonName(first=expected.first_name, last=expected.last_name)
        birth_date = expected.date_of_birth.isoformat() if expected.date_of_birth else None
        if name is not None or birth_date is not None:
            person = Person(name=name, birth_date=birth_date)
    return CreateAccountBody(
        data=NewAccount(
            attributes=AccountAttributes(
                external_id=external_id,
                entity_type=entity_type,  # type: ignore[arg-type]
                person=person,
                contact=contact,
            )
        )
    )


def open_sessions_path(account_id: str) -> str:
    params: dict[str, str | int] = {inferred.FILTER_ACCOUNT_PARAM: account_id}
    if len(inferred.REUSABLE_SESSION_STATUSES) == 1:
        [only] = inferred.REUSABLE_SESSION_STATUSES
        params[inferred.FILTER_STATUS_PARAM] = only
    params[inferred.PAGE_SIZE_PARAM] = REUSE_CHECK_PAGE_SIZE
    return query(inferred.SESSIONS_PATH, params)


def pick_reusable_session(
    document: SessionListDocument, account_id: str, entity_type: str, now: datetime
) -> SessionResource | None:
    """The newest session of this account that nobody has opened yet and that has not run
    out. Every condition is checked here: filters the server ignores must not make us hand
    out another account's session."""
    candidates: list[SessionResource] = []
    for session in document.data:
        if session.type != "session" or session.status not in inferred.REUSABLE_SESSION_STATUSES:
            continue
        if session.related_id("account") != account_id:
            continue  # unknown owner: never reuse
        if session.attribute("entity_type") not in (None, entity_type):
            continue
        expires_at = session.time("expires_at")
        if expires_at is not None and expires_at <= now:
            continue
        candidates.append(session)
    if not candidates:
        return None
    oldest = datetime.min.replace(tzinfo=now.tzinfo)
    return max(candidates, key=lambda s: s.time("created_at") or oldest)
