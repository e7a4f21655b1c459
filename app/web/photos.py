"""Photo pages of a device: upload and remove forms, and the bytes and thumbnails behind them.

The byte routes run the same service check as the API (`photos.photo_reference`): another team's
device, an unknown sha256, or one this device's history never referenced, are all a 404.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import db
from app.http.downloads import original_response, thumbnail_response
from app.services import photos
from app.services.errors import NotFound, ServiceError
from app.web.errors import shown
from app.web.forms import ConfirmForm, PhotoForm

bp = Blueprint("photos", __name__)


def _user():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _reference(device_id: str, sha: str) -> dict:
    try:
        _, reference = photos.photo_reference(_user(), device_id, sha, request.args.get("rev") or None)
    except NotFound:
        abort(404)
    return reference


@bp.get("/devices/<device_id>/photos/<sha>")
@login_required
def original(device_id: str, sha: str):  # type: ignore[no-untyped-def]
    try:
        return original_response(_reference(device_id, sha))
    except ServiceError as exc:  # bytes missing (404) or the object store unreachable (503)
        abort(503 if exc.status == 503 else 404)


@bp.get("/devices/<device_id>/photos/<sha>/thumbnail")
@login_required
def thumbnail(device_id: str, sha: str):  # type: ignore[no-untyped-def]
    try:
        return thumbnail_response(_reference(device_id, sha))
    except ServiceError as exc:  # bytes missing (404) or the object store unreachable (503)
        abort(503 if exc.status == 503 else 404)


def _back(device_id: str):  # type: ignore[no-untyped-def]
    return redirect(url_for("devices.show", device_id=device_id) + "#photos")


@bp.post("/devices/<device_id>/photos")
@login_required
def upload(device_id: str):  # type: ignore[no-untyped-def]
    form = PhotoForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back(device_id)
    upload_file = form.file.data
    try:
        result, changed = photos.upload_photo(
            _user(), device_id,
            {"caption": form.caption.data or "", "strip_location": "true" if form.strip_location.data else "false"},
            getattr(upload_file, "filename", None) if upload_file else None,
            upload_file.stream if upload_file and getattr(upload_file, "filename", "") else None,
        )
    except NotFound:
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        flash(gettext("Photo not added: %(message)s", message=shown(exc)), "error")
        return _back(device_id)
    name = result["photo"]["filename"]
    if not changed:
        flash(gettext("%(name)s is already one of this device's photos: nothing changed.", name=name), "success")
    elif result["location_removed"]:
        flash(gettext("Photo %(name)s added; its location data was removed.", name=name), "success")
    else:
        flash(gettext("Photo %(name)s added.", name=name), "success")
    return _back(device_id)


@bp.post("/devices/<device_id>/photos/<sha>/delete")
@login_required
def remove(device_id: str, sha: str):  # type: ignore[no-untyped-def]
    if not ConfirmForm().validate_on_submit():
        flash(gettext("The form expired; please try again."), "error")
        return _back(device_id)
    try:
        result = photos.remove_photo(_user(), device_id, sha)
    except NotFound:
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        flash(shown(exc), "error")
        return _back(device_id)
    flash(gettext("Photo %(name)s removed; older versions still show it.", name=result["photo"]["filename"]), "success")
    return _back(device_id)
