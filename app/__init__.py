"""The Flask application: config, SQL models, services, web pages, JSON API and git over HTTP."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from flask import Flask, g, request
from sqlalchemy import event

from app.config import Config
from app.extensions import csrf, db, limiter, login_manager
from app.http.requests import AppRequest

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    app = Flask(__name__, template_folder=str(ROOT / "templates"), static_folder="static")
    app.request_class = AppRequest
    app.config.update(
        INFRATRACE=config,
        SECRET_KEY=config.secret_key,
        SQLALCHEMY_DATABASE_URI=config.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(config.database_url),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.secure_cookies,
        MAX_CONTENT_LENGTH=config.max_request_bytes,
        WTF_CSRF_TIME_LIMIT=None,
        RATELIMIT_STORAGE_URI=config.redis_url or "memory://",
        # No X-RateLimit-* headers: Flask-Limiter would also rewrite the Retry-After of the failed-sign-in
        # 429s (app/services/auth_limits.py); its own 429s get Retry-After from app/http/rate_limits.py.
        RATELIMIT_HEADERS_ENABLED=False,
        RATELIMIT_KEY_PREFIX="infratrace",
        TESTING=config.testing,
    )
    config.repos_dir.mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    if config.database_url.startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to see this page."
    login_manager.session_protection = "basic"
    login_manager.refresh_view = "auth.reauth"
    login_manager.needs_refresh_message = "Please confirm your password to continue."
    if config.trusted_proxies:
        # Behind N proxies, the client address is the Nth entry from the right of X-Forwarded-For
        # (and the scheme from X-Forwarded-Proto); without this, every client shares the proxy's IP.
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies
        )

    from app.services.accounts import load_session_user

    login_manager.user_loader(load_session_user)

    @app.before_request
    def _request_id() -> None:
        g.request_id = request.headers.get("X-Request-Id", "")[:64] or uuid.uuid4().hex

    from app import i18n, observability

    observability.init_app(app)
    i18n.init_app(app)

    # The three faces are registered here, side by side: none of them imports another.
    from app import githttp
    from app.api import bp as api_bp
    from app.http.errors import register_app_handlers
    from app.web import register_web

    app.register_blueprint(api_bp)
    csrf.exempt(api_bp)  # the API checks CSRF itself for cookie-authenticated writes
    register_web(app)
    githttp.init_app(app)
    register_app_handlers(app)

    if not config.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _engine_options(url: str) -> dict[str, object]:
    if url.startswith("sqlite"):
        # Connections to a file are cheap; a threaded server (or the bench's 16 concurrent writers)
        # must not queue on the pool's default 15 while the writes themselves can run side by side.
        return {"connect_args": {"timeout": 30, "check_same_thread": False}, "pool_size": 10, "max_overflow": 40}
    return {"pool_pre_ping": True}


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL skips the fsync at each commit but never corrupts: a power cut can only
    # lose the last transactions. Device history is safe in git either way, and the commit index
    # is rebuilt from the repos by the next sync (the embedded default; PostgreSQL in production).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
