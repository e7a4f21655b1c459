"""The Equipment-versions endpoints: writes, history, reads, raw files, diffs, tags and roles."""

from __future__ import annotations

import base64
import subprocess
from collections import Counter

import pytest

from app.extensions import db
from app.models import AuditEvent, Device
from tests.client_support import assert_error
from tests.device_support import ROLES, world_fixture  # noqa: F401  (fixture)


def _repo(app, device_id: str):
    with app.app_context():
        return app.config["INFRATRACE"].repos_dir / db.session.get(Device, device_id).repo_path


def _git(repo, *args: str, text: bool = True):
    return subprocess.run(["git", "--git-dir", str(repo), *args], check=True, capture_output=True,
                          text=text).stdout


@pytest.fixture
def device(world) -> dict:
    return world.create_device("sw1")


def url(device: dict, tail: str = "") -> str:
    return f"/api/v1/devices/{device['id']}{tail}"


# -- writes -------------------------------------------------------------------------------------


def test_write_returns_201_and_stores_bytes_exactly(world, app, device):
    text = "hostname sw1\r\ninterface Gi1/0/1\r\n description ü\r\n"
    body = world.write(device["id"], message="Initial config", configs={"running-config": text}).get_json()
    assert body["changed"] is True and body["parent"] == device["head_commit"]
    assert len(body["commit"]) == 40 and body["created_at"].endswith("Z")
    assert body["author"]["username"] == "the-editor"
    assert body["files"] == [{"path": "configs/running-config", "status": "added", "additions": 3, "deletions": 0}]
    repo = _repo(app, device["id"])
    stored = _git(repo, "cat-file", "blob", "main:configs/running-config", text=False)
    assert stored == text.encode("utf-8")
    assert _git(repo, "log", "-1", "--format=%an <%ae>|%cn", "main").strip().startswith("user-")
    assert "the-editor" not in _git(repo, "log", "--format=%an %ae %cn %ce", "main")
    subprocess.run(["git", "--git-dir", str(repo), "fsck", "--strict"], check=True, capture_output=True)


def test_partial_writes_null_removes_and_ports_replace(world, app, device, client):
    world.write(device["id"], configs={"a": "A\n", "b": "B\n"}, ports=[{"name": "Gi1/0/10"}, {"name": "Gi1/0/2"}])
    world.write(device["id"], configs={"b": "B2\n"})
    head = client.get(url(device, "/versions/HEAD"), headers=world.headers["viewer"]).get_json()
    assert head["configs"] == {"a": "A\n", "b": "B2\n"}
    assert [p["name"] for p in head["ports"]] == ["Gi1/0/2", "Gi1/0/10"], "natural order"
    world.write(device["id"], configs={"a": None}, ports=[{"name": "Eth1", "enabled": True}])
    head = client.get(url(device, "/versions/HEAD"), headers=world.headers["viewer"]).get_json()
    assert head["configs"] == {"b": "B2\n"} and head["ports"] == [{"name": "Eth1", "enabled": True}]
    assert head["device"]["name"] == "sw1"
    binary = bytes(range(256))
    world.write(device["id"], configs_base64={"firmware.bin": base64.b64encode(binary).decode()})
    head = client.get(url(device, "/versions/HEAD"), headers=world.headers["viewer"]).get_json()
    assert base64.b64decode(head["configs_base64"]["firmware.bin"]) == binary


def test_no_change_write_is_200_without_commit(world, device, client):
    first = world.write(device["id"], configs={"a": "x\n"}).get_json()
    again = world.write(device["id"], expect=200, configs={"a": "x\n"}).get_json()
    assert again["changed"] is False and again["commit"] == first["commit"]
    assert world.write(device["id"], expect=200).get_json()["changed"] is False
    page = client.get(url(device, "/versions"), headers=world.headers["viewer"]).get_json()
    assert len(page["items"]) == 2


def test_stale_parent_is_409_with_current_head(world, device):
    base = device["head_commit"]
    won = world.write(device["id"], parent=base, configs={"a": "1\n"}).get_json()
    lost = world.write(device["id"], expect=None, parent=base, configs={"a": "2\n"})
    error = assert_error(lost, 409, "conflict")
    assert error["head"] == won["commit"]
    # Short ids name the parent too.
    world.write(device["id"], parent=won["commit"][:10], configs={"a": "3\n"})
    assert_error(world.write(device["id"], expect=None, parent="f" * 40, configs={"a": "4\n"}), 422)


