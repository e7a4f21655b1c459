"""The device page as an object page: tabs, identity, ports (words for booleans, VLANs, peers linked,
sortable), linked tasks and networks, the clone command with the username, photos shown once."""

from __future__ import annotations

import re

from tests.device_support import world_fixture  # noqa: F401  (fixture)
from tests.photo_support import image_bytes, upload

PORTS = [
    {"name": "Gi1/0/1", "description": "uplink core", "enabled": True, "mode": "trunk", "vlans": [10, 20],
     "native_vlan": 1, "speed": "10G", "peer": {"device": "core-2", "port": "Te1/1/1"}},
    {"name": "Gi1/0/2", "description": "", "enabled": False, "mode": "access", "vlans": [30]},
    {"name": "Gi1/0/10", "description": "printer", "enabled": True, "mode": "access", "vlans": [20],
     "peer": {"device": "unknown-box", "port": "eth0"}},
]


def _setup(world, app):
    peer = world.create_device("core-2")
    device = world.create_device("access-1", vendor="Cisco", model="C9300", serial="FOC123",
                                 management_ips=["10.1.0.5"], location="AMS1", tags=["access", "floor-2"])
    world.write(device["id"], configs={"running-config": "hostname access-1\n"}, ports=PORTS)
    owner = world.headers["owner"]
    net = world.client.post(f"/api/v1/projects/{world.project_id}/networks",
                            json={"name": "users", "cidr": "10.20.0.0/16", "vlans": [{"vid": 20, "name": "staff"}]},
                            headers=owner)
    assert net.status_code == 201, net.get_data(as_text=True)
    mgmt = world.client.post(f"/api/v1/projects/{world.project_id}/networks",
                             json={"name": "mgmt", "cidr": "10.1.0.0/24"}, headers=owner)
    assert mgmt.status_code == 201
    world.client.post(f"/api/v1/projects/{world.project_id}/networks",
                      json={"name": "unrelated", "cidr": "192.168.0.0/24", "vlans": [{"vid": 99}]}, headers=owner)
    task = world.client.post(f"/api/v1/projects/{world.project_id}/tasks",
                             json={"title": "Replace fan tray", "device_id": device["id"]}, headers=owner)
    assert task.status_code == 201, task.get_data(as_text=True)
    assert upload(world.client, device["id"], owner, image_bytes(), caption="front panel").status_code == 201
    return device, peer


def test_object_page_tabs_and_content(world, app, client, login):
    device, peer = _setup(world, app)
    assert login("the-viewer").status_code == 302
    html = client.get(f"/devices/{device['id']}").get_data(as_text=True)
    for tab in ("overview", "configs", "history", "ports", "photos", "tasks"):
        assert f'<a href="#{tab}">' in html and 'class="tabpanel' in html and f'id="{tab}"' in html
    # Identity as a field list, tags linking to the filtered list.
    assert '<dl class="fields">' in html and "FOC123" in html and "<code>10.1.0.5</code>" in html
    assert f'href="/projects/{world.project_id}/devices?tag=floor-2"' in html
    # Clone with the username, and what the password is.
    assert 'value="git clone http://the-viewer@localhost/git/acme/core/access-1.git"' in html
    assert "personal access token" in html.split('id="clone-password"', 1)[1].split("</p>", 1)[0]
    assert 'data-copy="clone-command"' in html
    # Ports: words, VLANs with native, peer linked to the peer device; unknown peers as text.
    ports = html.split('id="ports"', 1)[1].split("</section>", 1)[0]
    assert "True" not in ports and "False" not in ports
    assert "✓ enabled" in ports and "✕ disabled" in ports
    assert "10, 20" in ports and "(native 1)" in ports
    assert f'<a href="/devices/{peer["id"]}#ports">core-2</a>' in ports
    assert "unknown-box" in ports and "/devices/unknown-box" not in ports
    # Networks holding the management IP or carrying a port VLAN; not the unrelated one.
    overview = html.split('id="overview"', 1)[1]
    assert "mgmt" in overview and "holds 10.1.0.5" in overview and "20 (staff)" in overview
    assert "unrelated" not in overview
    # The linked task, and the photo shown once (the gallery only).
    tasks = html.split('id="tasks"', 1)[1].split("</section>", 1)[0]
    assert "Replace fan tray" in tasks
    assert html.count("front panel") == 2  # the thumbnail's alt text and its caption, one gallery
    assert html.count("/thumbnail") == 1


def test_port_table_sorts_on_every_column(world, app, client, login):
    device, _ = _setup(world, app)
    assert login("the-viewer").status_code == 302

    def order(query: str) -> list[str]:
        html = client.get(f"/devices/{device['id']}{query}").get_data(as_text=True)
        ports = html.split('id="ports"', 1)[1].split("</table>", 1)[0]
        return re.findall(r"<tr>\s*<td><code>([^<]+)</code>", ports)

    assert order("") == ["Gi1/0/1", "Gi1/0/2", "Gi1/0/10"]
    assert order("?ports_sort=name&ports_dir=desc") == ["Gi1/0/10", "Gi1/0/2", "Gi1/0/1"]
    assert order("?ports_sort=description") == ["Gi1/0/10", "Gi1/0/1", "Gi1/0/2"]
    assert order("?ports_sort=enabled") == ["Gi1/0/1", "Gi1/0/10", "Gi1/0/2"]
    assert order("?ports_sort=mode") == ["Gi1/0/2", "Gi1/0/10", "Gi1/0/1"]
    assert order("?ports_sort=vlans") == ["Gi1/0/1", "Gi1/0/10", "Gi1/0/2"]
    assert order("?ports_sort=speed")[0] == "Gi1/0/1"
    assert order("?ports_sort=peer") == ["Gi1/0/1", "Gi1/0/10", "Gi1/0/2"]
    assert order("?ports_sort=bogus") == ["Gi1/0/1", "Gi1/0/2", "Gi1/0/10"]
    html = client.get(f"/devices/{device['id']}?ports_sort=mode").get_data(as_text=True)
    assert 'aria-sort="ascending"' in html and "ports_sort=mode&amp;ports_dir=desc#ports" in html
