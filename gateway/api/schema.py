"""Assembles the schema. Everything around an operation (parse and validation caching, the
token/depth/alias limits, error masking) is one extension, `OperationGuard`: strawberry builds
every extension, and a context manager per hook, on every request."""

from __future__ import annotations

import functools
import logging
import uuid
import weakref
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError, GraphQLResolveInfoHelpers, GraphQLSchema, parse
from graphql.pyutils import gather_with_cancel
from graphql.validation import NoSchemaIntrospectionCustomRule, ValidationContext, ValidationRule
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
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


def _never_crash(rule: type[ValidationRule]) -> type[ValidationRule]:
    """strawberry's depth rule crashes on some invalid documents (unknown fragments, empty
    fragments); those are already invalid, so report that instead of a server error."""

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


def limit_rules(
    *, max_depth: int, max_aliases: int, introspection: bool
) -> list[type[ValidationRule]]:
    """The depth, alias (and introspection) rules, made once per schema. strawberry's
    limiter extensions make new rule classes per instance, that is per request, and the rules
    are part of the validation cache's key: with them every request missed the cache and ran
    the whole validation again (half the CPU of a `session(id)` read)."""
    depth = QueryDepthLimiter(max_depth=max_depth).validation_rules
    rules = [_never_crash(rule) for rule in depth]
    rules += MaxAliasesLimiter(max_alias_count=max_aliases).validation_rules
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


class DocumentCache:
    """Parsed documents and their validation errors by query text, bounded (LRU), shared by
    all requests to one schema. Keyed by text rather than by document: a `DocumentNode` hash
    walks the whole tree on every lookup. Texts longer than `max_chars` (real operations are
    far smaller; a body may be 1 MiB of comments) are parsed and checked each time, so the
    cache cannot be made to hold hundreds of megabytes."""

    def __init__(
        self,
        rules: Sequence[type[ValidationRule]],
        max_tokens: int,
        size: int = 256,
        max_chars: int = 16_384,
    ) -> None:
        self.rules = tuple(rules)
        self.max_tokens = max_tokens
        self.max_chars = max_chars
        self._cached_parse = functools.lru_cache(maxsize=size)(self._parse)
        self._cached_validate = functools.lru_cache(maxsize=size)(self._validate)

    def parse(self, query: str) -> DocumentNode:
        if len(query) > self.max_chars:
            return self._parse(query)
        return self._cached_parse(query)

    def validate(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        rules: tuple[type[ValidationRule], ...],
    ) -> list[GraphQLError]:
        """`document` must be `parse(query)`'s answer; it is used only when not cached."""
        if len(query) > self.max_chars:
            return validate_document(schema, document, rules)
        return self._cached_validate(schema, query, rules)

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def _validate(
        self, schema: GraphQLSchema, query: str, rules: tuple[type[ValidationRule], ...]
    ) -> list[GraphQLError]:
        return validate_document(schema, self.parse(query), rules)


class OperationGuard(CorrelatedMaskErrors):
    """Parse (at most `max_tokens` tokens) and validate (with the limit rules) through the
    cache, then mask unexpected errors in the result."""

    def __init__(self, documents: DocumentCache) -> None:
        super().__init__(should_mask_error=_mask_only_unexpected)
        self.documents = documents
        self._parsed: DocumentNode | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # Parse errors propagate from here as from strawberry's own parse.
            self._parsed = context.graphql_document = self.documents.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        rules = context.validation_rules + self.documents.rules
        context.validation_rules = rules
        document = context.graphql_document
        if context.query and document is not None and document is self._parsed:
            schema = context.schema._schema
            errors = self.documents.validate(schema, context.query, document, rules)
        elif document is not None:  # handed in already parsed: nothing to key it by
            errors = validate_document(context.schema._schema, document, rules)
        else:
            errors = None
        context.pre_execution_errors = errors
        yield

    def _process_result(self, result: object) -> None:
        """As MaskErrors does, without its per-result runtime `Protocol` isinstance check."""
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]


class AcyclicExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """graphql-core's executor refers to itself through the bound methods in its
    `async_helpers`: every operation left a reference cycle holding the whole request
    (context, request, headers, documents) until a garbage collection found it, 87 objects a
    request, while the bare FastAPI route leaves none. The helpers here reach the executor
    weakly, so an operation's objects are freed as soon as it completes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        track = weakref.WeakMethod(self.track_async_work)

        def track_weakly(values: Sequence[Any]) -> None:
            method = track()
            if method is not None:
                method(values)

        self.async_helpers = GraphQLResolveInfoHelpers(gather=_gather, track=track_weakly)


def _gather(values: Sequence[Awaitable[Any]]) -> Awaitable[list[Any]]:
    return gather_with_cancel(*values)


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
    rules = limit_rules(max_depth=max_depth, max_aliases=max_aliases, introspection=introspection)
    documents = DocumentCache(rules, max_tokens)
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[functools.partial(OperationGuard, documents)],
        execution_context_class=AcyclicExecutionContext,
        config=StrawberryConfig(disable_field_suggestions=not field_suggestions),
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