@pytest.mark.parametrize(
    "name",
    ["..", "../x", "a/../b", "/abs", "-x", "a/-b", ".git", ".GIT/x", "x/.git", "a\0b", "a\nb", "a" * 256,
     "a//b", "", "a\\b"],
)
def test_bad_config_names_are_422(world, device, name):
    error = assert_error(world.write(device["id"], expect=None, configs={name: "x"}), 422)
    assert error["field"] == f"configs.{name}"


@pytest.mark.parametrize(
    ("ports", "field"),
    [
        ("nope", "ports"),
        ([{"description": "no name"}], "ports[0].name"),
        ([{"name": "a"}, {"name": "a"}], "ports[1].name"),
        ([{"name": "a"}, {"name": "b"}, {"name": "c", "vlans": [10, 5000]}], "ports[2].vlans[1]"),
        ([{"name": "a", "vlans": "10"}], "ports[0].vlans"),
        ([{"name": "a", "enabled": "yes"}], "ports[0].enabled"),
        ([{"name": "a", "colour": "red"}], "ports[0].colour"),
        ([{"name": "a", "native_vlan": 0}], "ports[0].native_vlan"),
    ],
)
def test_bad_ports_are_422(world, device, ports, field):
    error = assert_error(world.write(device["id"], expect=None, ports=ports), 422)
    assert error["field"] == field


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"configs": {"a": "x"}}, "message"),
        ({"message": "  ", "configs": {"a": "x"}}, "message"),
        ({"message": 5}, "message"),
        ({"message": "m", "configs": ["a"]}, "configs"),
        ({"message": "m", "configs": {"a": 5}}, "configs.a"),
        ({"message": "m", "configs_base64": {"a": "***"}}, "configs.a"),
        ({"message": "m", "configs": {"a": "x"}, "configs_base64": {"a": ""}}, "configs.a"),
        ({"message": "m", "parent": 5}, "parent"),
        ({"message": "m", "device": {}}, "device"),
    ],
)
def test_bad_write_bodies_are_422(world, device, client, body, field):
    response = client.post(url(device, "/versions"), json=body, headers=world.headers["editor"])
    assert assert_error(response, 422)["field"] == field


def test_config_over_limit_is_413(world, device, app, monkeypatch):
    config = app.config["INFRATRACE"]
    monkeypatch.setitem(app.config, "INFRATRACE", config.with_changes(max_config_bytes=1000))
    error = assert_error(world.write(device["id"], expect=None, configs={"big": "x" * 1001}), 413, "too_large")
    assert error["field"] == "configs.big"
    world.write(device["id"], configs={"ok": "x" * 1000})


def test_default_config_limit_is_10_mib(world, device):
    assert_error(world.write(device["id"], expect=None, configs={"big": "x" * (10 * 1024 * 1024 + 1)}), 413)


def test_request_over_limit_is_json_413(world, device, app, client, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 2000)
    response = client.post(url(device, "/versions"), json={"message": "m", "configs": {"a": "x" * 3000}},
                           headers=world.headers["editor"])
    assert_error(response, 413, "too_large")


# -- history ------------------------------------------------------------------------------------


def _all_pages(client, world, device, query: str = "", limit: int = 4) -> list[str]:
    seen, cursor = [], None
    while True:
        suffix = f"?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url(device, "/versions" + suffix), headers=world.headers["viewer"])
        assert page.status_code == 200, page.get_data(as_text=True)
        body = page.get_json()
        seen += [item["commit"] for item in body["items"]]
        cursor = body["next_cursor"]
        if not cursor:
            return seen


