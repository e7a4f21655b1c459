"""Helpers for the page-quality browser tests: seeding a realistic device, logging in, and
measuring page width and colour contrast inside Chromium."""

from __future__ import annotations

from pathlib import Path

from tests.client_support import PASSWORD, bearer
from tests.photo_support import image_bytes, upload

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}

# A long config line with an IPv6 address: it must scroll inside the code box, never wrap mid-address
# nor widen the page.
CONFIG = "".join(
    ["hostname sw1\n", "ipv6 route 2001:db8:ffff:ffff:ffff:ffff:ffff:1/128 2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff "
     "name a-very-long-static-route-description-that-never-ends-on-a-phone\n"]
    + [f"interface GigabitEthernet1/0/{i}\n description port {i}\n switchport access vlan {10 + i % 3}\n!\n"
       for i in range(1, 30)]
)
PORTS = [
    {"name": f"Gi1/0/{i}", "description": f"desk {i}", "enabled": i % 4 != 0, "mode": "access",
     "vlans": [10 + i % 3], "peer": {"device": "sw2", "port": f"Gi1/0/{i}"} if i < 3 else None}
    for i in range(1, 12)
]
for port in PORTS:
    if port["peer"] is None:
        del port["peer"]


def seed_device(client, world) -> dict:
    """Device sw1 of team acme with 25 versions, a tag, ports, a photo, a task and a network."""
    owner = bearer(world.tokens["owner"])
    did = world.device_id

    def ok(response, status=(200, 201)):
        assert response.status_code in status, response.get_data(as_text=True)
        return response.get_json() if response.is_json else None

    projects = ok(client.get("/api/v1/teams/acme/projects", headers=owner))["items"]
    project_id = projects[0]["id"]
    ok(client.patch(f"/api/v1/devices/{did}", json={"vendor": "Cisco", "model": "C9300-48P", "serial": "FOC2233X0AB",
                                                     "management_ips": ["10.0.0.11", "2001:db8::11"],
                                                     "location": "AMS1 / room 2 / rack 14", "tags": ["access", "ams1"]},
                    headers=owner))
    ok(client.post(f"/api/v1/devices/{did}/versions", json={"message": "Initial config from the switch",
                                                            "configs": {"running-config": CONFIG}, "ports": PORTS},
                   headers=owner))
    for i in range(24):
        ok(client.post(f"/api/v1/devices/{did}/versions", json={
            "message": f"Change {i}: vlan {100 + i} on Gi1/0/{i % 8 + 1}",
            "configs": {"running-config": CONFIG + f"vlan {100 + i}\n name users-{i}\n"}}, headers=owner))
    ok(upload(client, did, owner, image_bytes(), caption="Front of rack 14"))
    network = ok(client.post(f"/api/v1/projects/{project_id}/networks",
                             json={"name": "users", "cidr": "10.0.0.0/24", "vlans": [{"vid": 11, "name": "desks"}],
                                   "documentation": "## Users\n\nThe desk VLAN of room 2."}, headers=owner))
    task = ok(client.post(f"/api/v1/projects/{project_id}/tasks",
                          json={"title": "Replace the PSU", "device_id": did,
                                "description": "The left PSU of sw1 fails its self-test; order a spare."},
                          headers=owner))
    ok(client.post(f"/api/v1/tasks/{task['id']}/comments", json={"body": "Ordered, arrives Tuesday."},
                   headers=owner))
    versions = ok(client.get(f"/api/v1/devices/{did}/versions?limit=200", headers=owner))["items"]
    ok(client.post(f"/api/v1/devices/{did}/tags", json={"name": "before-upgrade", "rev": versions[3]["commit"]},
                   headers=owner))
    return {"device_id": did, "project_id": project_id, "first": versions[-1]["commit"],
            "head": versions[0]["commit"], "network_id": network["id"], "task_id": task["id"]}


def log_in(page, login: str = "owner1") -> None:
    page.goto("/login")
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url("**/")


def dark(context, live_server: str) -> None:
    context.add_cookies([{"name": "infratrace_prefs", "value": "dark.en", "url": live_server}])


# Contrast of visible text against the colour actually behind it (backgrounds blended up the tree),
# WCAG 2 relative luminance. Returns the worst offenders.
CONTRAST_JS = """
(selectors) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return {r:0,g:0,b:0,a:0};
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(parseFloat);
    return {r:p[0], g:p[1], b:p[2], a: p.length > 3 ? p[3] : 1}; };
  const behind = (el) => { const layers = [];
    for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor);
      if (c.a > 0) { layers.push(c); if (c.a >= 1) break; } }
    let base = {r:255, g:255, b:255};
    for (let i = layers.length - 1; i >= 0; i--) { const l = layers[i];
      base = {r: l.r*l.a + base.r*(1-l.a), g: l.g*l.a + base.g*(1-l.a), b: l.b*l.a + base.b*(1-l.a)}; }
    return base; };
  const lum = (c) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v/12.92 : Math.pow((v+0.055)/1.055, 2.4); };
    return 0.2126*f(c.r) + 0.7152*f(c.g) + 0.0722*f(c.b); };
  const out = [];
  for (const sel of selectors) {
    let n = 0;
    for (const el of document.querySelectorAll(sel)) {
      if (n++ > 400) break;
      if (!el.getClientRects().length) continue;
      const own = Array.from(el.childNodes).some((c) => c.nodeType === 3 && c.textContent.trim());
      if (!own) continue;
      const style = getComputedStyle(el);
      if (style.visibility === 'hidden' || parseFloat(style.opacity) === 0) continue;
      const fg = parse(style.color), bg = behind(el);
      const a = lum(fg), b = lum(bg);
      const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
      out.push({sel, text: el.textContent.trim().slice(0, 40), ratio: Math.round(ratio * 100) / 100,
                color: style.color, background: `rgb(${Math.round(bg.r)}, ${Math.round(bg.g)}, ${Math.round(bg.b)})`});
    }
  }
  return out;
}
"""
TEXT = ["main p", "main td", "main th", "main li", "main dd", "main dt", "main h1", "main h2", "main h3",
        "main label", "main a", "main span", "main small", "main button", "header a", "footer"]
CODE = ["main code", ".hl", ".hl span", ".hl pre", ".diff td", ".diff td span", "main pre", "input.copy"]


def contrast_failures(page, minimum: float = 4.5) -> list[dict]:
    return [r for r in page.evaluate(CONTRAST_JS, TEXT + CODE) if r["ratio"] < minimum]


def checked_code_boxes(page) -> int:
    return len(page.evaluate(CONTRAST_JS, CODE))


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")
