"""One file per schema revision, applied in order on SQLite and PostgreSQL alike."""
