"""GraphQL API (strawberry on FastAPI). Knows the normalized model only."""
