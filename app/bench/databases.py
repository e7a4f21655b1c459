"""The one throwaway database of the benchmarks (the fleet-pages and search benches build their data in it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def bench_database(tmp: Path, server_url: str | None, sqlite_name: str = "bench.db") -> Iterator[str]:
    """Yields the SQLAlchemy URL of an empty database for one benchmark run.

    With a PostgreSQL `server_url`, a database of its own is created on that server and dropped at the end
    (its open connections with it), so a benchmark never writes into, or empties, the database it was
    pointed at. Otherwise an SQLite file `sqlite_name` in `tmp`, which goes away with that folder."""
    if not (server_url and server_url.startswith("postgresql")):
        yield f"sqlite:///{tmp / sqlite_name}"
        return
    from sqlalchemy import create_engine, text

    name = f"infratrace_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield f"{server_url.rpartition('/')[0]}/{name}"
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
