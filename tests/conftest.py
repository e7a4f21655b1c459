"""Test session: a real database made by the Alembic migrations, emptied after every test.

DATABASE_URL / REDIS_URL from the environment select PostgreSQL and Redis (the second CI pass);
otherwise SQLite in a temporary folder and in-memory rate limits (the embedded defaults).
"""

from __future__ import annotations

import os
import shutil

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.config import Config
from app.extensions import db, limiter
from app.migrate import upgrade
from app.models import Base
from tests.client_support import PASSWORD, get_csrf


def _per_worker(database_url: str, redis_url: str | None) -> tuple[str, str | None]:
    """Under pytest-xdist each worker gets its own PostgreSQL database and Redis db number."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return database_url, redis_url
    number = int(worker.removeprefix("gw"))
    if database_url.startswith("postgresql"):
        base, _, name = database_url.rpartition("/")
        worker_db = f"{name}_{worker}"
        engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": worker_db})
            if exists.first() is None:
                connection.execute(text(f'CREATE DATABASE "{worker_db}"'))
        engine.dispose()
        database_url = f"{base}/{worker_db}"
    if redis_url:
        base, _, db_number = redis_url.rpartition("/")
        redis_url = f"{base}/{(int(db_number or 0) + 10 + number) % 16}"
    return database_url, redis_url


def _reset_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    data_dir = tmp_path_factory.mktemp("data")
    database_url, redis_url = _per_worker(
        os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'test.db'}", os.environ.get("REDIS_URL") or None
    )
    if database_url.startswith("postgresql"):
        _reset_postgres(database_url)
    upgrade(database_url)
    if redis_url:
        import redis

        redis.Redis.from_url(redis_url).flushdb()
    return Config(
        data_dir=data_dir,
        database_url=database_url,
        secret_key="test-secret-key",
        redis_url=redis_url,
        public_url="http://localhost",
        bcrypt_rounds=4,
        login_limit_per_ip="1000 per minute",
        login_limit_per_account="5 per 15 minutes",
        # Out of the way of tests that sign in or mail many times; tests/test_rate_limits.py lowers them.
        sign_in_rate_limit="1000 per minute",
        mail_rate_limit="1000 per minute",
        testing=True,
    )


@pytest.fixture(scope="session")
def app(config: Config):
    return create_app(config)


@pytest.fixture(autouse=True)
def _clean_state(request: pytest.FixtureRequest):
    """Every test starts from empty tables, empty repos and fresh rate limits."""
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
        limiter.reset()
        from app.services import auth_limits

        auth_limits.clear_all()
        db.session.commit()
    repos = app.config["INFRATRACE"].repos_dir
    if repos.exists():
        shutil.rmtree(repos)
        repos.mkdir()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def make_user(app):
    """Creates a user through the service layer (as sign-up does) and returns its id and username.

    The address counts as verified (the user followed the mailed link) unless verified=False.
    """
    from app.models import utcnow
    from app.services import accounts

    def _make(username: str = "alice", email: str | None = None, password: str = PASSWORD, verified: bool = True):
        with app.app_context():
            user = accounts.create_user(
                accounts.SignupForm(email=email or f"{username}@example.com", username=username,
                                    password=password, age_confirmed=True)
            )
            if verified:
                user.email_verified_at = utcnow()
            db.session.commit()
            return user.id, user.username

    return _make


@pytest.fixture
def login(client):
    def _login(login_name: str = "alice", password: str = PASSWORD, c=None, next_url: str | None = None):
        c = c or client
        token = get_csrf(c, "/login")
        url = "/login" + (f"?next={next_url}" if next_url else "")
        return c.post(url, data={"login": login_name, "password": password, "csrf_token": token})

    return _login


@pytest.fixture
def token_for(app):
    """Mints a personal access token for a user id; returns the secret."""
    from app.models import User
    from app.services import tokens

    def _token(user_id: str, scopes: tuple[str, ...] = ("read", "write")) -> str:
        with app.app_context():
            new = tokens.create_token(db.session.get(User, user_id), "test", list(scopes))
            db.session.commit()
            return new.secret

    return _token


# Fixtures of the job, mirror and restore tests (env over local + S3, moto servers).
from tests.jobs_support import env  # noqa: E402, F401
from tests.objectstore_support import moto_server, restartable_moto  # noqa: E402, F401