def test_history_pagination_and_path_filter(world, device, client, app):
    commits = [device["head_commit"]]
    for i in range(13):
        configs = {"running": f"v{i}\n"} if i % 2 == 0 else {f"sub/dir{i}": "x\n"}
        commits.append(world.write(device["id"], message=f"change {i}", configs=configs).get_json()["commit"])
    seen = _all_pages(client, world, device)
    assert seen == list(reversed(commits)) and len(set(seen)) == len(seen)
    first = client.get(url(device, "/versions?limit=1"), headers=world.headers["viewer"]).get_json()["items"][0]
    assert set(first) >= {"commit", "message", "author", "created_at", "files_changed", "additions", "deletions"}
    assert first["author"] == {"username": "the-editor", "display_name": "the-editor",
                               "pseudonym": first["author"]["pseudonym"]}
    assert first["message"] == "change 12" and first["files_changed"] == 1
    running = _all_pages(client, world, device, "&path=configs/running", limit=2)
    assert running == [commits[i + 1] for i in range(12, -1, -2)]
    directory = _all_pages(client, world, device, "&path=configs/sub", limit=3)
    assert directory == [commits[i + 1] for i in range(11, 0, -2)]
    assert len(_all_pages(client, world, device, "&path=configs", limit=5)) == 13
    assert _all_pages(client, world, device, "&path=nothing") == []
    assert_error(client.get(url(device, "/versions?cursor=garbage!"), headers=world.headers["viewer"]), 422)
    assert_error(client.get(url(device, "/versions?limit=0"), headers=world.headers["viewer"]), 422)


def test_history_cursor_out_of_range_is_422(world, device, client):
    # A cursor is a position we gave out (a 32-bit seq); a forged huge or signed one is refused,
    # never passed to the database (SQLite cannot bind an integer past 64 bits: that was a 500).
    for forged in ("s" + "9" * 30, "s-5", "s+5", "s 5"):
        cursor = base64.urlsafe_b64encode(forged.encode()).decode().rstrip("=")
        for path in ("", "&path=configs"):
            response = client.get(url(device, f"/versions?cursor={cursor}{path}"), headers=world.headers["viewer"])
            assert_error(response, 422)


def test_history_keeps_pseudonym_when_user_is_gone(world, device, client, app):
    from app.models import User

    world.write(device["id"], configs={"a": "1\n"})
    with app.app_context():
        db.session.delete(db.session.get(User, world.user_ids["editor"]))
        db.session.commit()
    item = client.get(url(device, "/versions?limit=1"), headers=world.headers["viewer"]).get_json()["items"][0]
    assert item["author"]["username"] is None and item["author"]["display_name"].startswith("user-")


# -- reads --------------------------------------------------------------------------------------


def test_read_by_full_short_tag_and_head(world, device, client):
    commit = world.write(device["id"], configs={"a": "one\n"}).get_json()["commit"]
    world.write(device["id"], configs={"a": "two\n"})
    client.post(url(device, "/tags"), json={"name": "v1", "rev": commit, "message": "first"},
                headers=world.headers["editor"])
    for rev in (commit, commit[:8], "v1"):
        body = client.get(url(device, f"/versions/{rev}"), headers=world.headers["viewer"]).get_json()
        assert body["commit"] == commit and body["configs"] == {"a": "one\n"} and body["tags"] == ["v1"]
        assert set(body) >= {"configs", "ports", "photos", "device", "message", "author", "created_at"}
    head = client.get(url(device, "/versions/HEAD"), headers=world.headers["viewer"]).get_json()
    assert head["configs"] == {"a": "two\n"}
    for bad in ("deadbeef", "nope", "-x", "HEAD..v1"):
        assert_error(client.get(url(device, f"/versions/{bad}"), headers=world.headers["viewer"]), 404)


def test_ambiguous_prefix_is_422(world, device, client, app):
    repo = _repo(app, device["id"])
    for i in range(600):
        world.write(device["id"], configs={"a": f"{i}\n"})
        ids = _git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split()
        counts = Counter(i[:4] for i in ids)
        shared = [prefix for prefix, n in counts.items() if n > 1]
        if shared:
            break
    assert shared, "no shared 4-hex prefix after 600 writes"
    assert_error(client.get(url(device, f"/versions/{shared[0]}"), headers=world.headers["viewer"]), 422,
                 "ambiguous_revision")


def test_raw_files_have_safe_content_types(world, device, client):
    world.write(device["id"], configs={"text.cfg": "a\r\nb\n"},
                configs_base64={"blob.bin": base64.b64encode(b"\x00\xff\xfe<script>").decode()})
    text = client.get(url(device, "/versions/HEAD/files/configs/text.cfg"), headers=world.headers["viewer"])
    assert text.status_code == 200 and text.data == b"a\r\nb\n"
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.headers["X-Content-Type-Options"] == "nosniff"
    binary = client.get(url(device, "/versions/HEAD/files/configs/blob.bin"), headers=world.headers["viewer"])
    assert binary.data == b"\x00\xff\xfe<script>"
    assert binary.headers["Content-Type"] == "application/octet-stream"
    assert binary.headers["Content-Disposition"].startswith("attachment")
    assert binary.headers["X-Content-Type-Options"] == "nosniff"
    device_json = client.get(url(device, "/versions/HEAD/files/device.json"), headers=world.headers["viewer"])
    assert device_json.status_code == 200 and b'"name": "sw1"' in device_json.data
    for missing in ("configs/nope", "configs", "../device.json"):
        assert_error(client.get(url(device, f"/versions/HEAD/files/{missing}"), headers=world.headers["viewer"]), 404)


