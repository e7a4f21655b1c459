"""The inventory pages: forms with field errors, detail pages, delete with confirmation, search, audit."""

from __future__ import annotations

import re

import pytest

from tests.client_support import csrf_from
from tests.inventory_support import make_device, world_fixture  # noqa: F401  (the `world` fixture)


@pytest.fixture
def web(world, login):
    """alice (owner of "net") logged in with the browser session."""
    login("alice")
    return world


def form_post(client, page_url: str, action: str, data: dict) -> object:
    token = csrf_from(client.get(page_url).get_data(as_text=True))
    return client.post(action, data={**data, "csrf_token": token})


def test_team_page_lists_projects_and_has_search(web, client):
    html = client.get("/teams/net").get_data(as_text=True)
    assert "No projects yet" in html and 'action="/teams/net/search"' in html
    web.project("Backbone")
    html = client.get("/teams/net").get_data(as_text=True)
    assert "Backbone" in html and "/teams/net/projects/new" in html and "/teams/net/audit" in html


def test_create_project_with_field_errors(web, client):
    response = form_post(client, "/teams/net/projects/new", "/teams/net/projects/new",
                         {"name": "", "status": "active", "description": "", "metadata": ""})
    assert response.status_code == 422
    assert re.search(r'class="error" data-field="name">Name is required', response.get_data(as_text=True))
    response = form_post(client, "/teams/net/projects/new", "/teams/net/projects/new",
                         {"name": "Core", "status": "active", "metadata": "{not json"})
    assert response.status_code == 422
    assert 'data-field="metadata">Metadata is not valid JSON' in response.get_data(as_text=True)
    response = form_post(client, "/teams/net/projects/new", "/teams/net/projects/new",
                         {"name": "Core", "status": "active", "metadata": '["a"]'})
    assert response.status_code == 422 and 'data-field="metadata"' in response.get_data(as_text=True)
    response = form_post(client, "/teams/net/projects/new", "/teams/net/projects/new",
                         {"name": "Core", "status": "planning", "description": "DC", "metadata": '{"site": "PAR1"}'})
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Core" in page and "PAR1" in page and "planning" in page
    listed = client.get("/teams/net/projects").get_data(as_text=True)
    assert "Core" in listed
    dashboard = client.get("/").get_data(as_text=True)
    assert "Your projects" in dashboard and f'href="{response.headers["Location"]}">Core</a>' in dashboard


