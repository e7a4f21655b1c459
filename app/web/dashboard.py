"""The landing page and the dashboard of the user's teams."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

bp = Blueprint("dashboard", __name__)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    if not current_user.is_authenticated:
        return render_template("landing.html")
    return render_template("dashboard.html")
