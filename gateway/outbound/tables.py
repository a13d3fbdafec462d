"""The outbound tables as SQLAlchemy Core tables: the worker's hot paths (fan-out, claim,
record) are set-based statements, not ORM objects."""

from __future__ import annotations

from sqlalchemy import Table

from gateway.store.models import (
    WebhookAttemptRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
    WebhookMessageRow,
)

endpoints: Table = WebhookEndpointRow.__table__  # type: ignore[attr-defined]
messages: Table = WebhookMessageRow.__table__  # type: ignore[attr-defined]
deliveries: Table = WebhookDeliveryRow.__table__  # type: ignore[attr-defined]
attempts: Table = WebhookAttemptRow.__table__  # type: ignore[attr-defined]
