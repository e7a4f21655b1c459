"""Every main page in a real Chromium: at 390 px wide the page never scrolls sideways (code and wide
tables scroll inside their own box), and in both themes text and code keep at least 4.5:1 contrast.
The device page's tabs work without JavaScript; the audit page shows every kind of event.
Screenshots go to test-artifacts/ (git-ignored)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.audit_support import EVENT_KINDS, fill_audit_log
from tests.browser.pages_support import (
    ARTIFACTS,
    PHONE,
    checked_code_boxes,
    contrast_failures,
    dark,
    log_in,
    page_width,
    seed_device,
)
from tests.githttp_support import git_home_fixture, server_fixture, world_fixture  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser

DEVICE_TABS = ("overview", "configs", "history", "ports", "photos", "tasks")


def _pages(seed: dict) -> dict[str, str]:
    d, p = seed["device_id"], seed["project_id"]
    pages = {
        "dashboard": "/",
        "team": "/teams/acme",
        "project": f"/projects/{p}",
        "device-list": f"/projects/{p}/devices",
        "history-filtered": f"/devices/{d}?path=running-config&kind=config#history",
        "version": f"/devices/{d}/versions/HEAD",
        "compare": f"/devices/{d}/compare?from={seed['first']}&to={seed['head']}",
        "compare-split": f"/devices/{d}/compare?from={seed['first']}&to={seed['head']}&view=split",
        "search": "/teams/acme/search?q=sw1",
        "account": "/settings/profile",
        "privacy": "/settings/privacy",
        "tokens": "/settings/tokens",
        "audit": "/teams/acme/audit",
        "projects": "/teams/acme/projects",
        "new-device": f"/projects/{p}/devices/new",
        "edit-device": f"/devices/{d}/edit",
        "network": f"/networks/{seed['network_id']}",
        "task": f"/tasks/{seed['task_id']}",
        "my-tasks": "/me/tasks",
        "new-team": "/teams/new",
    }
    for tab in DEVICE_TABS:
        pages[f"device-{tab}"] = f"/devices/{d}#{tab}"
    return pages


@pytest.fixture
def seeded(app, client, world):
    return seed_device(client, world)


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_main_page_fits_a_phone_and_keeps_contrast(browser, live_server, seeded, theme):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    if theme == "dark":
        dark(context, live_server)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page)
    problems: dict[str, object] = {}
    code_checked = 0
    for name, url in _pages(seeded).items():
        response = page.goto(url)
        # Moving between tabs of one device page changes only the fragment: no new response.
        assert (response is None and "#" in url) or (response is not None and response.status == 200), \
            (name, response and response.status)
        assert page.evaluate("document.documentElement.dataset.theme") == theme
        width = page_width(page)
        if width > PHONE["width"]:
            problems[f"{name} width"] = width
        failures = contrast_failures(page)
        if failures:
            problems[f"{name} contrast"] = failures[:5]
        code_checked += checked_code_boxes(page)
        if name in ("device-overview", "device-history", "device-configs", "device-ports", "device-list", "compare"):
            page.screenshot(path=str(ARTIFACTS / f"phone-{theme}-{name}.png"), full_page=True)
    context.close()
    assert not problems, problems
    assert code_checked > 50, "code boxes (configs, diffs) were on the pages and were measured"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_logged_out_pages_fit_a_phone_and_keep_contrast(browser, live_server, theme):
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    if theme == "dark":
        dark(context, live_server)
    page = context.new_page()
    for url in ("/", "/login", "/signup"):
        assert page.goto(url).status == 200
        assert page_width(page) <= PHONE["width"], url
        assert contrast_failures(page) == [], url
    # A refused sign-up shows its errors in both themes, readable too.
    page.goto("/signup")
    page.click("main button[type=submit]")
    expect(page.locator(".error").first).to_be_visible()
    assert contrast_failures(page) == []
    context.close()


def test_device_tabs_work_without_javascript_and_screenshots(browser, live_server, seeded):
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900},
                                  java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page)
    d = seeded["device_id"]
    # expect(...) waits: a click that navigates returns once the new page is committed, which can be
    # before its body is parsed (seen under load), so the next check must wait for it.
    page.goto(f"/devices/{d}")
    expect(page.locator("#overview")).to_be_visible()
    expect(page.locator("#history")).to_be_hidden()
    page.screenshot(path=str(ARTIFACTS / "device-overview.png"), full_page=True)
    page.click(".device-tabs a[href='#history']")
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("#overview")).to_be_hidden()
    expect(page.locator("#configs")).to_be_hidden()
    expect(page.locator("#history tbody tr")).to_have_count(28)  # creation, metadata edit, 25 config writes, photo
    page.screenshot(path=str(ARTIFACTS / "device-history.png"), full_page=True)
    # Filters and paging land back on the history tab.
    page.fill("#h-path", "running-config")
    page.click("#history form button[type=submit]")
    expect(page).to_have_url(re.compile(r"path=running-config.*#history$"))
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("#history tbody tr")).to_have_count(25)
    page.goto(f"/devices/{d}?limit=10#history")
    page.click("#history nav.pager >> nth=0 >> text=Older")
    expect(page).to_have_url(re.compile(r"before=\d+.*#history$"))
    expect(page.locator("#history")).to_be_visible()
    expect(page.locator("#history tbody tr")).to_have_count(10)
    page.click("#history nav.pager >> nth=0 >> text=Oldest")
    expect(page).to_have_url(re.compile(r"oldest=1.*#history$"))
    expect(page.locator("#history tbody tr").last).to_have_attribute("data-seq", "1")
    page.click(".device-tabs a[href='#ports']")
    expect(page.locator("#ports")).to_be_visible()
    expect(page.locator("#ports")).to_contain_text("✕ disabled")
    page.click("#ports th >> text=State")
    expect(page).to_have_url(re.compile(r"ports_sort=enabled#ports$"))
    expect(page.locator("#ports")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "device-ports.png"), full_page=True)
    page.click(".device-tabs a[href='#configs']")
    expect(page.locator("#configs .hl").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "device-configs.png"), full_page=True)
    context.close()


def test_keyboard_skip_link_and_copy_button(browser, live_server, seeded):
    context = browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log_in(page)
    page.goto(f"/devices/{seeded['device_id']}")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    assert page.is_visible(".skip-link")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    # Keyboard through the tabs: focus the History tab link and follow it.
    page.focus(".device-tabs a[href='#history']")
    page.keyboard.press("Enter")
    assert page.is_visible("#history")
    assert page.get_attribute(".device-tabs a[href='#history']", "aria-current") == "true"
    # The copy button appears with JavaScript and copies the clone command with the username.
    page.click(".device-tabs a[href='#overview']")
    page.click("button[data-copy=clone-command]")
    # The clipboard write is asynchronous: wait (with the page's deadline) for the button to say so.
    page.wait_for_function("document.querySelector('button[data-copy=clone-command]').textContent === 'Copied'")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("git clone http://owner1@") and copied.endswith("/git/acme/core/sw1.git")
    context.close()


def test_no_external_assets(browser, live_server, seeded):
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url)
            if not request.url.startswith(live_server) and not request.url.startswith("data:") else None)
    log_in(page)
    for url in _pages(seeded).values():
        page.goto(url)
    context.close()
    assert outside == []


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_audit_page_with_every_event_kind(browser, live_server, app, client, world, server, git_home,
                                          tmp_path, theme):
    found = fill_audit_log(app, client, world, server, git_home, tmp_path)
    assert EVENT_KINDS <= found
    context = browser.new_context(base_url=live_server, viewport=PHONE)
    if theme == "dark":
        dark(context, live_server)
    page = context.new_page()
    log_in(page, "admin1")
    response = page.goto("/teams/acme/audit?limit=200")
    assert response is not None and response.status == 200
    rows = page.locator("main table.list tbody tr")
    shown = set()
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td")
        shown.add((cells.nth(2).inner_text().strip(), cells.nth(3).inner_text().split()[0]))
    assert EVENT_KINDS <= shown, EVENT_KINDS - shown
    assert page_width(page) <= PHONE["width"]
    assert contrast_failures(page) == []
    page.screenshot(path=str(ARTIFACTS / f"phone-{theme}-audit.png"), full_page=True)
    context.close()
