"""Alembic's environment for yhdyspinta. The service passes its own connection in
(``config.attributes["connection"]``, see ``scheduler.outbox.migrate``); the ``alembic``
command run in the project folder uses the installation's ``[database] url`` (or
``-x url=...``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlalchemy.pool import NullPool

from scheduler.outbox.tables import metadata


def _url() -> str:
    given = context.get_x_argument(as_dictionary=True).get("url")
    if given:
        return str(given)
    from scheduler.settings import config_path, load_settings

    return load_settings(config_path(None)).database.url


def _run(connection: Connection) -> None:
    # render_as_batch: SQLite alters a table by copying it (Alembic's batch mode).
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url(), poolclass=NullPool)
    with engine.begin() as conn:
        _run(conn)


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    _online()
