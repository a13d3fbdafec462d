"""Assembles the schema; extensions are passed as classes/factories (instances deprecated)."""

from __future__ import annotations

import functools
import logging
import uuid

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationContext, ValidationRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.api.mutations import Mutation
from gateway.api.queries import Query
from gateway.api.subscriptions import Subscription

log = logging.getLogger(__name__)


def _mask_only_unexpected(error: GraphQLError) -> bool:
    """Hide internals of crashes, but keep validation and expected errors readable."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


class CorrelatedMaskErrors(MaskErrors):
    """Masked errors carry a correlation id; the details go to the log under that id only."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        correlation_id = uuid.uuid4().hex[:16]
        original = error.original_error
        log.error(
            "unexpected error in a GraphQL operation",
            exc_info=(type(original), original, original.__traceback__) if original else None,
            extra={"correlation_id": correlation_id, "path": str(error.path or "")},
        )
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": "INTERNAL_SERVER_ERROR", "correlationId": correlation_id},
        )


class SafeQueryDepthLimiter(QueryDepthLimiter):
    """strawberry's depth rule crashes on some invalid documents (unknown fragments, empty
    fragments); those are already invalid, so report that instead of a server error."""

    def __init__(self, max_depth: int) -> None:
        super().__init__(max_depth=max_depth)
        self.validation_rules = [_never_crash(rule) for rule in self.validation_rules]


def _never_crash(rule: type[ValidationRule]) -> type[ValidationRule]:
    class Guarded(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            try:
                rule(context)
            except Exception:  # the document is malformed in a way other rules report
                context.report_error(
                    GraphQLError("The document could not be checked for depth; it is invalid.")
                )

    return Guarded


class GatewaySchema(strawberry.Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Expected errors (syntax, validation, user input) are the caller's business: log
        them quietly and without the document, which may hold personal data. Crashes are
        logged by CorrelatedMaskErrors with their correlation id."""
        for error in errors:
            if not _mask_only_unexpected(error):
                log.debug("graphql error", extra={"error": error.message[:200]})


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 2000,
    introspection: bool = True,
    field_suggestions: bool = True,
) -> strawberry.Schema:
    extensions: list = [
        functools.partial(ParserCache, maxsize=256),
        functools.partial(ValidationCache, maxsize=256),
        functools.partial(SafeQueryDepthLimiter, max_depth=max_depth),
        functools.partial(MaxAliasesLimiter, max_alias_count=max_aliases),
        functools.partial(MaxTokensLimiter, max_token_count=max_tokens),
        functools.partial(CorrelatedMaskErrors, should_mask_error=_mask_only_unexpected),
    ]
    if not introspection:
        extensions.append(functools.partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        config=StrawberryConfig(disable_field_suggestions=not field_suggestions),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
