"""What a verified UIP step's result says about the person (docs/vendors/uip.md, Step results).

A step that completed is not necessarily a step that passed: `age_verify` completes with
`satisfied: false` when the person is younger than `min_age`. The table says, per primitive,
which result field carries the verdict (None: completing the step is the verdict) and the
decision reason code when that field says no.

UIP reports a verdict once (the `step.completed` webhook; Version B reads repeat it), and the
session's `completed` carries none, so the adapter remembers what it was told about a session
(`SessionMemory`): facts that never change once true, so a stale entry is never wrong, only
possibly incomplete. The store's copy comes back through `ProviderAdapter.restore`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from adapters.base import StepResult


@dataclass(frozen=True)
class VerdictRule:
    #: The result field holding the verdict (a boolean); None: completion is the verdict.
    field: str | None = None
    #: The decision reason code when the field is false.
    unmet_code: str | None = None


#: https://docs.uip.digital/api-reference/webhooks (step.completed fields) and
#: https://docs.uip.digital/core-concepts/primitives: only age_verify can complete unmet.
VERDICT_RULES: Mapping[str, VerdictRule] = MappingProxyType(
    {
        # "A requested block the credential doesn't carry comes back as "unavailable" rather
        # than failing the step": a verified identify step passed.
        "identify": VerdictRule(),
        # "satisfied: age_verify only — the threshold result".
        "age_verify": VerdictRule("satisfied", "age_not_satisfied"),
        # "signature / document_hash: sign/light_sign only": the device signed.
        "sign": VerdictRule(),
        "light_sign": VerdictRule(),
    }
)
#: Every reason code an unmet step can give.
UNMET_CODES: frozenset[str] = frozenset(
    rule.unmet_code for rule in VERDICT_RULES.values() if rule.unmet_code
)


def verdict(primitive: str | None, result: Mapping[str, Any]) -> StepResult | None:
    """The verdict of one verified step from its result fields; None when they do not say
    (an unknown primitive, the field missing or not a boolean)."""
    rule = VERDICT_RULES.get(primitive or "")
    if rule is None:
        return None
    if rule.field is None:
        return StepResult.SATISFIED
    value = result.get(rule.field)
    if value is True:
        return StepResult.SATISFIED
    if value is False:
        return StepResult.NOT_SATISFIED
    return None


def completion_verdict(primitive: str | None) -> StepResult | None:
    """What knowing only that a step verified tells (a Version A read): the verdict of the
    primitives whose completion is their verdict, None for the others."""
    rule = VERDICT_RULES.get(primitive or "")
    return StepResult.SATISFIED if rule is not None and rule.field is None else None


def needs_result(primitive: str | None) -> bool:
    """Whether the primitive's verdict is in a result field (so completion alone is not it)."""
    rule = VERDICT_RULES.get(primitive or "")
    return rule is None or rule.field is not None


def unmet_code(primitive: str | None) -> str | None:
    rule = VERDICT_RULES.get(primitive or "")
    return rule.unmet_code if rule is not None else None


@dataclass
class Known:
    """What the adapter was told about one session."""

    #: stage → (primitive, verdict) of the steps whose verdict we saw.
    verdicts: dict[int, tuple[str, StepResult]] = field(default_factory=dict)
    #: The reason code of a step that was not met, once one was.
    unmet: str | None = None
    #: Our joined `failed:<reason>` once a failure's reason was given.
    failure: str | None = None
    #: The session completed with every verdict met (we said APPROVED).
    approved: bool = False
    #: Each step's primitive, once the whole list was seen (our create, a read).
    types: tuple[str, ...] = ()


class SessionMemory:
    """Per-session facts, bounded (least recently used first out)."""

    def __init__(self, max_sessions: int) -> None:
        self._max = max_sessions
        self._known: OrderedDict[str, Known] = OrderedDict()

    def get(self, session_id: str) -> Known:
        known = self._known.get(session_id)
        if known is None:
            return Known()
        self._known.move_to_end(session_id)
        return known

    def _entry(self, session_id: str) -> Known:
        known = self._known.get(session_id)
        if known is None:
            known = self._known[session_id] = Known()
            while len(self._known) > self._max:
                self._known.popitem(last=False)
        self._known.move_to_end(session_id)
        return known

    def note_verdict(
        self, session_id: str, stage: int, primitive: str, result: StepResult | None
    ) -> None:
        if result is None:
            return
        known = self._entry(session_id)
        known.verdicts[stage] = (primitive, result)
        if result is StepResult.NOT_SATISFIED:
            known.unmet = known.unmet or unmet_code(primitive)

    def note_unmet(self, session_id: str, code: str) -> None:
        known = self._entry(session_id)
        known.unmet = known.unmet or code

    def note_failure(self, session_id: str, joined: str) -> None:
        self._entry(session_id).failure = joined

    def note_approved(self, session_id: str) -> None:
        self._entry(session_id).approved = True

    def note_types(self, session_id: str, types: tuple[str, ...]) -> None:
        if types:
            self._entry(session_id).types = types


def verdicts_missing(known: Known) -> bool:
    """Whether a step of the known list gives its verdict in a result field we have not seen
    (False when the list is unknown: then the documented event order is all we have)."""
    return any(
        needs_result(primitive) and stage not in known.verdicts
        for stage, primitive in enumerate(known.types)
    )
