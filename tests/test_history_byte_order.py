"""History path filters compare paths byte by byte, whatever the database's collation (issue 9,
finding 7): a directory filter is a range, exact only in byte order."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from app.extensions import db
from tests.device_support import world_fixture  # noqa: F401  (fixture)

# One commit per file; a filter on configs/core must find only the first.
FILES = ["core/a", "CORE/b", "córe/c", "core-x", "core.txt", "corea/d"]


def _messages(client, world, device_id: str, path: str) -> list[str]:
    response = client.get(f"/api/v1/devices/{device_id}/versions", query_string={"path": path},
                          headers=world.headers["viewer"])
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["message"] for item in response.get_json()["items"]]


def _check_filters(client, world, device_id: str) -> None:
    assert _messages(client, world, device_id, "configs/core") == ["add core/a"]
    assert _messages(client, world, device_id, "configs/CORE") == ["add CORE/b"]
    assert _messages(client, world, device_id, "configs/córe") == ["add córe/c"]
    assert _messages(client, world, device_id, "configs/core-x") == ["add core-x"]
    assert _messages(client, world, device_id, "configs") == [f"add {name}" for name in reversed(FILES)]


def _write_files(world) -> str:
    device = world.create_device("sw1")
    for name in FILES:
        world.write(device["id"], message=f"add {name}", configs={name: f"{name}\n"})
    return device["id"]


def test_directory_filters_are_byte_exact(world, client):
    _check_filters(client, world, _write_files(world))


@pytest.fixture
def linguistic_paths(app):
    """On PostgreSQL: the path column in a linguistic (ICU) collation, as a database created with a
    language locale would give it; the filter must not depend on it. Restored afterwards."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            yield False
            return
        before = _path_collation() or "default"
        db.session.execute(text('ALTER TABLE commit_paths ALTER COLUMN path TYPE varchar(300) COLLATE "und-x-icu"'))
        db.session.commit()
    try:
        yield True
    finally:
        with app.app_context():
            db.session.execute(text(f'ALTER TABLE commit_paths ALTER COLUMN path TYPE varchar(300) COLLATE "{before}"'))
            db.session.commit()


def _path_collation() -> str | None:
    return db.session.execute(text(
        "SELECT collation_name FROM information_schema.columns "
        "WHERE table_name = 'commit_paths' AND column_name = 'path'"
    )).scalar()


def test_directory_filters_ignore_a_linguistic_database_collation(world, client, linguistic_paths):
    """Under a linguistic collation `configs/CORE/b` and `configs/córe/c` sort between
    `configs/core/` and `configs/core0`: the old range query listed them under configs/core."""
    _check_filters(client, world, _write_files(world))


def test_the_path_column_is_in_byte_order_on_postgresql(app):
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            # SQLite's default collation (BINARY) is byte order: nothing to declare.
            assert db.session.execute(text("SELECT 'configs/CORE/b' < 'configs/core/'")).scalar() == 1
            return
        assert _path_collation() == "C"
