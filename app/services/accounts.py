"""Sign-up, authentication, profile and password changes, and the security log."""

from __future__ import annotations

import re
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.models import SecurityEvent, User, utcnow
from app.services.errors import ValidationError
from app.services.passwords import hash_password, password_problem, verify_password
from app.services.validation import check_name

USERNAME_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,37}[A-Za-z0-9])?$")
RESERVED_USERNAMES = {"admin", "api", "git", "login", "logout", "signup", "static", "settings", "root"}


@dataclass
class SignupForm:
    email: str
    username: str
    password: str
    age_confirmed: bool
    # The language the sign-up page was shown in: the account's mails are written in it.
    locale: str | None = None


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError("Enter a valid email address (%(reason)s).", field="email",
                              params={"reason": str(exc)}) from None


def signup_problems(form: SignupForm) -> dict[str, str]:
    """Every problem with a sign-up, by field, so a form can show them all at once."""
    problems: dict[str, str] = {}
    try:
        email = normalise_email(form.email)
        if db.session.scalar(select(User.id).where(User.email_key == email.lower())):
            problems["email"] = "An account with this email already exists."
    except ValidationError as exc:
        problems["email"] = exc.message
    username = form.username.strip()
    if not USERNAME_RE.match(username):
        problems["username"] = (
            "Username: 1-39 letters, digits, '.', '_' or '-', starting and ending with a letter or digit."
        )
    elif username.lower() in RESERVED_USERNAMES:
        problems["username"] = "This username is reserved."
    elif db.session.scalar(select(User.id).where(User.username_key == username.lower())):
        problems["username"] = "This username is taken."
    problem = password_problem(form.password)
    if problem:
        problems["password"] = problem
    if not form.age_confirmed:
        problems["age_confirmed"] = "You must confirm that you are 16 or older to use InfraTrace."
    return problems


def create_user(form: SignupForm, ip: str | None = None, user_agent: str = "") -> User:
    """A new account; it records which privacy-policy version was accepted. Email is unverified."""
    from app.services.policy import current_version

    problems = signup_problems(form)
    if problems:
        field, message = next(iter(problems.items()))
        raise ValidationError(message, field=field)
    email = normalise_email(form.email)
    user = User(
        email=email,
        email_key=email.lower(),
        username=form.username.strip(),
        username_key=form.username.strip().lower(),
        password_hash=hash_password(form.password, _rounds()),
        age_confirmed_at=utcnow(),
        policy_version_accepted=current_version().version,
    )
    set_locale(user, form.locale)
    db.session.add(user)
    db.session.flush()
    record_event(user, "signup", ip=ip, user_agent=user_agent)
    return user


def set_locale(user: User, locale: str | None) -> None:
    """Save the language the user's mails are written in; anything but an offered language is ignored."""
    from app.i18n import LANGUAGES

    if locale in LANGUAGES:
        user.locale = locale


def find_user_by_login(login: str) -> User | None:
    key = login.strip().lower()
    if not key:
        return None
    column = User.email_key if "@" in key else User.username_key
    return db.session.scalar(select(User).where(column == key, User.deleted_at.is_(None)))


def authenticate(login: str, password: str, ip: str | None = None, user_agent: str = "") -> User | None:
    """The user for these credentials, or None. Unknown users cost a full bcrypt check too.

    Raises RateLimited (before checking anything) when this caller's failure budget is spent:
    per IP and per (IP, account), so failures elsewhere never lock the owner out. A success costs
    nothing; a failure is counted and committed at once.
    """
    from app.services import auth_limits, security

    auth_limits.check(ip, login)
    user = find_user_by_login(login)
    ok = verify_password(password, user.password_hash if user else None, _rounds())
    if user and ok:
        security.after_sign_in(user, ip, user_agent)
        record_event(user, "login", ip=ip, user_agent=user_agent)
        return user
    record_event(user, "login_failed", ip=ip, user_agent=user_agent,
                 detail="" if user else f"unknown login {login[:60]!r}")
    if user is not None:
        security.after_failure(user, ip)
    auth_limits.record_failure(ip, login)
    return None


