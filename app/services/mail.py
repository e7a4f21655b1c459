"""Outgoing mail: SMTP when MAIL_URL is set, otherwise an outbox table (dev mode and tests)."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from urllib.parse import unquote, urlparse

from flask import current_app

from app.extensions import db
from app.models import OutboxMail


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
