"""The JSON API under /api/v1: thin handlers over the service layer, one error shape."""

from flask import Blueprint

bp = Blueprint("api", __name__, url_prefix="/api/v1")

from app.api import (  # noqa: E402,F401  (registers routes)
    accounts,
    audit,
    auth,
    compliance,
    devices,
    errors,
    networks,
    openapi,
    photos,
    privacy,
    projects,
    search,
    tasks,
    teams,
    versions,
    webhooks,
)
