"""Configuration, read only from environment variables (see README, "Configuration")."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlparse

MIB = 1024 * 1024


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database_url: str
    secret_key: str
    redis_url: str | None = None
    port: int = 5000
    object_store_url: str | None = None
    mail_url: str | None = None
    mail_from: str = "InfraTrace <noreply@infratrace.invalid>"
    public_url: str = "http://127.0.0.1:5000"
    stripe_secret_key: str | None = None
    # One secret, or several comma-separated while the endpoint's secret is being rotated.
    stripe_webhook_secret: str | None = None
    stripe_api_base: str | None = None
    stripe_prices: Mapping[str, str] = field(default_factory=dict)
    login_limit_per_ip: str = "30 per minute"
    login_limit_per_account: str = "10 per 15 minutes"
    # Request-rate limits per client IP (app/http/rate_limits.py): every password check, and every
    # request that sends a mail (sign-up, forgot password, resend verification; also per address typed).
    sign_in_rate_limit: str = "60 per minute"
    mail_rate_limit: str = "10 per hour"
    max_config_bytes: int = 10 * MIB
    max_photo_bytes: int = 20 * MIB
    max_request_bytes: int = 32 * MIB
    max_push_bytes: int = 64 * MIB
    # Upper bound on one git process (clone, fetch or push) started for a request.
    git_timeout_seconds: int = 600
    bcrypt_rounds: int = 12
    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none, trust no
    # header). With the right count, rate limits and the security log see the real client address.
    trusted_proxies: int = 0
    # Usernames that may open /admin/security (recent anomalies across all accounts).
    site_admins: frozenset[str] = frozenset()
    # A session counts as fresh (sensitive actions allowed) this long after the password was typed.
    fresh_login_minutes: int = 60
    # /metrics: off unless METRICS_TOKEN is set (then Bearer-protected) or METRICS_PUBLIC=1.
    metrics_token: str | None = None
    metrics_public: bool = False
    # Webhooks may target loopback, private and link-local addresses (on-premises installs whose
    # receivers are on their own network); off by default, so a project admin cannot make the
    # server reach its internal services (app/services/webhook_targets.py).
    webhook_allow_private: bool = False
    testing: bool = False

    @property
    def repos_dir(self) -> Path:
        return self.data_dir / "repos"

    @property
    def secure_cookies(self) -> bool:
        return urlparse(self.public_url).scheme == "https"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Config:
        env = os.environ if env is None else env
        data_dir = Path(env.get("INFRATRACE_DATA") or "./instance").resolve()
        data_dir.mkdir(parents=True, exist_ok=True)
        port = int(env.get("PORT") or 5000)
        database_url = env.get("DATABASE_URL") or f"sqlite:///{data_dir / 'infratrace.db'}"
        # The paid plans of app/services/plans.py; a plan without a price is not for sale.
        prices = {plan: env[f"STRIPE_PRICE_{plan.upper()}"] for plan in ("pro", "team")
                  if env.get(f"STRIPE_PRICE_{plan.upper()}")}
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            secret_key=env.get("SECRET_KEY") or _stored_secret_key(data_dir),
            redis_url=env.get("REDIS_URL") or None,
            port=port,
            object_store_url=env.get("OBJECT_STORE_URL") or None,
            mail_url=env.get("MAIL_URL") or None,
            mail_from=env.get("MAIL_FROM") or cls.mail_from,
            public_url=(env.get("PUBLIC_URL") or f"http://127.0.0.1:{port}").rstrip("/"),
            stripe_secret_key=env.get("STRIPE_SECRET_KEY") or None,
            stripe_webhook_secret=env.get("STRIPE_WEBHOOK_SECRET") or None,
            stripe_api_base=env.get("STRIPE_API_BASE") or None,
            stripe_prices=prices,
            login_limit_per_ip=env.get("LOGIN_LIMIT_PER_IP") or cls.login_limit_per_ip,
            login_limit_per_account=env.get("LOGIN_LIMIT_PER_ACCOUNT") or cls.login_limit_per_account,
            sign_in_rate_limit=_rate_limit(env, "SIGN_IN_RATE_LIMIT", cls.sign_in_rate_limit),
            mail_rate_limit=_rate_limit(env, "MAIL_RATE_LIMIT", cls.mail_rate_limit),
            max_photo_bytes=int(env.get("MAX_PHOTO_BYTES") or cls.max_photo_bytes),
            trusted_proxies=_non_negative_int(env, "TRUSTED_PROXIES"),
            site_admins=frozenset(
                name.strip().lower() for name in (env.get("SITE_ADMINS") or "").split(",") if name.strip()
            ),
            fresh_login_minutes=int(env.get("FRESH_LOGIN_MINUTES") or cls.fresh_login_minutes),
            metrics_token=env.get("METRICS_TOKEN") or None,
            metrics_public=(env.get("METRICS_PUBLIC") or "").lower() in ("1", "true", "yes"),
            webhook_allow_private=(env.get("INFRATRACE_WEBHOOK_ALLOW_PRIVATE") or "").lower() in ("1", "true", "yes"),
        )

    def with_changes(self, **changes: object) -> Config:
        return replace(self, **changes)


def _rate_limit(env: Mapping[str, str], name: str, default: str) -> str:
    """A limit such as "10 per hour", refused at start-up rather than on the first request it guards."""
    from limits import parse

    raw = (env.get(name) or default).strip()
    try:
        parse(raw)
    except ValueError:
        raise ValueError(f"{name} must be a rate such as '10 per hour' or '60/minute', not {raw!r}.") from None
    return raw


def _non_negative_int(env: Mapping[str, str], name: str) -> int:
    raw = (env.get(name) or "0").strip()
    if not raw.isdigit():
        raise ValueError(f"{name} must be a whole number of proxy hops (0 or more), not {raw!r}.")
    return int(raw)


def _stored_secret_key(data_dir: Path) -> str:
    """Generate the key once and keep it, so sessions survive restarts without any setup."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key