# -- diff ---------------------------------------------------------------------------------------


def test_diff_files_ports_photos(world, device, client):
    lines = [f"line {i}" for i in range(1, 21)]
    a = world.write(device["id"], configs={"run": "\n".join(lines) + "\n", "gone": "bye\n"},
                    configs_base64={"bin": base64.b64encode(b"\x00\x01").decode()},
                    ports=[{"name": "Gi1/0/1", "vlans": [10]}, {"name": "Gi1/0/2"}]).get_json()["commit"]
    lines[9] = "line ten"
    b = world.write(device["id"], configs={"run": "\n".join(lines) + "\n", "gone": None, "new": "hi\n"},
                    configs_base64={"bin": base64.b64encode(b"\x00\x02").decode()},
                    ports=[{"name": "Gi1/0/1", "vlans": [10, 20], "description": "up"},
                           {"name": "Gi1/0/3"}]).get_json()["commit"]
    response = client.get(url(device, f"/diff?from={a[:7]}&to={b}"), headers=world.headers["viewer"])
    assert response.status_code == 200
    body = response.get_json()
    files = {f["path"]: f for f in body["files"]}
    assert files["configs/gone"]["status"] == "deleted" and files["configs/new"]["status"] == "added"
    assert files["configs/bin"]["binary"] is True and files["configs/bin"]["hunks"] == []
    run = files["configs/run"]
    assert (run["status"], run["additions"], run["deletions"]) == ("modified", 1, 1)
    hunk = run["hunks"][0]
    assert (hunk["old_start"], hunk["new_start"]) == (7, 7)
    changed = [line for line in hunk["lines"] if line["origin"] != " "]
    assert changed == [{"origin": "-", "old_lineno": 10, "new_lineno": None, "content": "line 10"},
                       {"origin": "+", "old_lineno": None, "new_lineno": 10, "content": "line ten"}]
    assert [p["name"] for p in body["ports"]["added"]] == ["Gi1/0/3"]
    assert [p["name"] for p in body["ports"]["removed"]] == ["Gi1/0/2"]
    assert body["ports"]["changed"] == [{"name": "Gi1/0/1", "fields": {
        "description": {"from": None, "to": "up"}, "vlans": {"from": [10], "to": [10, 20]}}}]
    assert body["photos"] == {"added": [], "removed": []}
    assert body["web_url"].startswith(f"http://localhost/devices/{device['id']}/compare?from=")
    wide = client.get(url(device, f"/diff?from={a}&to={b}&context=0"), headers=world.headers["viewer"]).get_json()
    wide_run = next(f for f in wide["files"] if f["path"] == "configs/run")
    assert len(wide_run["hunks"][0]["lines"]) == 2
    # Defaults: to = HEAD, from = its parent.
    assert client.get(url(device, "/diff"), headers=world.headers["viewer"]).get_json()["to"] == b
    assert_error(client.get(url(device, "/diff?from=nope"), headers=world.headers["viewer"]), 404)
    assert_error(client.get(url(device, "/diff?context=x"), headers=world.headers["viewer"]), 422)


def test_diff_too_large_is_flagged(world, device, client, monkeypatch):
    from app.services import versions as versions_service

    a = world.write(device["id"], configs={"big": "".join(f"{i}\n" for i in range(100))}).get_json()["commit"]
    b = world.write(device["id"], configs={"big": "".join(f"{i}!\n" for i in range(100))}).get_json()["commit"]
    monkeypatch.setattr(versions_service, "MAX_DIFF_LINES", 50)
    body = client.get(url(device, f"/diff?from={a}&to={b}"), headers=world.headers["viewer"]).get_json()
    assert body["too_large"] is True
    big = body["files"][0]
    assert big["too_large"] is True and big["hunks"] == [] and big["additions"] == 100


# -- tags ---------------------------------------------------------------------------------------