def test_edit_and_delete_project(app, web, client):
    project = web.project("Core")
    url = f"/projects/{project['id']}"
    response = form_post(client, f"{url}/edit", f"{url}/edit", {"name": "Core 2", "status": "done", "metadata": ""})
    assert response.status_code == 302
    assert "Core 2" in client.get(url).get_data(as_text=True)
    _, path = make_device(app, project["id"])
    page = client.get(url).get_data(as_text=True)
    assert 'data-confirm="Delete the project' in page and 'name="cascade"' in page
    response = form_post(client, url, f"{url}/delete", {})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    assert "still has 1 device" in client.get(url).get_data(as_text=True)
    response = form_post(client, url, f"{url}/delete", {"cascade": "y"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/teams/net/projects")
    assert client.get(url).status_code == 404
    assert not path.exists()


def test_pagination_links(web, client):
    for i in range(5):
        web.project(f"P{i}")
    first = client.get("/teams/net/projects?limit=2").get_data(as_text=True)
    match = re.search(r'rel="next" href="([^"]+)"', first)
    assert match and "P0" in first and "P2" not in first
    second = client.get(match.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "P2" in second and "P3" in second and "P0" not in second and "First page" in second


def test_network_pages_render_docs_safely(web, client):
    project = web.project("Core")
    new = f"/projects/{project['id']}/networks/new"
    bad = form_post(client, new, new, {"name": "mgmt", "cidr": "10.0.0.1/24", "vlans": ""})
    assert bad.status_code == 422 and 'data-field="cidr"' in bad.get_data(as_text=True)
    bad = form_post(client, new, new, {"name": "mgmt", "cidr": "10.0.0.0/24", "vlans": "ten, users"})
    assert bad.status_code == 422 and "Line 1" in bad.get_data(as_text=True)
    bad = form_post(client, new, new, {"name": "mgmt", "cidr": "10.0.0.0/24", "vlans": "10, a\n10, b"})
    assert bad.status_code == 422 and "listed twice" in bad.get_data(as_text=True)
    doc = "# Plan\n<script>alert(1)</script>\n\n[x](javascript:alert(1))"
    ok = form_post(client, new, new, {"name": "mgmt", "cidr": "10.0.0.0/24", "documentation": doc,
                                      "vlans": "10, mgmt, management\n20, users"})
    assert ok.status_code == 302
    html = client.get(ok.headers["Location"]).get_data(as_text=True)
    assert "<h1>Plan</h1>" in html and "<script>alert(1)" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html
    vlan_rows = re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td>", html)
    assert vlan_rows == [("10", "mgmt"), ("20", "users")]
    edit = ok.headers["Location"] + "/edit"
    assert "10, mgmt, management\n20, users" in client.get(edit).get_data(as_text=True)
    tab = client.get(f"/projects/{project['id']}?tab=networks").get_data(as_text=True)
    assert "10.0.0.0/24" in tab


def test_task_pages_comments_and_my_tasks(web, client):
    project = web.project("Core")
    new = f"/projects/{project['id']}/tasks/new"
    page = client.get(new).get_data(as_text=True)
    assert '<option value="bob">bob</option>' in page and "carol" not in page
    bad = form_post(client, new, new, {"title": "", "status": "todo"})
    assert bad.status_code == 422 and 'data-field="title"' in bad.get_data(as_text=True)
    bad = form_post(client, new, new, {"title": "x", "status": "todo", "assignee": "carol"})
    assert bad.status_code == 422 and 'data-field="assignee"' in bad.get_data(as_text=True)
    bad = form_post(client, new, new, {"title": "x", "status": "todo", "due_date": "tomorrow"})
    assert bad.status_code == 422 and 'data-field="due_date"' in bad.get_data(as_text=True)
    ok = form_post(client, new, new, {"title": "Swap PSU", "status": "todo", "assignee": "alice",
                                      "due_date": "2030-01-31"})
    assert ok.status_code == 302
    task_url = ok.headers["Location"]
    detail = client.get(task_url).get_data(as_text=True)
    assert "Swap PSU" in detail and "2030-01-31" in detail and "No comments yet" in detail
    empty = form_post(client, task_url, task_url + "/comments", {"body": ""})
    assert empty.status_code == 422
    posted = form_post(client, task_url, task_url + "/comments", {"body": "Ordered <b>it</b>"})
    assert posted.status_code == 302
    detail = client.get(task_url).get_data(as_text=True)
    assert "Ordered &lt;b&gt;it&lt;/b&gt;" in detail and "alice" in detail
    assert "Swap PSU" in client.get("/me/tasks").get_data(as_text=True)
    assert "Swap PSU" in client.get("/").get_data(as_text=True), "the dashboard lists open tasks"
    edited = form_post(client, task_url + "/edit", task_url + "/edit",
                       {"title": "Swap PSU", "status": "done", "assignee": "alice"})
    assert edited.status_code == 302
    assert "Swap PSU" not in client.get("/me/tasks").get_data(as_text=True), "done tasks are not open"
    assert "Swap PSU" in client.get("/me/tasks?status=done").get_data(as_text=True)
    filtered = client.get(f"/projects/{project['id']}?tab=tasks&status=todo").get_data(as_text=True)
    assert "match this filter" in filtered
    deleted = form_post(client, task_url, task_url + "/delete", {})
    assert deleted.status_code == 302 and client.get(task_url).status_code == 404


def test_search_and_audit_pages(web, client, login):
    web.project("Backbone")
    html = client.get("/teams/net/search?q=back").get_data(as_text=True)
    assert "Backbone" in html
    assert "matches" in client.get("/teams/net/search?q=zzz").get_data(as_text=True)
    audit = client.get("/teams/net/audit").get_data(as_text=True)
    assert "create" in audit and "Backbone" in audit
    login("bob", c=(bob := client.application.test_client()))
    assert bob.get("/teams/net/audit").status_code == 403
    assert bob.get("/teams/net/search?q=back").status_code == 200


def test_other_team_pages_are_404_and_viewer_sees_no_write_buttons(web, client, login, make_user, token_for):
    theirs = web.project("Theirs", team="other", who=web.carol)
    for url in (f"/projects/{theirs['id']}", f"/projects/{theirs['id']}/edit", "/teams/other/projects",
                "/teams/other/search?q=x", "/teams/other/audit", f"/projects/{theirs['id']}/tasks/new"):
        assert client.get(url).status_code == 404, url
    mine = web.project("Mine")
    make_user("vera")
    web.client.post("/api/v1/teams/net/members", json={"email": "vera@example.com", "role": "viewer"},
                    headers=web.alice)
    viewer = client.application.test_client()
    login("vera", c=viewer)
    page = viewer.get(f"/projects/{mine['id']}").get_data(as_text=True)
    assert "Mine" in page and "/edit" not in page and "Delete project" not in page
    assert viewer.get(f"/projects/{mine['id']}/edit").status_code == 403
    assert viewer.get("/teams/net/projects/new").status_code == 403
