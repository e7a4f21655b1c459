"""The version browser in a real Chromium: compare two chosen versions, side by side, word marks,
folds, the port-map table, truthful bytes, a 50,000-line config, and editing that keeps the work.

Screenshots of the compare page (unified and side by side) and of the port-map diff are saved
under test-artifacts/ (gitignored)."""

from __future__ import annotations

import base64

import pytest

from tests.browser.pages_support import ARTIFACTS, log_in
from tests.device_support import world_fixture  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

BASE = "".join(
    f"interface Gi1/0/{n}\n description access port {n}\n switchport access vlan {100 + n}\n!\n"
    for n in range(1, 61)
)


def _config(secret: str, vlan19: int = 119) -> str:
    return ("hostname core-sw-1\n" + f"enable secret 9 {secret}\n"
            + BASE.replace("switchport access vlan 119\n", f"switchport access vlan {vlan19}\n"))


def _shot(page, name: str, selector: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    target = page.locator(selector).first if selector else page
    if selector:
        target.screenshot(path=str(ARTIFACTS / name))
    else:
        page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_compare_two_chosen_versions(page, world):
    device = world.create_device("core-sw-1")
    secrets = ["$9$oldOldOld", "$9$midMidMid", "$9$newNewNew"]
    commits = [world.write(device["id"], configs={"running-config": _config(s, 119 + i)},
                           message=f"rotate secret {i}").get_json()["commit"] for i, s in enumerate(secrets)]
    log_in(page, "the-editor")
    page.goto(f"/devices/{device['id']}#history")  # the device page's history tab
    page.check(f"input[name=from][value='{commits[0]}']")
    page.check(f"input[name=to][value='{commits[2]}']")
    page.click("button:has-text('Compare selected versions')")
    page.wait_for_url("**/compare?*")
    assert "2 versions apart" in page.inner_text(".between")
    assert "rotate secret 0" in page.inner_text(".compare-head") and "rotate secret 2" in page.inner_text(
        ".compare-head")
    # The rotated secret (stored as a keyed-hash placeholder, since the project redacts secrets): only
    # the changed token is marked, on both sides, and no secret value reaches the page.
    added, removed = (page.inner_text("table.diff tr.add mark >> nth=0"),
                      page.inner_text("table.diff tr.del mark >> nth=0"))
    assert added != removed and added.startswith("redacted:") and removed.startswith("redacted:"), (added, removed)
    assert all(s.removeprefix("$9$") not in page.content() for s in secrets)
    # The hunk header names the block of the change on the new side.
    assert any("interface Gi1/0/19" in h for h in page.locator("tr.hunk").all_inner_texts())
    _shot(page, "compare-unified.png")

    # Expanding a folded stretch puts the unchanged lines in place.
    before = page.locator("table.diff tr").count()
    url = page.url
    page.click("a[data-fold] >> nth=1")
    page.wait_for_selector("tr.unfolded")
    assert page.url == url and page.locator("table.diff tr").count() > before + 10
    assert page.locator("tr.unfolded td.code", has_text="description access port 40").count() == 1

    page.click(".view-toggle a:has-text('Side by side')")
    page.wait_for_selector("table.diff.split")
    widths = page.evaluate("""() => {
        const row = [...document.querySelectorAll('table.diff.split tr')].find(r => r.cells.length === 4);
        return [row.cells[1].getBoundingClientRect().width, row.cells[3].getBoundingClientRect().width];
    }""")
    assert abs(widths[0] - widths[1]) <= 1
    _shot(page, "compare-split.png")
    # The layout is remembered: a compare link without ?view= opens side by side.
    page.goto(f"/devices/{device['id']}/compare?from={commits[1]}&to={commits[2]}")
    page.wait_for_selector("table.diff.split")
    assert "view=split" in page.url
    # Searchable pickers: the datalist offers versions and tags; choosing one compares.
    assert page.locator("#version-choices option").count() == 4  # creation + 3 writes
    page.fill("input[name=from]", commits[0][:12])
    page.check("input[name=view][value=unified]")
    page.click(".compare-pickers button[type=submit]")
    page.wait_for_selector("table.diff.unified")
    assert "2 versions apart" in page.inner_text(".between")


def test_port_map_latin1_and_missing_newline(page, world):
    device = world.create_device("edge-1")
    a = world.write(device["id"], ports=[{"name": "Gi1/0/1", "vlans": [10], "enabled": True},
                                         {"name": "Gi1/0/2", "description": "old"}],
                    configs_base64={"banner": base64.b64encode(b"banner motd f\xfcr alle\nend\n").decode()}
                    ).get_json()["commit"]
    b = world.write(device["id"], ports=[{"name": "Gi1/0/1", "vlans": [10, 20], "enabled": False},
                                         {"name": "Gi1/0/3", "description": "new"}],
                    configs_base64={"banner": base64.b64encode(b"banner motd f\xf6r alle\nend").decode()}
                    ).get_json()["commit"]
    log_in(page, "the-viewer")
    page.goto(f"/devices/{device['id']}/compare?from={a}&to={b}")
    table = page.locator("table.port-diff")
    assert table.locator("tr.add th").inner_text() == "Gi1/0/3"
    assert table.locator("tr.del th").inner_text() == "Gi1/0/2"
    vlans = table.locator("tr.chg", has_text="vlans")
    assert vlans.locator("td.del").inner_text() == "[10]" and vlans.locator("td.add").inner_text() == "[10, 20]"
    _shot(page, "port-map-diff.png", "#port-map")
    # Latin-1: the changed byte is visible on both lines; they are not two identical lines.
    assert page.locator("tr.del .byte").inner_text() == "\\xfc"
    assert page.locator("tr.add .byte").inner_text() == "\\xf6"
    assert page.inner_text("tr.del td.code") != page.inner_text("tr.add td.code")
    assert page.locator("tr.nonl", has_text="No newline at end of file").count() == 1


def test_fifty_thousand_line_config_to_its_last_line(page, world):
    device = world.create_device("huge")
    text = "".join(f"interface Gi{n // 48}/0/{n % 48} description line-{n:05d}\n" for n in range(1, 50_001))
    world.write(device["id"], configs={"run": text})
    log_in(page, "the-viewer")
    page.goto(f"/devices/{device['id']}/versions/HEAD/configs/run#L50000")
    page.wait_for_url("**page=25#L50000")
    last = page.locator("#L50000")
    assert "line-50000" in last.inner_text()
    assert last.is_visible()
    page.fill("input[name=q]", "line-31415")
    page.click("button:has-text('Find')")
    page.click(".matches a:has-text('31415')")
    page.wait_for_url("**#L31415")
    assert "line-31415" in page.inner_text("#L31415")


def test_editing_keeps_line_endings_and_the_text(page, world):
    device = world.create_device("access-1")
    world.write(device["id"], configs={"running-config": BASE})
    log_in(page, "the-editor")
    page.goto(f"/devices/{device['id']}/configs/edit?name=running-config")
    edited = BASE.replace("description access port 33\n", "description to the printer\n")
    page.fill("textarea[name=content]", edited)
    # A refused submit (no message) keeps the pasted text and shows the error at the field.
    page.click("button[value=save]")
    assert page.inner_text("[data-field=message]") == "A message is required."
    assert page.input_value("textarea[name=content]").replace("\r\n", "\n") == edited
    page.fill("input[name=message]", "printer on 33")
    page.click("button[value=preview]")
    assert page.inner_text("#preview tr.add mark") == "to the printer"
    page.click("button[value=save]")
    page.wait_for_url(f"**/devices/{device['id']}")
    body = world.client.get(f"/api/v1/devices/{device['id']}/diff", headers=world.headers["viewer"]).get_json()
    assert [(f["path"], f["additions"], f["deletions"]) for f in body["files"]] == [
        ("configs/running-config", 1, 1)]
