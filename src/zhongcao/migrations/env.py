"""Alembic environment: runs on the Database the caller passes in, so tests and schemas just work."""

from alembic import context

from zhongcao.migrations import metadata

config = context.config
db = config.attributes["database"]

with db.engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=db.is_sqlite,
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
