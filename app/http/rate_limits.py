"""Request-rate limits (Flask-Limiter) on the endpoints where every request costs real work or sends mail.

These are not the failed-sign-in budgets of app/services/auth_limits.py, which count only failures,
per IP and per (IP, account), and never refuse a correct token. These count every POST, per client IP:

- `sign_in_limit`: a password check (/login, /reauth, POST /api/v1/tokens with HTTP Basic) is a bcrypt
  hash, seconds of CPU per hundred; successful ones are capped too (SIGN_IN_RATE_LIMIT).
- `mail_limit`: sign-up, "forgot password" and "resend verification" each send a mail. One bucket per
  client IP shared by the three (MAIL_RATE_LIMIT), and "forgot password" also one bucket per address
  typed, so no one mails a stranger's inbox full from many addresses.

Counters live in Redis when REDIS_URL is set (shared by every process), otherwise in process memory
(each gunicorn worker counts its own).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from flask import current_app, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter


def _setting(name: str) -> Callable[[], str]:
    # Read at request time: the limit strings are part of each app's Config.
    return lambda: getattr(current_app.config["INFRATRACE"], name)


def _typed_address() -> str:
    # Hashed: the limiter's store never holds an address in clear.
    email = (request.form.get("email") or "").strip().lower()
    return "address:" + hashlib.sha256(email.encode("utf-8", "surrogateescape")).hexdigest()[:32]


def retry_after() -> int:
    """Seconds until the limit this request broke lets it through again (for the 429's Retry-After)."""
    current = limiter.current_limit
    if current is None:
        return 60
    return max(1, int(current.reset_at - time.time()))


sign_in_limit = limiter.shared_limit(_setting("sign_in_rate_limit"), scope="sign-in", methods=["POST"],
                                     key_func=get_remote_address)
mail_limit = limiter.shared_limit(_setting("mail_rate_limit"), scope="mail", methods=["POST"],
                                  key_func=get_remote_address)
mail_per_address_limit = limiter.limit(_setting("mail_rate_limit"), scope="mail-address", methods=["POST"],
                                       key_func=_typed_address)
