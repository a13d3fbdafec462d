"""Validation rules that bound what a document costs, in time linear in its size.

A kilobyte of nested fragment spreads (`fragment F1 on T { ...F0 ...F0 }` … `F24`) stands for
millions of fields. Walking spreads as if they were inlined, as strawberry's depth and alias
limiters do, takes minutes on such a document and blocks the event loop meanwhile. Here every
fragment is measured once, in dependency order, and a spread adds the measure of its fragment:
depth, aliases and fields counted with multiplicity (capped, so the integers stay small).
graphql-core's own overlapping-fields rule is quadratic in the fields sharing a response name;
it runs on a budget small enough that a document within the token limit stays far under a
second (docs/security.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.language import BREAK, SKIP
from graphql.validation import (
    OverlappingFieldsCanBeMergedRule,
    ValidationContext,
    ValidationRule,
)
from graphql.validation.validate import ValidationAbortedError

#: Work units graphql-core's overlapping-fields rule may spend on one document. Its own
#: default, 500 000, is one to two seconds of CPU; this is a few tens of milliseconds.
#: Realistic operations spend next to nothing (GraphiQL's introspection query: 0; a
#: `sessions` page through three fragments: 8); 100 copies of `providers { name }` in one
#: selection set spend about 25 000.
OVERLAP_BUDGET = 20_000


@dataclass(frozen=True, slots=True)
class Measure:
    """What a selection set stands for once its spreads are expanded. `depth` counts the
    fields with a selection set on the deepest path (introspection fields excluded, as
    strawberry's depth limiter did); `aliases` and `fields` count with multiplicity."""

    depth: int = 0
    aliases: int = 0
    fields: int = 0


ZERO = Measure()


@dataclass(frozen=True, slots=True)
class Caps:
    """Counts are clamped just above their limit: beyond it only "too many" matters. (Depth
    needs no cap: it grows by one per level, not by multiplication.)"""

    aliases: int
    fields: int

    def clamp(self, depth: int, aliases: int, fields: int) -> Measure:
        return Measure(depth, min(aliases, self.aliases), min(fields, self.fields))


def _spread_names(selection_set: SelectionSetNode) -> list[str]:
    """The fragments spread anywhere inside a selection set (iterative: no recursion)."""
    names: list[str] = []
    stack = [selection_set]
    while stack:
        for selection in stack.pop().selections:
            if isinstance(selection, FragmentSpreadNode):
                names.append(selection.name.value)
            elif selection.selection_set is not None:  # type: ignore[union-attr]
                stack.append(selection.selection_set)  # type: ignore[union-attr]
    return names


def _dependency_order(fragments: dict[str, FragmentDefinitionNode]) -> list[str]:
    """Fragments so that each comes after those it spreads. A cycle (reported by
    graphql-core's NoFragmentCycles) is cut where it closes: that spread measures zero."""
    order: list[str] = []
    state: dict[str, bool] = {}  # False: being visited, True: done
    for root in fragments:
        if root in state:
            continue
        state[root] = False
        stack = [(root, iter(_spread_names(fragments[root].selection_set)))]
        while stack:
            name, pending = stack[-1]
            child = next((n for n in pending if n in fragments and n not in state), None)
            if child is None:
                stack.pop()
                state[name] = True
                order.append(name)
            else:
                state[child] = False
                stack.append((child, iter(_spread_names(fragments[child].selection_set))))
    return order


def _measure(selection_set: SelectionSetNode, done: dict[str, Measure], caps: Caps) -> Measure:
    """One selection set, its fragments' measures taken from `done` (missing: unknown or
    cyclic, so zero). Recursion follows the document's own nesting, which the parser
    bounds."""
    depth = aliases = fields = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            inner = ZERO
            if selection.selection_set is not None:
                inner = _measure(selection.selection_set, done, caps)
            introspection = selection.name.value.startswith("__")
            if selection.selection_set is not None and not introspection:
                depth = max(depth, 1 + inner.depth)
            aliases += inner.aliases + (selection.alias is not None)
            fields += 1 + inner.fields
        else:
            if isinstance(selection, FragmentSpreadNode):
                inner = done.get(selection.name.value, ZERO)
            else:
                assert isinstance(selection, InlineFragmentNode)
                inner = _measure(selection.selection_set, done, caps)
            depth = max(depth, inner.depth)
            aliases += inner.aliases
            fields += inner.fields
    return caps.clamp(depth, aliases, fields)


def measure_operations(
    document: DocumentNode, caps: Caps
) -> list[tuple[OperationDefinitionNode, Measure]]:
    """Each operation's measure; the work is linear in the size of the document."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    done: dict[str, Measure] = {}
    for name in _dependency_order(fragments):
        done[name] = _measure(fragments[name].selection_set, done, caps)
    return [
        (d, _measure(d.selection_set, done, caps))
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


def operation_limits(*, max_depth: int, max_aliases: int, max_fields: int) -> type[ValidationRule]:
    """A validation rule refusing operations deeper than `max_depth`, with more than
    `max_aliases` aliases or more than `max_fields` fields once fragments are expanded."""
    caps = Caps(aliases=max_aliases + 1, fields=max_fields + 1)

    class OperationLimits(ValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
            for operation, measure in measure_operations(node, caps):
                for message in _violations(measure, max_depth, max_aliases, max_fields):
                    self.report_error(GraphQLError(message, operation))
            return SKIP

    return OperationLimits


def _violations(measure: Measure, max_depth: int, max_aliases: int, max_fields: int) -> list[str]:
    found = []
    if measure.depth > max_depth:
        found.append(f"Query depth {measure.depth} exceeds the limit of {max_depth}")
    if measure.aliases > max_aliases:
        found.append(f"Operation uses more than {max_aliases} aliases once fragments are expanded")
    if measure.fields > max_fields:
        found.append(f"Operation selects more than {max_fields} fields once fragments are expanded")
    return found


class BudgetedOverlappingFields(OverlappingFieldsCanBeMergedRule):
    """graphql-core's rule on a budget of `OVERLAP_BUDGET`; a document that exhausts it is
    refused with a message saying so, instead of aborting the whole validation."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.rule_context.remaining_complexity_budget = OVERLAP_BUDGET

    def enter_selection_set(self, *args: Any) -> Any:
        try:
            return super().enter_selection_set(*args)
        except ValidationAbortedError:
            self.report_error(
                GraphQLError(
                    "The operation is too complex to check that its fields can be merged; "
                    "use fewer fields with the same response name"
                )
            )
            return BREAK
