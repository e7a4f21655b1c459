"""Failed-authentication limits that protect accounts without letting anyone lock them out.

Only failures are counted, in two buckets: per client IP, and per (client IP, account). A caller
is refused (429 with Retry-After) when either of *their* buckets is full, so:

- failures from another address never block an account's owner (their pair is untouched);
- a successful sign-in costs nothing;
- personal access tokens are checked before the limit (see `token_refused_by_limit`): a token is a
  240-bit secret that no rate of guessing can find, so a correct token is always accepted and only
  wrong ones meet the 429, whoever else failed before.

Counters live where every server process sees them: Redis when REDIS_URL is set, otherwise an SQL
table (`auth_failure_counters`), never process memory. Windows are fixed (the limit's period).
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from limits import parse as parse_limit
from sqlalchemy import delete

from app.extensions import db
from app.models import AuthFailureCounter, utcnow
from app.services.errors import RateLimited

KEY_PREFIX = "infratrace:authfail:"
REFUSED_MESSAGE = "Too many failed sign-in attempts from your address; wait and try again."


@dataclass(frozen=True)
class Bucket:
    key: str
    amount: int
    seconds: int

    def window(self, now: float) -> tuple[str, float]:
        """The counter's key for the current fixed window, and when that window ends."""
        start = math.floor(now / self.seconds) * self.seconds
        return f"{KEY_PREFIX}{self.key}:{int(start)}", start + self.seconds


def _account_key(account: str) -> str:
    # Hashed: the table or Redis never holds an email address or a guessed login in clear.
    return hashlib.sha256(account.strip().lower().encode("utf-8", "surrogateescape")).hexdigest()[:32]


def buckets(ip: str | None, account: str | None) -> list[Bucket]:
    config = current_app.config["INFRATRACE"]
    per_ip = parse_limit(config.login_limit_per_ip)
    per_pair = parse_limit(config.login_limit_per_account)
    address = ip or "-"
    result = [Bucket(f"ip:{address}", per_ip.amount, per_ip.get_expiry())]
    if account and account.strip():
        result.append(Bucket(f"pair:{address}:{_account_key(account)}", per_pair.amount, per_pair.get_expiry()))
    return result


def _redis():  # type: ignore[no-untyped-def]
    url = current_app.config["INFRATRACE"].redis_url
    if not url:
        return None
    import redis

    extension = current_app.extensions.setdefault("infratrace_authfail_redis", {})
    client = extension.get(url)
    if client is None:
        client = extension[url] = redis.Redis.from_url(url)
    return client


def _count(key: str) -> int:
    client = _redis()
    if client is not None:
        value = client.get(key)
        return int(value or 0)
    row = db.session.get(AuthFailureCounter, key)
    if row is None or row.expires_at <= utcnow():
        return 0
    return row.count


def retry_after(ip: str | None, account: str | None) -> int | None:
    """Seconds until this caller may try again, or None when none of their buckets is full."""
    now = time.time()
    wait = None
    for bucket in buckets(ip, account):
        key, ends = bucket.window(now)
        if _count(key) >= bucket.amount:
            seconds = max(1, math.ceil(ends - now))
            wait = max(wait or 0, seconds)
    return wait


def check(ip: str | None, account: str | None) -> None:
    """Raise RateLimited (with retry_after) when this caller's failure budget is spent."""
    wait = retry_after(ip, account)
    if wait is not None:
        raise RateLimited(REFUSED_MESSAGE, extra={"retry_after": wait})


def record_failure(ip: str | None, account: str | None) -> None:
    """Count one failed authentication in both buckets.

    Commits the SQL session: the count (and the security event recorded with it) must persist
    even though the request then answers with an error, which rolls back whatever is pending.
    """
    now = time.time()
    client = _redis()
    for bucket in buckets(ip, account):
        key, ends = bucket.window(now)
        if client is not None:
            with client.pipeline() as pipe:
                pipe.incr(key)
                pipe.expireat(key, int(ends) + 1)
                pipe.execute()
        else:
            _sql_increment(key, datetime.fromtimestamp(ends, UTC))
    if client is None:
        # Dead windows are swept as we go (indexed), so the table stays small.
        db.session.execute(delete(AuthFailureCounter).where(AuthFailureCounter.expires_at < utcnow()))
    db.session.commit()


def _sql_increment(key: str, expires: datetime) -> None:
    table = AuthFailureCounter.__table__
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(key=key, count=1, expires_at=expires)
    db.session.execute(statement.on_conflict_do_update(index_elements=[table.c.key],
                                                       set_={"count": table.c.count + 1}))


def clear_all() -> None:
    """Forget every counter (the `infratrace` admin reset and the test suite's clean state)."""
    client = _redis()
    if client is not None:
        for key in client.scan_iter(match=KEY_PREFIX + "*"):
            client.delete(key)
    db.session.execute(delete(AuthFailureCounter))


def failures_in_window(ip: str | None, account: str | None) -> int:
    """How many failures the (IP, account) pair has in its current window (alerts use this)."""
    bucket = buckets(ip, account)[-1]
    return _count(bucket.window(time.time())[0])

