"""Permission checks for resolvers: queries and subscriptions answer with a top-level error
(`extensions.code` UNAUTHENTICATED or FORBIDDEN); mutations with a user error; a protected
field gives null plus a FORBIDDEN error on that field."""

from __future__ import annotations

from graphql import GraphQLError

from gateway.auth import Denied, Principal, PrincipalKind, Scope, require, require_session
from gateway.errors import ErrorCode, FieldProblem, ServiceError
from gateway.web.graphql.context import Info


class BadUserInput(GraphQLError):
    """An expected error on a query (queries have no payload type to carry user errors)."""

    def __init__(self, message: str, field: list[str] | None = None) -> None:
        super().__init__(message, extensions={"code": "BAD_USER_INPUT", "field": field})


def principal(info: Info) -> Principal:
    return info.context.principal


def as_graphql_error(denied: Denied) -> GraphQLError:
    return GraphQLError(denied.message, extensions={"code": denied.code.value})


def schema_refusal(principal: Principal, *, dev_mode: bool, public: bool) -> ErrorCode | None:
    """Introspection and GraphiQL: in a keyed deployment they need an API key (any scope)
    unless the schema is public (docs/security.md); None when allowed."""
    if public or dev_mode or principal.kind is PrincipalKind.API_KEY:
        return None
    return ErrorCode.FORBIDDEN if principal.authenticated else ErrorCode.UNAUTHENTICATED


def check(info: Info, *scopes: Scope) -> None:
    try:
        for scope in scopes:
            require(principal(info), scope)
    except Denied as denied:
        raise as_graphql_error(denied) from None


def check_session(info: Info, session_id: str) -> None:
    try:
        require_session(principal(info), session_id)
    except Denied as denied:
        raise as_graphql_error(denied) from None


def guard(info: Info, *scopes: Scope) -> None:
    """For mutations: a denied call is a user error, like every expected failure."""
    try:
        for scope in scopes:
            require(principal(info), scope)
    except Denied as denied:
        raise ServiceError(FieldProblem(denied.code, denied.message)) from None
