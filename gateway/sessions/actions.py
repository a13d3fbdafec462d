"""The vendor actions a session takes through the gateway, declared once: which adapter method
performs each, which capability it needs, and what the gateway refuses locally before calling
it. `SessionMutations.act` (gateway/sessions/mutations.py) is the one path they all take
(load, local refusals, vendor call, apply the vendor's answer with source API)."""

from __future__ import annotations

import enum

from adapters.base import ACTION_METHODS, Capability


class SessionAction(enum.StrEnum):
    CANCEL = "cancel"
    DECIDE = "decide"
    CONTINUE = "continue"
    RESUME = "resume"
    REPROCESS = "reprocess"
    ISSUE_LINK = "issue_link"
    #: The vendor's report of the session (a PDF): a read that changes nothing
    #: (gateway/sessions/reports.py, not `act`).
    REPORT = "report"


#: The capability each action needs in the session's current vendor status
#: (`ProviderAdapter.session_capabilities`); without it the gateway refuses the action.
CAPABILITY: dict[SessionAction, Capability] = {
    SessionAction.CANCEL: Capability.CANCEL,
    SessionAction.DECIDE: Capability.DECIDE,
    SessionAction.CONTINUE: Capability.CONTINUE,
    SessionAction.RESUME: Capability.RESUME,
    SessionAction.REPROCESS: Capability.REPROCESS,
    SessionAction.ISSUE_LINK: Capability.ISSUE_LINK,
    SessionAction.REPORT: Capability.REPORT,
}

#: The `ProviderAdapter` method each action calls with the vendor's session id (and the
#: action's own arguments, e.g. decide's decision and reason): the one its capability names
#: (`ACTION_METHODS`, adapters/base.py).
ADAPTER_METHOD: dict[SessionAction, str] = {
    action: ACTION_METHODS[capability] for action, capability in CAPABILITY.items()
}

#: `providerCode` of the gateway's own refusal of an action the session's status does not
#: allow: the refused transition is named, as a vendor refusing it would (docs/model.md).
STATUS_REFUSAL_CODE = "invalid_status_transition"

#: Actions a redacted session refuses, with why (docs/security.md, redaction).
REFUSED_WHEN_REDACTED: dict[SessionAction, str] = {
    SessionAction.ISSUE_LINK: "it gets no new link",
    SessionAction.REPORT: "its report would show what was erased",
}
