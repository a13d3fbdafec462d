"""Assembles the schema. Everything around an operation (parse and validation caching, the
token/depth/alias/field limits, who may introspect, error masking) is one extension,
`OperationGuard`: strawberry builds every extension, and a context manager per hook, on every
request."""

from __future__ import annotations

import functools
import logging
import re
import time
import uuid
import weakref
from collections.abc import Awaitable, Iterator, Sequence
from typing import Any

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    GraphQLResolveInfoHelpers,
    GraphQLSchema,
    SelectionSetNode,
    parse,
)
from graphql.pyutils import gather_with_cancel
from graphql.validation import (
    NoSchemaIntrospectionCustomRule,
    OverlappingFieldsCanBeMergedRule,
    ValidationRule,
)
from strawberry.extensions import MaskErrors
from strawberry.scalars import JSON
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext, validate_document
from strawberry.types import ExecutionContext
from strawberry.types.execution import StreamExecutionResult

from gateway import metrics
from gateway.errors import ErrorCode
from gateway.web.graphql.context import Context
from gateway.web.graphql.json_input import bounded_json, json_literal_depth
from gateway.web.graphql.limits import BudgetedOverlappingFields, operation_limits
from gateway.web.graphql.mutations import Mutation
from gateway.web.graphql.permissions import schema_refusal
from gateway.web.graphql.queries import Query
from gateway.web.graphql.subscriptions import Subscription

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


def limit_rules(
    *,
    max_depth: int,
    max_aliases: int,
    max_fields: int = 2000,
    max_json_depth: int = 32,
    introspection: bool,
) -> list[type[ValidationRule]]:
    """The depth/alias/field, JSON literal (and introspection) rules, made once per schema:
    the rules are part of the validation cache's key, so rule classes made per request
    (as strawberry's limiter extensions do) would make every request miss the cache. Each is
    linear in the document (gateway/web/graphql/limits.py)."""
    rules = [
        operation_limits(max_depth=max_depth, max_aliases=max_aliases, max_fields=max_fields),
        json_literal_depth(max_json_depth),
    ]
    if not introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


@functools.lru_cache(maxsize=8)
def _budgeted(rules: tuple[type[ValidationRule], ...]) -> tuple[type[ValidationRule], ...]:
    """strawberry's rules (graphql-core's specified ones) with the overlapping-fields rule on
    a budget: as shipped it spends about a second on some documents within the token limit."""
    return tuple(
        BudgetedOverlappingFields if rule is OverlappingFieldsCanBeMergedRule else rule
        for rule in rules
    )


#: graphql-core's hint, e.g. " Did you mean 'APPROVE'?" or " Did you mean the enum value
#: 'APPROVE'?" (names cannot hold a `?`).
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")


def strip_suggestions(message: str) -> str:
    return _SUGGESTION.sub("", message) if "Did you mean" in message else message


def _uses_introspection(document: DocumentNode) -> bool:
    """Whether any operation or fragment selects `__schema` or `__type` (`__typename` only
    names an object's type and stays open to everyone)."""
    stack: list[SelectionSetNode] = [
        d.selection_set  # type: ignore[attr-defined]
        for d in document.definitions
        if getattr(d, "selection_set", None) is not None
    ]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FieldNode) and selection.name.value in ("__schema", "__type"):
                return True
            if getattr(selection, "selection_set", None) is not None:
                stack.append(selection.selection_set)  # type: ignore[attr-defined]
    return False


def _operation_kind(context: ExecutionContext) -> str:
    """`query`, `mutation` or `subscription`; `invalid` for a document that did not parse or
    names no operation (a bounded label either way)."""
    if context.graphql_document is None:
        return "invalid"
    try:
        return context.operation_type.value
    except RuntimeError:
        return "invalid"


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
        self._cached_introspects = functools.lru_cache(maxsize=size)(self._introspects)

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

    def introspects(self, query: str, document: DocumentNode) -> bool:
        """`document` must be `parse(query)`'s answer; it is used only when not cached."""
        if len(query) > self.max_chars:
            return _uses_introspection(document)
        return self._cached_introspects(query)

    def _parse(self, query: str) -> DocumentNode:
        return parse(query, max_tokens=self.max_tokens)

    def _introspects(self, query: str) -> bool:
        return _uses_introspection(self.parse(query))

    def _validate(
        self, schema: GraphQLSchema, query: str, rules: tuple[type[ValidationRule], ...]
    ) -> list[GraphQLError]:
        return validate_document(schema, self.parse(query), rules)


