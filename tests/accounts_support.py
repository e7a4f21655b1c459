"""Helpers of the account tests: the mail outbox and the links in it."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxMail

LINK = re.compile(r"http://localhost(/[^\s]+)")


def mails(app, to: str | None = None) -> list[OutboxMail]:
    with app.app_context():
        query = select(OutboxMail).order_by(OutboxMail.created_at)
        if to:
            query = query.where(OutboxMail.to == to)
        found = list(db.session.scalars(query))
        db.session.remove()
        return found


def link_in(mail: OutboxMail, prefix: str) -> str:
    for path in LINK.findall(mail.body):
        if path.startswith(prefix):
            return path
    raise AssertionError(f"no {prefix} link in {mail.body!r}")
