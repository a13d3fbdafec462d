"""Nesting limit for `JSON` input values (`metadata`, `providerOptions`, step `params`).

A value nested hundreds of levels deep got through and crashed later code that walks it
recursively (hashing the request for idempotency: a RecursionError, answered as an internal
error). Values deeper than the limit are the caller's mistake, `BAD_USER_INPUT`: in
variables through the scalar's `parse_value`, in the document through a validation rule that
names the argument or input field. Every check is iterative.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from graphql import (
    ArgumentNode,
    GraphQLError,
    ListValueNode,
    ObjectFieldNode,
    ObjectValueNode,
    ValueNode,
    get_named_type,
    value_from_ast_untyped,
)
from graphql.language import SKIP
from graphql.validation import ValidationRule
from strawberry.scalars import JSON
from strawberry.schema.types.scalar import DEFAULT_SCALAR_REGISTRY
from strawberry.types.scalar import ScalarDefinition

BAD_USER_INPUT = "BAD_USER_INPUT"


def _children(value: object) -> Iterable[object]:
    if isinstance(value, dict):
        return value.values()
    if isinstance(value, list | tuple):
        return value
    if isinstance(value, ObjectValueNode):
        return (field.value for field in value.fields)
    if isinstance(value, ListValueNode):
        return value.values
    return ()


def _is_container(value: object) -> bool:
    return isinstance(value, dict | list | tuple | ObjectValueNode | ListValueNode)


def nests_deeper_than(value: object, limit: int) -> bool:
    """Whether objects/lists (Python values or literals) nest more than `limit` levels:
    `{}` is one level, `{"a": [1]}` two."""
    stack = [(value, 1)] if _is_container(value) else []
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in _children(item) if _is_container(child))
    return False


def too_deep_message(limit: int, name: str = "JSON value") -> str:
    return f"{name} nests deeper than {limit} levels (the limit for JSON input)"


def bounded_json(max_depth: int) -> ScalarDefinition:
    """strawberry's `JSON` scalar (same name and description, so the schema is unchanged)
    whose variable values may nest at most `max_depth` levels."""

    def parse_value(value: Any) -> Any:
        if nests_deeper_than(value, max_depth):
            raise GraphQLError(too_deep_message(max_depth), extensions={"code": BAD_USER_INPUT})
        return value

    def parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> Any:
        """Unchecked: `json_literal_depth` has refused deep literals, naming the field
        (graphql-core's default would run `parse_value` and report it a second time)."""
        return value_from_ast_untyped(node, variables)

    return dataclasses.replace(
        DEFAULT_SCALAR_REGISTRY[JSON], parse_value=parse_value, parse_literal=parse_literal
    )


def json_literal_depth(max_depth: int) -> type[ValidationRule]:
    """A validation rule: a `JSON` literal in the document nests at most `max_depth` levels.
    The error names the argument or input field (`["input", "metadata"]`)."""

    class JsonLiteralDepth(ValidationRule):
        path: list[str]

        def enter_document(self, *_args: Any) -> None:
            self.path = []

        def enter_argument(self, node: ArgumentNode, *_args: Any) -> Any:
            return self._enter(node.name.value, node.value)

        def leave_argument(self, *_args: Any) -> None:
            self.path.pop()

        def enter_object_field(self, node: ObjectFieldNode, *_args: Any) -> Any:
            return self._enter(node.name.value, node.value)

        def leave_object_field(self, *_args: Any) -> None:
            self.path.pop()

        def _enter(self, name: str, value: ValueNode) -> Any:
            input_type = self.context.get_input_type()
            named = get_named_type(input_type) if input_type is not None else None
            if named is None or named.name != "JSON":
                self.path.append(name)
                return None
            if nests_deeper_than(value, max_depth):
                self.report_error(
                    GraphQLError(
                        too_deep_message(max_depth, name),
                        value,
                        extensions={"code": BAD_USER_INPUT, "field": [*self.path, name]},
                    )
                )
            return SKIP  # the leave hook is skipped with it: nothing was pushed

    return JsonLiteralDepth
