"""The schema comes only from Alembic; the models must describe exactly what the migrations made."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from app.migrate import include_name
from app.models import Base


def test_models_and_migrations_agree(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_migrations_are_at_head(app):
    from alembic.script import ScriptDirectory

    from app.migrate import alembic_config

    config = app.config["INFRATRACE"]
    heads = ScriptDirectory.from_config(alembic_config(config.database_url)).get_heads()
    assert len(heads) == 1, f"migration history has branched: {heads}"
    with app.app_context(), db.engine.connect() as connection:
        assert MigrationContext.configure(connection).get_current_revision() == heads[0]