def test_tags_create_list_conflict_delete(world, device, client, app):
    commit = world.write(device["id"], configs={"a": "1\n"}).get_json()["commit"]
    created = client.post(url(device, "/tags"), json={"name": "pre-upgrade", "rev": commit[:8], "message": "before"},
                          headers=world.headers["editor"])
    assert created.status_code == 201
    assert created.get_json()["commit"] == commit and created.get_json()["message"] == "before"
    assert_error(client.post(url(device, "/tags"), json={"name": "pre-upgrade"}, headers=world.headers["editor"]),
                 409, "tag_exists")
    for bad in ("-x", "a..b", "has space", "HEAD", "x" * 101, "a~1"):
        response = client.post(url(device, "/tags"), json={"name": bad}, headers=world.headers["editor"])
        error = assert_error(response, 422)
        assert error["field"] == "name"
    assert_error(client.post(url(device, "/tags"), json={"name": "x", "rev": "nope"},
                             headers=world.headers["editor"]), 422)
    listed = client.get(url(device, "/tags"), headers=world.headers["viewer"]).get_json()["items"]
    assert [(t["name"], t["commit"]) for t in listed] == [("pre-upgrade", commit)]
    repo = _repo(app, device["id"])
    assert _git(repo, "cat-file", "-t", "refs/tags/pre-upgrade").strip() == "tag", "annotated"
    assert_error(client.delete(url(device, "/tags/pre-upgrade"), headers=world.headers["editor"]), 403)
    assert client.delete(url(device, "/tags/pre-upgrade"), headers=world.headers["admin"]).status_code == 204
    assert_error(client.delete(url(device, "/tags/pre-upgrade"), headers=world.headers["admin"]), 404)
    with app.app_context():
        kinds = [(e.action, e.object_type) for e in db.session.query(AuditEvent).filter_by(object_id=device["id"])]
        assert ("create", "device_tag") in kinds and ("delete", "device_tag") in kinds
        assert ("commit", "device_version") in kinds


# -- roles --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [*ROLES, "outsider"])
def test_versions_role_matrix(world, device, client, role):
    world.write(device["id"], configs={"a": "base\n"})
    headers = world.headers[role]
    got = (
        client.get(url(device, "/versions"), headers=headers).status_code,
        client.get(url(device, "/versions/HEAD"), headers=headers).status_code,
        client.get(url(device, "/versions/HEAD/files/configs/a"), headers=headers).status_code,
        client.get(url(device, "/diff"), headers=headers).status_code,
        client.get(url(device, "/tags"), headers=headers).status_code,
        client.post(url(device, "/versions"), json={"message": "m", "configs": {"a": role}},
                    headers=headers).status_code,
        client.post(url(device, "/tags"), json={"name": f"t-{role}"}, headers=headers).status_code,
        client.delete(url(device, f"/tags/t-{role}"), headers=headers).status_code,
    )
    expected = {
        "viewer": (200, 200, 200, 200, 200, 403, 403, 403),
        "editor": (200, 200, 200, 200, 200, 201, 201, 403),
        "admin": (200, 200, 200, 200, 200, 201, 201, 204),
        "owner": (200, 200, 200, 200, 200, 201, 201, 204),
        "outsider": (404,) * 8,
    }[role]
    assert got == expected


def test_history_role_check_is_403_when_the_role_may_not_read(world, device, client, monkeypatch):
    # The history page checks the role inside its one statement; a role below the action's
    # minimum still gets 403 (not an empty page), and a caller outside the team 404.
    from app.services import permissions

    monkeypatch.setitem(permissions.ACTION_MIN_ROLE, "version.read", "editor")
    assert_error(client.get(url(device, "/versions"), headers=world.headers["viewer"]), 403)
    assert client.get(url(device, "/versions"), headers=world.headers["editor"]).status_code == 200
    assert_error(client.get(url(device, "/versions"), headers=world.headers["outsider"]), 404)
    assert_error(client.get(url({"id": "x" * 65}, "/versions"), headers=world.headers["viewer"]), 404)


def test_read_only_token_cannot_write(world, device, client, token_for):
    from tests.client_support import bearer

    read_only = bearer(token_for(world.user_ids["editor"], ("read",)))
    response = client.post(url(device, "/versions"), json={"message": "m", "configs": {"a": "x"}}, headers=read_only)
    assert_error(response, 403, "insufficient_scope")
