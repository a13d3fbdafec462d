"""UIP answers and events as normalized snapshots (docs/vendors/uip.md, Status vocabulary and
our mapping; Step results).

Each function takes what the adapter knows about the session (`Known`, verdicts.py) besides
the answer itself, because UIP says a step's verdict once: a `completed` read or event carries
none. PII: claims stay in a snapshot's restricted `raw`; steps, decisions and raw statuses
carry only states, indices, primitive names and codes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from adapters.base import (
    DecidedBy,
    Decision,
    SessionStatus,
    StepProgress,
    StepResult,
    StepState,
    StepType,
    TimelineEntry,
)
from adapters.uip import inferred
from adapters.uip.statuses import (
    AWAITING_DECISION,
    COMPLETED,
    CREATED,
    EXPIRED,
    FAILED,
    IN_PROGRESS,
    OUTCOMES,
    RESULTS_PENDING,
    STOPPED,
    VERDICT_STATUSES,
    join_failed,
    join_verdict,
    split_status,
)
from adapters.uip.verdicts import (
    UNMET_CODES,
    Known,
    completion_verdict,
    needs_result,
    verdict,
)
from adapters.uip.wire import PRIMITIVES, STEP_TYPES, UNAVAILABLE, SessionResource, VerifiedStep

#: Decision warnings summarising step results (codes only, never the values).
BLOCK_UNAVAILABLE = "identify_{block}_unavailable"
#: core-concepts/primitives identify blocks (+ the unmapped `full_name`); other names get a
#: generic warning.
KNOWN_BLOCKS: frozenset[str] = frozenset(
    {"first_name", "last_name", "dob", "country", "document_number", "portrait", "full_name"}
)
ANY_BLOCK_UNAVAILABLE = "identify_block_unavailable"

Reason = Callable[[Any], str | None]


def result_fields(result: VerifiedStep) -> dict[str, Any]:
    return result.model_dump()


# -- raw status ------------------------------------------------------------------------------
def raw_status_of(
    session: SessionResource, raw: dict[str, Any], known: Known, reason: Reason
) -> str:
    """The raw status a read (or a continue / stop answer) stands for, given what we know."""
    status = session.status
    if status == FAILED:
        given = next((raw.get(k) for k in inferred.READ_REASON_KEYS if raw.get(k)), None)
        joined = join_failed(reason(given))
        return known.failure if joined == FAILED and known.failure else joined
    if status in VERDICT_STATUSES and known.unmet:
        return join_verdict(status, known.unmet)
    if status == COMPLETED and not (known.approved or _all_verdicts_known(session, known)):
        return join_verdict(COMPLETED, RESULTS_PENDING)
    return status


def _all_verdicts_known(session: SessionResource, known: Known) -> bool:
    """Whether every step whose verdict is a result field has told it (this answer's results,
    or what we were told before): only then is `completed` APPROVED."""
    types = step_types(session, known)
    if types is None or None in types:
        return False
    verdicts = results_by_stage(session, known)
    return all(not needs_result(t) or verdicts.get(i) is not None for i, t in enumerate(types))


# -- steps ------------------------------------------------------------------------------------
def step_types(session: SessionResource, known: Known) -> list[str | None] | None:
    """UIP's primitive of each step, where known (Version A's `primitives`, results,
    `current_primitive`, the steps we saw verify, the list we created or read before); None
    when the count is unknown."""
    primitives = session.primitives or []
    count = session.step_count if session.step_count is not None else len(primitives) or None
    count = count or len(known.types) or None
    if not count:
        return None
    types: list[str | None] = [None] * count
    if len(known.types) == count:
        types = list(known.types)
    for i, primitive in enumerate(primitives[:count]):
        types[i] = primitive if isinstance(primitive, str) and primitive else types[i]
    for stage, (primitive, _) in known.verdicts.items():
        if stage < count:
            types[stage] = types[stage] or primitive
    for result in session.results or ():
        i = result.index
        if i is not None and i < count:
            types[i] = result.primitive_name or types[i]
    current = session.current_step
    if session.current_primitive and current is not None and current < count:
        types[current] = session.current_primitive
    return types


def results_by_stage(session: SessionResource, known: Known) -> dict[int, StepResult | None]:
    """Each step's verdict: this answer's results first (Version B), else what we were told."""
    verdicts: dict[int, StepResult | None] = {
        stage: result for stage, (_, result) in known.verdicts.items()
    }
    for result in session.results or ():
        i = result.index
        if i is not None:
            found = verdict(result.primitive_name, result_fields(result))
            verdicts[i] = found if found is not None else verdicts.get(i)
    return verdicts


def _verified(session: SessionResource, count: int) -> set[int]:
    """Indices of the verified steps: Version B lists them (`results`); for Version A they
    follow from `status` and `current_step` (inferred.GATED_STEP_IS_CURRENT_STEP)."""
    status = split_status(session.status)[0]
    if status == COMPLETED:
        return set(range(count))
    if session.results is not None:
        return {i for r in session.results if (i := r.index) is not None and i < count}
    current = session.current_step
    if current is None or status == CREATED:
        return set()
    current = min(current, count)
    if status in (AWAITING_DECISION, STOPPED) and inferred.GATED_STEP_IS_CURRENT_STEP:
        return set(range(min(current + 1, count)))
    return set(range(current))


def verified_indices(session: SessionResource) -> list[int]:
    """The verified steps of a read, in order (as the step list counts them); without a
    step count or results, none can be named."""
    count = session.step_count
    if count is None:
        count = len(session.primitives or ())
    return sorted(_verified(session, count)) if count else []


def derive_steps(
    session: SessionResource, known: Known | None = None
) -> tuple[tuple[StepProgress, ...], int | None]:
    """(step progress, current step) from a read or an action answer.

    The current step is the first one not verified (the one the person is on, or will be on
    after a gate), the step count once all are verified. The list is given only when every
    step's type is known: a partial list would replace the gateway's. `gate` is known only for
    the step a session is paused (or was stopped) at. A verified step's `result` is its
    verdict: from the results, from what we were told, or from completion itself for the
    primitives whose completion is the verdict.
    """
    known = known or Known()
    types = step_types(session, known)
    if types is None:
        return (), None
    count = len(types)
    completed_at: dict[int, datetime] = {
        i: r.verified_at
        for r in session.results or ()
        if (i := r.index) is not None and i < count and r.verified_at is not None
    }
    verified = _verified(session, count)
    following = next((i for i in range(count) if i not in verified), count)
    if None in types:
        return (), following
    verdicts = results_by_stage(session, known)
    status = split_status(session.status)[0]
    gated = max(verified) if verified and status in (AWAITING_DECISION, STOPPED) else None
    steps = tuple(
        StepProgress(
            index=i,
            type=step_type(types[i] or ""),
            state=_state(i, status, verified, following),
            gate=i == gated,
            completed_at=completed_at.get(i),
            result=(verdicts.get(i) or completion_verdict(types[i])) if i in verified else None,
        )
        for i in range(count)
    )
    return steps, following


def step_type(primitive: str) -> str:
    """The normalized StepType value when known, else UIP's name."""
    known = STEP_TYPES.get(primitive)
    return known.value if known is not None else primitive


