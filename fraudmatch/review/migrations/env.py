"""Alembic environment: migrates the connection :func:`fraudmatch.review.schema.migrate`
hands over (``config.attributes["connection"]``), or the URL given to the ``alembic``
command line (``-x url=...``) for an operator who runs Alembic by hand."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from fraudmatch.review.schema import metadata

config = context.config


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    _run(given)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: alembic -x url=postgresql+psycopg://... upgrade head")
    with sa.create_engine(url).begin() as connection:
        _run(connection)
