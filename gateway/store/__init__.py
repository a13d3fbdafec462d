"""Persistence: SQLModel tables on SQLAlchemy's async engine (SQLite or PostgreSQL by URL)."""
