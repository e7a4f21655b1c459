"""A photo of another team is 404 through every URL that serves photos, even when the very same
bytes (one content-addressed blob) are referenced by a device of the caller's own team."""

from __future__ import annotations

import hashlib

import pytest

from app.http.downloads import inline_disposition
from app.services.photos import clean_filename
from tests.client_support import bearer, csrf_from
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.photo_support import image_bytes, upload


def _byte_urls(device_id: str, sha: str, rev: str) -> list[str]:
    """Every URL that serves a photo's bytes or thumbnail, API and web, with and without ?rev=."""
    urls = []
    for base in (f"/api/v1/devices/{device_id}/photos/{sha}", f"/devices/{device_id}/photos/{sha}"):
        for tail in ("", "/thumbnail"):
            urls += [base + tail, f"{base}{tail}?rev={rev}", f"{base}{tail}?rev=HEAD"]
    return urls


@pytest.fixture
def shared(world, client, make_user, token_for):
    """Acme's device `mine` and Other's device `theirs`; both hold the same bytes, and Other's also
    holds a photo Acme has nowhere. Acme's second device `bare` has no photos."""
    same = image_bytes("JPEG", color=(10, 200, 10))
    only_theirs = image_bytes("PNG", color=(200, 10, 10))
    mine = world.create_device("mine")
    bare = world.create_device("bare")
    mine_commit = upload(client, mine["id"], world.headers["editor"], same, "shared.jpg").get_json()["commit"]
    theirs = client.post(f"/api/v1/projects/{world.other_project_id}/devices", json={"name": "theirs"},
                         headers=world.headers["outsider"]).get_json()
    assert upload(client, theirs["id"], world.headers["outsider"], same, "same.jpg").status_code == 201
    secret = upload(client, theirs["id"], world.headers["outsider"], only_theirs, "secret.png").get_json()
    return {
        "mine": mine["id"], "bare": bare["id"], "theirs": theirs["id"], "mine_commit": mine_commit,
        "theirs_commit": secret["commit"], "same": hashlib.sha256(same).hexdigest(),
        "secret": hashlib.sha256(only_theirs).hexdigest(),
    }


def _status(client, url: str, headers: dict | None = None) -> int:
    return client.get(url, headers=headers or {}).status_code


def test_every_photo_url_is_404_across_teams_by_token(world, client, shared):
    outsider = world.headers["outsider"]
    # Sanity: the owners see their own photos through every URL.
    for url in _byte_urls(shared["mine"], shared["same"], shared["mine_commit"]):
        if url.startswith("/api/"):
            assert _status(client, url, world.headers["viewer"]) == 200, url
    for url in _byte_urls(shared["theirs"], shared["secret"], shared["theirs_commit"]):
        if url.startswith("/api/"):
            assert _status(client, url, outsider) == 200, url

    # Another team's member, with a valid token, on Acme's device: 404 even for bytes they own too.
    for sha in (shared["same"], shared["secret"]):
        for url in _byte_urls(shared["mine"], sha, shared["mine_commit"]):
            if url.startswith("/api/"):
                assert _status(client, url, outsider) == 404, url
    assert _status(client, f"/api/v1/devices/{shared['mine']}/photos", outsider) == 404
    assert client.delete(f"/api/v1/devices/{shared['mine']}/photos/{shared['same']}",
                         headers=outsider).status_code == 404
    assert upload(client, shared["mine"], outsider, image_bytes("PNG"), "x.png").status_code == 404

    # Acme's members on their own devices, asking for the sha only Other's device references: 404,
    # although the blob is right there in the shared cache. Same for a device with no photos at all,
    # and for a revision that belongs to the other device.
    for role in ("viewer", "owner"):
        headers = world.headers[role]
        for device in ("mine", "bare"):
            for url in _byte_urls(shared[device], shared["secret"], shared["theirs_commit"]):
                if url.startswith("/api/"):
                    assert _status(client, url, headers) == 404, url
        assert _status(client, f"/api/v1/devices/{shared['bare']}/photos/{shared['same']}", headers) == 404
        assert _status(client, f"/api/v1/devices/{shared['theirs']}/photos/{shared['same']}", headers) == 404
        assert _status(client, f"/api/v1/devices/{shared['theirs']}/photos/{shared['secret']}/thumbnail",
                       headers) == 404
        assert _status(client, f"/api/v1/devices/{shared['theirs']}/photos", headers) == 404

    # Unknown, malformed and path-like shas are 404 too.
    for sha in ("0" * 64, shared["same"][:12], shared["same"].upper(), "..%2F..%2Fsecret_key", "x"):
        assert _status(client, f"/api/v1/devices/{shared['mine']}/photos/{sha}", world.headers["viewer"]) == 404
        assert _status(client, f"/api/v1/devices/{shared['mine']}/photos/{sha}/thumbnail",
                       world.headers["viewer"]) == 404


