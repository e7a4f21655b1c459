"""HTML error pages and the translation of service errors for web views."""

from __future__ import annotations

from flask import render_template


def html_error(status: int, title: str, message: str):  # type: ignore[no-untyped-def]
    return render_template("error.html", status=status, title=title, message=message), status