def _state(index: int, status: str, verified: set[int], following: int) -> StepState:
    if index in verified:
        return StepState.COMPLETED
    if status == IN_PROGRESS:
        return StepState.IN_PROGRESS if index == following else StepState.PENDING
    if status == FAILED:
        return StepState.FAILED if index == following else StepState.SKIPPED
    if status in (STOPPED, EXPIRED):
        return StepState.SKIPPED  # "remaining steps are skipped" / "emits no further steps"
    return StepState.PENDING


def steps_up_to(stage: int, known: Known) -> tuple[StepProgress, ...]:
    """A `step.completed` for `stage`: it and every earlier step are verified ("fires once
    per step, in order"), the later ones not yet. The event does not say how many steps there
    are, so the list is given only when we know them all (our create, an earlier read): a
    shorter list would replace the gateway's, which keeps a step only while it is reported.
    Without it the read the event asks for tells."""
    types = known.types
    if stage >= len(types):
        return ()
    steps = []
    for i, primitive in enumerate(types):
        seen = known.verdicts.get(i)
        result = seen[1] if seen is not None else completion_verdict(primitive)
        steps.append(
            StepProgress(
                index=i,
                type=step_type(primitive),
                state=StepState.COMPLETED if i <= stage else StepState.PENDING,
                result=result if i <= stage else None,
            )
        )
    return tuple(steps)


def timeline(session: SessionResource) -> tuple[TimelineEntry, ...]:
    """The only per-state time documented on reads is `created_at` (Version A)."""
    if session.created_at is None or session.status == CREATED:
        return ()
    return (TimelineEntry(SessionStatus.CREATED, CREATED, session.created_at),)


# -- decisions ---------------------------------------------------------------------------------
def summary(results: Sequence[VerifiedStep]) -> tuple[str, ...]:
    """Non-PII codes about step results: identity blocks that came back "unavailable" (the
    names of the blocks, never their values)."""
    codes: list[str] = []
    identify = PRIMITIVES[StepType.IDENTIFY]
    for result in results:
        if result.primitive_name != identify or not isinstance(result.claims, dict):
            continue
        for block, value in result.claims.items():
            if value != UNAVAILABLE:
                continue
            known = block in KNOWN_BLOCKS
            codes.append(BLOCK_UNAVAILABLE.format(block=block) if known else ANY_BLOCK_UNAVAILABLE)
    return tuple(dict.fromkeys(codes))


def decision(
    status: SessionStatus | None,
    raw_status: str,
    results: Sequence[VerifiedStep],
    decided_at: datetime | None = None,
) -> Decision | None:
    """APPROVED for a completed session whose steps were all met; DECLINED for an unmet step
    (its code) or a verification failure (its reason as a code when code-like); no decision
    for the other statuses."""
    outcome = OUTCOMES.get(status) if status is not None else None
    if outcome is None:
        return None
    reasons: tuple[str, ...] = ()
    if status is SessionStatus.DECLINED:
        base, qualifier = split_status(raw_status)
        text = (qualifier or "").strip()
        if base != FAILED and text in UNMET_CODES:
            reasons = (text,)
        else:
            code = text if inferred.REASON_CODE.fullmatch(text) else None
            reasons = (code or inferred.VERIFICATION_FAILED_CODE,)
    return Decision(
        outcome=outcome,
        decided_by=DecidedBy.PROVIDER,
        reason_codes=reasons,
        warnings=summary(results),
        decided_at=decided_at,
    )