def end_all_sessions(user: User, kind: str, ip: str | None = None, user_agent: str = "") -> None:
    """Void every session and remember cookie of the user (they carry the session version)."""
    user.session_version += 1
    record_event(user, kind, ip=ip, user_agent=user_agent)


def confirm_password(user: User, password: str, ip: str | None = None, user_agent: str = "") -> bool:
    """Re-authentication of a signed-in user, under the same failure limits as the log-in form."""
    from app.services import auth_limits

    auth_limits.check(ip, user.username_key)
    if verify_password(password, user.password_hash, _rounds()):
        record_event(user, "reauthenticated", ip=ip, user_agent=user_agent)
        return True
    record_event(user, "login_failed", ip=ip, user_agent=user_agent, detail="re-authentication")
    auth_limits.record_failure(ip, user.username_key)
    return False


def change_password(user: User, current: str, new: str, ip: str | None = None) -> None:
    if not verify_password(current, user.password_hash, _rounds()):
        raise ValidationError("Your current password is not correct.", field="current_password")
    problem = password_problem(new)
    if problem:
        raise ValidationError(problem, field="new_password")
    user.password_hash = hash_password(new, _rounds())
    user.session_version += 1
    record_event(user, "password_changed", ip=ip)


PROFILE_LIMITS = {"display_name": 100, "company": 100, "job_title": 100}


def email_change_requested(user: User, changes: dict[str, str]) -> bool:
    return "email" in changes and changes["email"].strip().lower() != user.email_key


def update_profile(user: User, changes: dict[str, str], ip: str | None = None) -> None:
    """The right to correction: email, username, display name, company and role, at any time.

    A new email is unverified until the link mailed to it is followed; the old address is told.
    """
    if email_change_requested(user, changes):
        from app.services.credentials import email_changed

        email = normalise_email(changes["email"])
        taken = db.session.scalar(select(User.id).where(User.email_key == email.lower(), User.id != user.id))
        if taken:
            raise ValidationError("An account with this email already exists.", field="email")
        old_email = user.email
        user.email, user.email_key = email, email.lower()
        email_changed(user, old_email, current_app.config["INFRATRACE"].public_url)
        record_event(user, "email_changed", ip=ip)
    if "username" in changes and changes["username"].strip() != user.username:
        username = changes["username"].strip()
        if not USERNAME_RE.match(username) or username.lower() in RESERVED_USERNAMES:
            raise ValidationError("This username is not allowed.", field="username")
        taken = db.session.scalar(
            select(User.id).where(User.username_key == username.lower(), User.id != user.id)
        )
        if taken:
            raise ValidationError("This username is taken.", field="username")
        user.username, user.username_key = username, username.lower()
    for field, limit in PROFILE_LIMITS.items():
        if field in changes:
            setattr(user, field, check_name(changes[field], field, max_length=limit, required=False))
    record_event(user, "profile_updated", ip=ip)


def load_session_user(session_id: str) -> User | None:
    """Flask-Login's loader: the id carries the session version, so old sessions stop matching."""
    user_id, _, version = session_id.partition(":")
    user = db.session.get(User, user_id)
    if user is None or not user.is_active or str(user.session_version) != version:
        return None
    return user


def record_event(
    user: User | None, kind: str, ip: str | None = None, detail: str = "", user_agent: str = ""
) -> None:
    db.session.add(SecurityEvent(user_id=user.id if user else None, kind=kind, ip=ip, detail=detail,
                                 user_agent=(user_agent or "")[:200]))


def _rounds() -> int:
    return current_app.config["INFRATRACE"].bcrypt_rounds


def count_users() -> int:
    return db.session.scalar(select(func.count(User.id))) or 0


def git_identity(user: User) -> dict[str, object]:
    """The pseudonym every commit a user pushes must carry, and the exact lines that set it.

    Device history is pseudonymous: a push whose author or committer is anything else is refused.
    """
    name, email = user.author_name, user.author_email
    return {
        "git_identity": {"name": name, "email": email},
        "git_config": [f"git config user.name {name}", f"git config user.email {email}"],
    }
