"""Which `Session` fields a principal may read: one table, applied to every field of the type
wherever a session appears (queries, subscription events, mutation payloads).

- An API key with `sessions:read` (or dev mode) reads every field; `raw`, `person`,
  `documents` and each `audit` record's `proof` still need `pii:read`, and the link fields
  `sessions:write`, checked by their resolvers. `audit` is read from the vendor, so it is not
  in the client token's list: a browser never makes the gateway call the vendor.
- A session's own client token reads what its browser needs to show progress and nothing
  about the integration behind it (README "Access control" lists exactly these fields).
- Any other key (`sessions:write` or `sessions:decide` only) reads the acted-on session's
  `id` and `status` through a mutation payload, plus the link fields its scope allows: before
  (issue 14) such a key read any session's `clientReference`, `history` and `decision`.

A denied field answers null with a FORBIDDEN (or UNAUTHENTICATED) error on that field, so the
rest of the answer survives; every guarded field is nullable for that reason."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import FieldExtension

from gateway.auth import Principal, PrincipalKind, Scope

#: Readable by anyone who may see the session at all.
ALWAYS = frozenset({"id", "status"})
#: Governed by `Principal.can_see_link` in their own resolvers.
LINK_FIELDS = frozenset({"verification_url", "qr_code"})
#: What a session's own client token reads (README "Access control" lists them).
CLIENT_TOKEN_FIELDS = (
    ALWAYS
    | LINK_FIELDS
    | {
        "is_final",
        "expires_at",
        "steps",
        "current_step",
        "decision",
    }
)


def denial(principal: Principal, field: str) -> GraphQLError | None:
    """Why `principal` may not read `field` (a Python field name), or None."""
    if principal.kind is PrincipalKind.CLIENT_TOKEN:
        if field in CLIENT_TOKEN_FIELDS:
            return None
        return _error("FORBIDDEN", f"a client token may not read {_camel(field)}")
    if principal.has(Scope.SESSIONS_READ) or field in ALWAYS or field in LINK_FIELDS:
        return None
    if not principal.authenticated:
        return _error("UNAUTHENTICATED", principal.problem or "credentials required")
    return _error("FORBIDDEN", f"{_camel(field)} needs the sessions:read scope")


class SessionVisibility(FieldExtension):
    """Applies `denial` before the field's own resolver runs."""

    def resolve(self, next_: Callable[..., Any], source: Any, info: Any, **kwargs: Any) -> Any:
        error = denial(info.context.principal, info.python_name)
        if error is not None:
            raise error
        return next_(source, info, **kwargs)

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Any, **kwargs: Any
    ) -> Any:
        error = denial(info.context.principal, info.python_name)
        if error is not None:
            raise error
        return await next_(source, info, **kwargs)


_VISIBILITY = SessionVisibility()


def session_field(resolver: Any = None, **kwargs: Any) -> Any:
    """`strawberry.field` with the visibility rule, for every field of `Session`."""
    extensions = [_VISIBILITY, *kwargs.pop("extensions", ())]
    if resolver is None:
        return strawberry.field(extensions=extensions, **kwargs)
    return strawberry.field(resolver, extensions=extensions, **kwargs)


def _error(code: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": code})


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
