"""Password hashing policy.

bcrypt reads at most 72 bytes, so longer passwords would silently share a hash with their prefix.
Policy: passwords are 10 to 72 bytes of UTF-8 (a 72-byte limit counted in bytes, so multibyte text
is measured as it will be hashed); longer ones are refused with a clear message, at set time and at
verify time alike.
"""

from __future__ import annotations

from functools import lru_cache

import bcrypt

MIN_CHARS = 10
MAX_BYTES = 72
DEFAULT_ROUNDS = 12


@lru_cache(maxsize=4)
def _dummy_hash(rounds: int) -> bytes:
    """A real hash at the same cost: checking an unknown user takes as long as a wrong password."""
    return bcrypt.hashpw(b"infratrace-timing-equaliser", bcrypt.gensalt(rounds))


def password_problem(password: str) -> str | None:
    if len(password) < MIN_CHARS:
        return f"Password must be at least {MIN_CHARS} characters."
    if len(password.encode("utf-8")) > MAX_BYTES:
        return f"Password must be at most {MAX_BYTES} bytes (accented letters and symbols count as 2-4)."
    return None


def hash_password(password: str, rounds: int = DEFAULT_ROUNDS) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str | None, rounds: int = DEFAULT_ROUNDS) -> bool:
    encoded = password.encode("utf-8")
    if password_hash is None or len(encoded) > MAX_BYTES:
        bcrypt.checkpw(encoded[:MAX_BYTES], _dummy_hash(rounds))
        return False
    return bcrypt.checkpw(encoded, password_hash.encode())
