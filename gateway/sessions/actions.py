"""The vendor actions a session takes through the gateway, declared once: which adapter method
performs each and what the gateway refuses locally before calling it. `SessionService.act`
is the one path they all take (load, local refusal, vendor call through the breaker, apply
the vendor's answer with source API)."""

from __future__ import annotations

import enum


class SessionAction(enum.StrEnum):
    CANCEL = "cancel"
    DECIDE = "decide"
    CONTINUE = "continue"
    RESUME = "resume"
    REPROCESS = "reprocess"
    ISSUE_LINK = "issue_link"


#: The `ProviderAdapter` method each action calls with the vendor's session id (and the
#: action's own arguments, e.g. decide's decision and reason).
ADAPTER_METHOD: dict[SessionAction, str] = {
    SessionAction.CANCEL: "cancel_session",
    SessionAction.DECIDE: "decide_session",
    SessionAction.CONTINUE: "continue_session",
    SessionAction.RESUME: "resume_session",
    SessionAction.REPROCESS: "reprocess_session",
    SessionAction.ISSUE_LINK: "issue_link",
}

#: Actions a redacted session refuses, with why (docs/security.md, redaction).
REFUSED_WHEN_REDACTED: dict[SessionAction, str] = {
    SessionAction.ISSUE_LINK: "it gets no new link",
}
