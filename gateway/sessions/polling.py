"""When to read a session from its vendor next. Decided whenever a session changes, stored in
`sessions.next_poll_at`, so the reconciler's query is one indexed range scan and the schedule
survives restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from adapters.base import PollPolicy, ProviderAdapter, SessionStatus
from gateway.settings import Settings
from gateway.store.models import SessionRow
from gateway.vendors.providers import Providers


@dataclass(frozen=True)
class EffectivePolicy:
    interval_s: float
    max_interval_s: float
    requests_per_minute: float
    #: Sessions in webhook-covered states are still read when the vendor has been silent
    #: this long (a lost webhook must not leave a session stuck).
    stale_after_s: float


def effective_policy(settings: Settings, provider: str, base: PollPolicy) -> EffectivePolicy:
    def override(key: str, default: float) -> float:
        value = settings.vendor_value(provider, key)
        return float(value) if value else default

    return EffectivePolicy(
        interval_s=override("poll_interval_s", base.interval_s),
        max_interval_s=override("poll_max_interval_s", base.max_interval_s),
        requests_per_minute=override("poll_requests_per_minute", base.requests_per_minute),
        stale_after_s=settings.reconcile_stale_after_s,
    )


def effective_policies(settings: Settings, providers: Providers) -> dict[str, EffectivePolicy]:
    """Every configured vendor's policy, as the reconciler and imports use it."""
    return {
        name: effective_policy(settings, name, entry.adapter.poll_policy)
        for name, entry in providers.entries.items()
        if entry.adapter is not None
    }


def schedule(
    row: SessionRow,
    adapter: ProviderAdapter,
    policy: EffectivePolicy,
    now: datetime,
    *,
    progressed: bool,
) -> None:
    """Set `next_poll_at`: never for final sessions; soon for states only polling can follow,
    backing off exponentially while polls find nothing new; else after a silence threshold."""
    if SessionStatus(row.status).is_final:
        row.next_poll_at = None
        row.poll_interval_s = None
        return
    if adapter.needs_polling(row.provider_status):
        previous = row.poll_interval_s
        interval = (
            policy.interval_s
            if progressed or previous is None
            else min(previous * 2, policy.max_interval_s)
        )
        row.poll_interval_s = interval
        row.next_poll_at = now + timedelta(seconds=interval)
        return
    row.poll_interval_s = None
    row.next_poll_at = (row.last_contact_at or now) + timedelta(seconds=policy.stale_after_s)
