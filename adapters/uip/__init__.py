"""UIP (uip.digital): the v2 session API with steps, gates and signed step webhooks."""
