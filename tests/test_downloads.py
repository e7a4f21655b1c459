"""Raw downloads carry an RFC 6266 / RFC 5987 Content-Disposition for any config name (issue 9,
finding 7): the header is ASCII, the UTF-8 name travels in `filename*`, and the bytes arrive."""

from __future__ import annotations

import http.client
from urllib.parse import quote, unquote

import pytest

from app.extensions import db
from app.models import User
from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.githttp_support import ThreadedServer

NAMES = ["конфиг-ядро.cfg", "日本語/設定.txt", "emoji-🛰.conf", 'quote"semi;colon.cfg', "plain-ascii.cfg"]


def _filename_star(header: str) -> str:
    value = header.split("filename*=", 1)[1]
    assert value.startswith("UTF-8''")
    return unquote(value.removeprefix("UTF-8''"))


@pytest.mark.parametrize("name", NAMES)
def test_raw_config_download_names_any_file(world, client, app, login, name):
    device = world.create_device("sw1")
    world.write(device["id"], configs={name: "hostname sw1\n"})
    url = f"/api/v1/devices/{device['id']}/versions/HEAD/files/{quote('configs/' + name)}"
    response = client.get(url, headers=world.headers["viewer"])
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.data == b"hostname sw1\n"
    header = response.headers["Content-Disposition"]
    header.encode("ascii")  # a header outside Latin-1 cannot be sent at all; ours is plain ASCII
    assert header.startswith("inline; filename=\"")
    expected = name.rsplit("/", 1)[-1]
    assert _filename_star(header) == expected.replace('"', "").replace(";", "")

    with app.app_context():
        username = db.session.get(User, world.user_ids["viewer"]).username
    login(username)
    page = client.get(f"/devices/{device['id']}/raw/HEAD/{quote('configs/' + name)}")
    assert page.status_code == 200 and page.data == b"hostname sw1\n"
    assert _filename_star(page.headers["Content-Disposition"]) == _filename_star(header)


def test_binary_config_with_a_non_latin1_name_is_an_attachment(world, client):
    device = world.create_device("sw1")
    import base64

    world.write(device["id"], configs_base64={"образ.bin": base64.b64encode(b"\xff\xfe\x00").decode()})
    response = client.get(f"/api/v1/devices/{device['id']}/versions/HEAD/files/{quote('configs/образ.bin')}",
                          headers=world.headers["viewer"])
    assert response.status_code == 200 and response.data == b"\xff\xfe\x00"
    header = response.headers["Content-Disposition"]
    header.encode("ascii")
    assert header.startswith("attachment;") and _filename_star(header) == "образ.bin"


def test_a_non_latin1_name_downloads_through_a_real_server(world, app):
    """Through a real HTTP server the old header (raw UTF-8 name) dropped the connection."""
    device = world.create_device("sw1")
    world.write(device["id"], configs={"маршрутизатор.cfg": "hostname r1\n"})
    server = ThreadedServer(app)
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        path = f"/api/v1/devices/{device['id']}/versions/HEAD/files/{quote('configs/маршрутизатор.cfg')}"
        connection.request("GET", path, headers=world.headers["viewer"])
        response = connection.getresponse()
        assert response.status == 200
        assert response.read() == b"hostname r1\n"
        assert _filename_star(response.getheader("Content-Disposition")) == "маршрутизатор.cfg"
    finally:
        server.stop()
