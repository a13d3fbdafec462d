"""Accounts (docs/vendors/beltic.md, Creating a session).

Every Beltic session belongs to an account; our client reference is the account's
`external_id`. An account is found or made for each create, and every create makes a new
session on it: an existing session is never handed back (dedupe is the gateway's
`idempotencyKey`, nothing else). Pure helpers only: the adapter does the HTTP calls.
"""

from __future__ import annotations

from collections.abc import Mapping
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
)


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
    """A new account carrying what the request knows about the person (the documented
    account fields: `external_id`, `entity_type`, `person`, `contact`)."""
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
