"""The normalized enums, exposed to GraphQL under their own names."""

from __future__ import annotations

import enum

import strawberry

from adapters import base, results
from gateway.bus import events

SessionStatus = strawberry.enum(
    base.SessionStatus,
    description="Lifecycle and outcome in one enum. Clients must treat an unknown value as "
    "'not final' and show providerStatus.",
)
Environment = strawberry.enum(base.Environment)
Outcome = strawberry.enum(base.Outcome)
DecidedBy = strawberry.enum(base.DecidedBy)
DecisionAction = strawberry.enum(base.DecisionAction)
Capability = strawberry.enum(base.Capability)
DocumentType = strawberry.enum(base.DocumentType)
ErrorCode = strawberry.enum(base.ErrorCode)
StepType = strawberry.enum(base.StepType)
StepState = strawberry.enum(base.StepState)
StepResult = strawberry.enum(
    base.StepResult,
    description="A step's verdict: a COMPLETED step can still be NOT_SATISFIED (e.g. an age "
    "check the person did not meet).",
)
InputSupport = strawberry.enum(
    base.InputSupport,
    description="What a vendor does with a createSession input field: SENT as it is, MAPPED "
    "into its own terms (see the note), IGNORED (accepted, reported as an INPUT_IGNORED "
    "warning) or REFUSED (BAD_USER_INPUT).",
)


@strawberry.enum
class WarningCode(enum.Enum):
    INPUT_IGNORED = "INPUT_IGNORED"
    #: After redactSession: personal data the vendor keeps (the message names it).
    VENDOR_DATA_RETAINED = "VENDOR_DATA_RETAINED"


StatusSource = strawberry.enum(events.StatusSource)
CheckKind = strawberry.enum(results.CheckKind)
CheckOutcome = strawberry.enum(
    results.CheckOutcome,
    description="PASSED / FAILED: the vendor's verdict on the check; REVIEW: a person has to "
    "look (also what an outcome value the gateway does not know becomes); NOT_RUN: part of "
    "the flow, not run.",
)
FieldMatchResult = strawberry.enum(results.FieldMatchResult)