def test_every_photo_url_is_404_across_teams_in_the_browser(world, client, app, login, shared):
    assert login("outsider").status_code == 302
    for sha in (shared["same"], shared["secret"]):
        for url in _byte_urls(shared["mine"], sha, shared["mine_commit"]):
            if not url.startswith("/api/"):
                assert _status(client, url) == 404, url
    # The session also reaches the API: same answer.
    assert _status(client, f"/api/v1/devices/{shared['mine']}/photos/{shared['same']}") == 404
    assert _status(client, f"/devices/{shared['theirs']}/photos/{shared['secret']}") == 200, "their own"
    token = csrf_from(client.get(f"/devices/{shared['theirs']}").get_data(as_text=True))
    assert client.post(f"/devices/{shared['mine']}/photos/{shared['same']}/delete",
                       data={"csrf_token": token}).status_code == 404

    other = app.test_client()
    assert login("the-viewer", c=other).status_code == 302
    for device in ("mine", "bare"):
        for url in _byte_urls(shared[device], shared["secret"], shared["theirs_commit"]):
            if not url.startswith("/api/"):
                assert _status(other, url) == 404, url
    assert _status(other, f"/devices/{shared['mine']}/photos/{shared['same']}") == 200
    assert _status(other, f"/devices/{shared['mine']}/photos/{shared['same']}/thumbnail") == 200
    assert _status(other, f"/devices/{shared['theirs']}/photos/{shared['same']}") == 404

    anonymous = app.test_client()
    assert anonymous.get(f"/devices/{shared['mine']}/photos/{shared['same']}").status_code == 302, "to log-in"
    assert anonymous.get(f"/api/v1/devices/{shared['mine']}/photos/{shared['same']}").status_code == 401


def test_revoked_token_and_removed_member_lose_access(world, client, app, make_user, token_for, shared):
    url = f"/api/v1/devices/{shared['mine']}/photos/{shared['same']}"
    uid, name = make_user("leaver")
    assert client.post("/api/v1/teams/acme/members", json={"email": f"{name}@example.com", "role": "viewer"},
                       headers=world.headers["owner"]).status_code == 201
    headers = bearer(token_for(uid))
    assert client.get(url, headers=headers).status_code == 200
    assert client.delete(f"/api/v1/teams/acme/members/{name}", headers=world.headers["owner"]).status_code == 204
    assert client.get(url, headers=headers).status_code == 404
    assert client.get(url + "/thumbnail", headers=headers).status_code == 404


@pytest.mark.parametrize(("given", "expected"), [
    ("../../etc/passwd.jpg", "passwd.jpg"),
    ("C:\\Users\\me\\rack.png", "rack.png"),
    ('a"b\r\nc.jpg', "abc.jpg"),
    ("", "photo.jpg"),
    ("...", "photo.jpg"),
    ("x" * 300 + ".jpeg", "x" * 195 + ".jpeg"),  # 200 characters in all
])
def test_filenames_are_sanitised(given, expected):
    assert clean_filename(given, "image/jpeg") == expected


def test_disposition_cannot_be_broken_out_of():
    header = inline_disposition('evil"; filename=x.html\r\nSet-Cookie: a=b')
    assert "\r" not in header and "\n" not in header
    assert header.startswith('inline; filename="evil filename=x.htmlSet-Cookie: a=b"')


def test_odd_revisions_are_404_not_errors(world, client, shared):
    headers = world.headers["viewer"]
    for rev in ("nope", "../main", "main~99", "f" * 40, "a" * 300, "HEAD^{tree}", "refs/heads/main:photos.json"):
        for tail in ("", "/thumbnail"):
            url = f"/api/v1/devices/{shared['mine']}/photos/{shared['same']}{tail}"
            assert client.get(url, query_string={"rev": rev}, headers=headers).status_code in (404, 422), rev
        assert client.get(f"/api/v1/devices/{shared['mine']}/photos", query_string={"rev": rev},
                          headers=headers).status_code in (404, 422), rev
