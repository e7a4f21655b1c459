"""Alembic, driven from code: migrations are the only way the schema is made (tests included)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # ConfigParser interpolation would choke on '%' in passwords.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def include_name(name: str | None, type_: str, parent_names: dict[str, str | None]) -> bool:
    """Leaves the trigram search objects out of model/migration comparisons.

    They are made by raw SQL in the migration (an FTS5 table and its shadow tables on SQLite, a
    pg_trgm GIN index on PostgreSQL) because the models cannot describe them on both backends.
    """
    from app.models import FTS_OBJECTS

    return not (name and name.startswith(FTS_OBJECTS))
