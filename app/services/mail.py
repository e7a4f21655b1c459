"""Outgoing mail: SMTP when MAIL_URL is set, otherwise an outbox table (dev mode and tests)."""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from flask import current_app
from flask_babel import force_locale

from app.extensions import db
from app.i18n import DEFAULT, LANGUAGES
from app.models import OutboxMail, User


@contextmanager
def in_language_of(user: User) -> Iterator[None]:
    """Write a mail to `user` inside this block: its gettext strings come out in the language saved
    with the account, not the one of the request that happens to send it (an alert is caused by
    someone else's sign-in) nor English by default (most mails leave from a background job)."""
    with force_locale(user.locale if user.locale in LANGUAGES else DEFAULT):
        yield


def send_mail(to: str, subject: str, body: str) -> None:
    config = current_app.config["INFRATRACE"]
    if not config.mail_url:
        db.session.add(OutboxMail(to=to, subject=subject, body=body))
        return
    url = urlparse(config.mail_url)
    message = EmailMessage()
    message["From"] = config.mail_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    smtp_class = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    with smtp_class(url.hostname or "localhost", url.port or (465 if url.scheme == "smtps" else 25)) as smtp:
        if url.scheme == "smtp+starttls":
            smtp.starttls()
        if url.username:
            smtp.login(unquote(url.username), unquote(url.password or ""))
        smtp.send_message(message)
