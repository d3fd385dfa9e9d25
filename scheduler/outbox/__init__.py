"""The outbox: its records (plain domain types and the enums of kind and state), the tables
that map them, the store (one unit of work per change) and its Alembic migrations."""
