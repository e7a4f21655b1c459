"""The compare page: any two versions, header, pickers, word marks, folds, truthful bytes,
options, paging, device against device; and the API diff's truthful lines."""

from __future__ import annotations

import base64
import re

from tests.device_support import world_fixture  # noqa: F401  (fixture)

CONFIG = "".join(
    f"interface Gi1/0/{n}\n description port {n}\n switchport access vlan {n}\n!\n" for n in range(1, 41)
)


def _text(html: str) -> str:
    return re.sub(r"</?mark>", "", html)


def _login(client, login, name: str = "the-editor") -> None:
    assert login(name).status_code == 302


def _versions(world, device_id: str, *configs: str | bytes) -> list[str]:
    commits = []
    for text in configs:
        if isinstance(text, bytes):
            body = {"configs_base64": {"run": base64.b64encode(text).decode()}}
        else:
            body = {"configs": {"run": text}}
        commits.append(world.write(device_id, **body).get_json()["commit"])
    return commits


def test_history_rows_choose_two_versions_and_the_header_tells_both(world, client, login):
    device = world.create_device("sw1")
    texts = [CONFIG.replace("port 7\n", f"port 7 v{i}\n") for i in range(5)]
    commits = _versions(world, device["id"], *texts)
    _login(client, login)
    page = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    assert f'name="from" value="{commits[-2]}"' in page and f'name="to" value="{commits[-1]}"' in page
    assert "Compare selected versions" in page
    response = client.get(f"/devices/{device['id']}/compare?from={commits[0]}&to={commits[4]}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "4 versions apart (3 between them)" in html
    assert commits[0][:10] in html and commits[4][:10] in html and html.count(" UTC</time>") == 2
    assert 'list="version-choices"' in html and f'<option value="{commits[2][:12]}">' in html
    # Hunk header names the block the change is in, on the new side.
    assert re.search(r"@@ -2[0-9],7 \+2[0-9],7 @@ interface Gi1/0/7<", html), re.findall("@@[^<]*", html)
    assert "<mark>v4</mark>" in html and "<mark>v0</mark>" not in html.split("<mark>v4")[0][-20:]
    # A tag is a valid pick, and the permalink carries both full ids.
    world.client.post(f"/api/v1/devices/{device['id']}/tags", json={"name": "golden", "rev": commits[1]},
                      headers=world.headers["editor"])
    tagged = client.get(f"/devices/{device['id']}/compare?from=golden&to=HEAD").get_data(as_text=True)
    assert "3 versions apart" in tagged and '<option value="golden">' in tagged
    assert f"from={commits[1]}&amp;to={commits[4]}" in tagged


def test_word_marks_folds_and_split_columns(world, client, login):
    device = world.create_device("sw2")
    new = CONFIG.replace("switchport access vlan 20\n", "switchport access vlan 220\n")
    a, b = _versions(world, device["id"], CONFIG, new)
    _login(client, login)
    html = client.get(f"/devices/{device['id']}/compare?from={a}&to={b}").get_data(as_text=True)
    assert "switchport access vlan <mark>220</mark>" in html
    folds = re.findall(r'href="([^"]*/compare/lines\?[^"]*)" data-fold', html)
    assert len(folds) == 2  # above the hunk and after it
    rows = client.get(folds[0].replace("&amp;", "&") + "&fragment=1").get_data(as_text=True)
    assert rows.count("<tr") == 75 and "interface Gi1/0/1\n" not in rows and "interface Gi1/0/1<" in rows
    alone = client.get(folds[1].replace("&amp;", "&"))
    assert alone.status_code == 200 and "interface Gi1/0/40" in alone.get_data(as_text=True)
    split = client.get(f"/devices/{device['id']}/compare?from={a}&to={b}&view=split").get_data(as_text=True)
    assert 'class="diff split"' in split and '<col class="code"><col class="num"><col class="code">' in split
    assert 'aria-current="true">Side by side' in split
    for bad in ("start=0&end=3&delta=0", "start=5&end=2&delta=0", "start=x&end=2&delta=0"):
        response = client.get(f"/devices/{device['id']}/compare/lines?rev={b}&path=configs/run&{bad}")
        assert response.status_code == 422
    missing = client.get(f"/devices/{device['id']}/compare/lines?rev={b}&path=configs/nope&start=1&end=2&delta=0")
    assert missing.status_code == 404


def test_latin1_and_missing_newline_are_shown_truthfully(world, client, login):
    device = world.create_device("sw3")
    a, b, c = _versions(world, device["id"], b"banner f\xfcr alle\nend\n", b"banner f\xf6r alle\nend\n",
                        b"banner f\xf6r alle\nend")
    _login(client, login)
    html = client.get(f"/devices/{device['id']}/compare?from={a}&to={b}").get_data(as_text=True)
    assert '<mark>f<span class="byte" title="byte not in UTF-8">\\xfc</span>r</mark>' in html
    assert '<mark>f<span class="byte" title="byte not in UTF-8">\\xf6</span>r</mark>' in html
    html = client.get(f"/devices/{device['id']}/compare?from={b}&to={c}").get_data(as_text=True)
    assert html.count("\\ No newline at end of file") == 1
    body = world.client.get(f"/api/v1/devices/{device['id']}/diff?from={a}&to={b}",
                            headers=world.headers["viewer"]).get_json()
    lines = [line for line in body["files"][0]["hunks"][0]["lines"] if line["origin"] != " "]
    assert [(line["content"], base64.b64decode(line["content_base64"])) for line in lines] == [
        ("banner f\\xfcr alle", b"banner f\xfcr alle"), ("banner f\\xf6r alle", b"banner f\xf6r alle")]
    body = world.client.get(f"/api/v1/devices/{device['id']}/diff?from={b}&to={c}",
                            headers=world.headers["viewer"]).get_json()
    lines = body["files"][0]["hunks"][0]["lines"]
    assert [(line["origin"], line["content"], line.get("no_newline", False)) for line in lines] == [
        (" ", "banner f\\xf6r alle", False), ("-", "end", False), ("+", "end", True)]


def test_ignore_whitespace_and_line_endings(world, client, login):
    device = world.create_device("sw4")
    a, b = _versions(world, device["id"], "a\nb  c\nd\n", "a\r\nb c\r\ne\r\n")
    _login(client, login)
    url = f"/devices/{device['id']}/compare?from={a}&to={b}"
    plain = client.get(url).get_data(as_text=True)
    assert plain.count('<tr class="add">') == 3 and "␍" in plain
    eol = client.get(url + "&ignore_eol=1").get_data(as_text=True)
    assert eol.count('<tr class="add">') == 2
    both = client.get(url + "&ignore_ws=1").get_data(as_text=True)
    assert both.count('<tr class="add">') == 1  # only d -> e is left
    assert client.get(url + "&ignore_ws=maybe").status_code == 422
    assert client.get(url + "&context=-1").status_code == 422
    assert client.get(url + "&hunk=x").status_code == 422


def test_big_diff_is_paged_not_replaced_by_a_download(world, client, login):
    device = world.create_device("big")
    old = "".join(f"line {i}\n" for i in range(30_000))
    new = "".join(f"line {i}{' changed' if i % 5 == 0 else ''}\n" for i in range(30_000))
    a, b = _versions(world, device["id"], old, new)
    _login(client, login)
    first = client.get(f"/devices/{device['id']}/compare?from={a}&to={b}").get_data(as_text=True)
    assert "too large" not in first.lower(), re.findall(".{200}too large.{100}", first.lower())
    assert "line 0 changed" in _text(first)
    more = re.search(r'href="([^"]*hunk=(\d+)[^"]*)" data-more', first)
    assert more is not None
    pages, url = 1, more.group(1).replace("&amp;", "&")
    last = ""
    while url:
        last = client.get(url + "&fragment=1").get_data(as_text=True)
        pages += 1
        found = re.search(r'href="([^"]*hunk=\d+[^"]*)" data-more', last)
        url = found.group(1).replace("&amp;", "&") if found else ""
        assert pages < 40
    assert "line 29995 changed" in _text(last) and pages > 5


def test_compare_with_another_device_of_the_team(world, client, login):
    one, two = world.create_device("edge-1"), world.create_device("edge-2")
    _versions(world, one["id"], "hostname edge-1\nntp server 10.0.0.1\n")
    _versions(world, two["id"], "hostname edge-2\nntp server 10.0.0.1\n")
    world.write(two["id"], ports=[{"name": "Gi0/1", "vlans": [10]}])
    _login(client, login)
    html = client.get(f"/devices/{one['id']}/compare?other={two['id']}").get_data(as_text=True)
    assert "Compare edge-1 with edge-2" in html and "hostname <mark>edge-2</mark>" in html
    assert "Gi0/1" in html and "added" in html
    assert f'<option value="{two["id"]}" selected>' in html
    # Outside the team: not found.
    assert client.get(f"/devices/{one['id']}/compare?other=0123456789abcdef0123456789abcdef").status_code == 404


def test_port_map_change_is_a_table(world, client, login):
    device = world.create_device("sw5")
    a = world.write(device["id"], ports=[{"name": "Gi1/0/1", "vlans": [10], "enabled": True},
                                         {"name": "Gi1/0/2"}]).get_json()["commit"]
    b = world.write(device["id"], ports=[{"name": "Gi1/0/1", "vlans": [10, 20], "enabled": False},
                                         {"name": "Gi1/0/3", "description": "new"}]).get_json()["commit"]
    _login(client, login)
    html = client.get(f"/devices/{device['id']}/compare?from={a}&to={b}").get_data(as_text=True)
    table = html.split('<table class="list port-diff">')[1].split("</table>")[0]
    assert '<th scope="row">Gi1/0/3</th><td>added</td>' in table
    assert '<th scope="row">Gi1/0/2</th><td>removed</td>' in table
    assert '<td>vlans</td><td class="del">[10]</td><td class="add">[10, 20]</td>' in table
    assert '<td>enabled</td><td class="del">True</td><td class="add">False</td>' in table


def test_big_config_is_readable_to_its_last_line(world, client, login):
    device = world.create_device("huge")
    text = "".join(f"interface Gi{n // 48}/0/{n % 48} description line-{n:05d} mtu 9000\n" for n in range(1, 50_001))
    assert len(text.encode()) > 512 * 1024
    world.write(device["id"], configs={"run": text})
    _login(client, login, "the-viewer")
    version = client.get(f"/devices/{device['id']}/versions/HEAD").get_data(as_text=True)
    assert "line-00001" in version and "lines 1–2000 of 50000" in version and "Too large" not in version
    last = client.get(f"/devices/{device['id']}/versions/HEAD/configs/run?line=50000")
    assert last.status_code == 302 and last.headers["Location"].endswith("page=25#L50000")
    page = client.get(last.headers["Location"].split("#")[0]).get_data(as_text=True)
    assert '<tr id="L50000">' in page and "line-50000" in page and "page 25 of 25" in page
    found = client.get(f"/devices/{device['id']}/versions/HEAD/configs/run?q=line-31415").get_data(as_text=True)
    assert "1 line containing" in found and "line=31415" in found
    for bad in ("?line=x", "?page=-1"):
        assert client.get(f"/devices/{device['id']}/versions/HEAD/configs/run{bad}").status_code == 422
    assert client.get(f"/devices/{device['id']}/versions/HEAD/configs/nope").status_code == 404


def test_api_diff_options(world, client):
    device = world.create_device("sw9")
    a, b = _versions(world, device["id"], "a\nb  c\n", "a\r\nb c\r\n")
    url = f"/api/v1/devices/{device['id']}/diff?from={a}&to={b}"
    headers = world.headers["viewer"]
    assert client.get(url, headers=headers).get_json()["files"][0]["additions"] == 2
    assert client.get(url + "&ignore_eol=true", headers=headers).get_json()["files"][0]["additions"] == 1
    assert client.get(url + "&ignore_ws=1", headers=headers).get_json()["files"] == []
    bad = client.get(url + "&ignore_ws=perhaps", headers=headers)
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "invalid"
