"""Alembic migrations of the review database (run by :func:`fraudmatch.review.schema.migrate`)."""