class OperationGuard(CorrelatedMaskErrors):
    """Parse (at most `max_tokens` tokens) and validate (with the limit rules) through the
    cache, refuse introspection to callers who may not see the schema, then mask unexpected
    errors in the result."""

    def __init__(self, documents: DocumentCache, public_schema: bool = False) -> None:
        super().__init__(should_mask_error=_mask_only_unexpected)
        self.documents = documents
        self.public_schema = public_schema
        self._parsed: DocumentNode | None = None
        self._started = 0.0
        self._first_result_timed = False

    def on_operation(self) -> Iterator[None]:
        """Times the operation (`kycgw_graphql_operation_duration_seconds`); a subscription
        lives as long as its client, so it is timed to its first result instead."""
        self._started = time.perf_counter()
        yield from super().on_operation()
        kind = _operation_kind(self.execution_context)
        if kind != "subscription":
            elapsed = time.perf_counter() - self._started
            metrics.graphql_operation_seconds.labels(kind).observe(elapsed)

    def on_stream_result(self, result: StreamExecutionResult) -> Iterator[None]:
        if not self._first_result_timed:
            self._first_result_timed = True
            kind = _operation_kind(self.execution_context)
            if kind == "subscription":
                elapsed = time.perf_counter() - self._started
                metrics.graphql_operation_seconds.labels(kind).observe(elapsed)
        yield from super().on_stream_result(result)

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query:
            # Parse errors propagate from here as from strawberry's own parse.
            self._parsed = context.graphql_document = self.documents.parse(context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        rules = _budgeted(context.validation_rules) + self.documents.rules
        context.validation_rules = rules
        document = context.graphql_document
        cached = context.query and document is not None and document is self._parsed
        if cached:
            schema = context.schema._schema
            errors = self.documents.validate(schema, context.query, document, rules)
        elif document is not None:  # handed in already parsed: nothing to key it by
            errors = validate_document(context.schema._schema, document, rules)
        else:
            errors = None
        if not errors and document is not None:
            if cached:
                introspects = self.documents.introspects(context.query, document)
            else:
                introspects = _uses_introspection(document)
            refusal = self._introspection_refusal() if introspects else None
            if refusal is not None:
                errors = [refusal]
        context.pre_execution_errors = errors
        yield

    def _introspection_refusal(self) -> GraphQLError | None:
        """In a keyed deployment `__schema`/`__type` need an API key (any scope), unless the
        schema is public (docs/security.md). Operations run without a gateway context (the
        SDL export, tests) are the gateway's own."""
        context = self.execution_context.context
        if not isinstance(context, Context):
            return None
        code = schema_refusal(
            context.principal, dev_mode=context.auth.dev_mode, public=self.public_schema
        )
        if code is None:
            return None
        if code is ErrorCode.UNAUTHENTICATED:
            message = context.principal.problem or "credentials required"
        else:
            message = "introspection needs an API key"
        return GraphQLError(message, extensions={"code": code.value})

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
        logged by CorrelatedMaskErrors with their correlation id. Without field suggestions
        no message hints at names (enum values, arguments, types, input fields): strawberry
        strips them only from unknown-field errors."""
        if self.config.disable_field_suggestions:
            for error in errors:
                error.message = strip_suggestions(error.message)
        for error in errors:
            if not _mask_only_unexpected(error):
                log.debug("graphql error", extra={"error": error.message[:200]})


def build_schema(
    *,
    max_depth: int = 12,
    max_aliases: int = 30,
    max_tokens: int = 2000,
    max_fields: int = 2000,
    max_json_depth: int = 32,
    introspection: bool = True,
    field_suggestions: bool = True,
    public_schema: bool = False,
) -> strawberry.Schema:
    rules = limit_rules(
        max_depth=max_depth,
        max_aliases=max_aliases,
        max_fields=max_fields,
        max_json_depth=max_json_depth,
        introspection=introspection,
    )
    documents = DocumentCache(rules, max_tokens)
    return GatewaySchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        extensions=[functools.partial(OperationGuard, documents, public_schema)],
        execution_context_class=AcyclicExecutionContext,
        config=StrawberryConfig(disable_field_suggestions=not field_suggestions),
        scalar_overrides={JSON: bounded_json(max_json_depth)},
    )


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
