"""Assembles the schema; extensions are passed as classes/factories (instances deprecated)."""

from __future__ import annotations

import functools

import strawberry
from graphql import GraphQLError
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)

from gateway.api.mutations import Mutation
from gateway.api.queries import Query
from gateway.api.subscriptions import Subscription


def _mask_only_unexpected(error: GraphQLError) -> bool:
    """Hide internals of crashes, but keep validation and expected errors readable."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 2000,
    introspection: bool = True,
) -> strawberry.Schema:
    extensions: list = [
        functools.partial(ParserCache, maxsize=256),
        functools.partial(ValidationCache, maxsize=256),
        functools.partial(QueryDepthLimiter, max_depth=max_depth),
        functools.partial(MaxAliasesLimiter, max_alias_count=max_aliases),
        functools.partial(MaxTokensLimiter, max_token_count=max_tokens),
        functools.partial(MaskErrors, should_mask_error=_mask_only_unexpected),
    ]
    if not introspection:
        extensions.append(functools.partial(AddValidationRules, [NoSchemaIntrospectionCustomRule]))
    return strawberry.Schema(
        query=Query, mutation=Mutation, subscription=Subscription, extensions=extensions
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
