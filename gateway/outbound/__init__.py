"""Outbound webhooks: every status change, signed to the Standard Webhooks spec, delivered
to the integrator's endpoints from a durable outbox (docs/webhooks.md)."""
