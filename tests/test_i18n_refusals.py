"""Service refusals reached through web forms read German on a German page, and the API keeps English.

The service raises one English template with params (app/services/errors.py); the web shows it through
the catalogue (app.web.errors.shown), the API answers the interpolated English (a machine contract).
"""

from __future__ import annotations

import html

import pytest

from app.services import plans
from tests.client_support import bearer, csrf_from
from tests.device_support import team_with_project


@pytest.fixture
def world(app, client, make_user, token_for, login):
    owner_id, _ = make_user("alice")
    viewer_id, _ = make_user("carol")
    owner = bearer(token_for(owner_id))
    _, project_id = team_with_project(app, client, owner, "carol@example.com", "viewer")
    response = client.post(f"/api/v1/projects/{project_id}/devices", json={"name": "sw1"}, headers=owner)
    assert response.status_code == 201
    return {"project": project_id, "owner": owner, "viewer": bearer(token_for(viewer_id)), "login": login}


def _german(client) -> None:  # type: ignore[no-untyped-def]
    client.set_cookie("infratrace_prefs", "light.de", domain="localhost")


def _new_device(client, project_id: str, **fields: str) -> str:  # type: ignore[no-untyped-def]
    path = f"/projects/{project_id}/devices/new"
    data = {"csrf_token": csrf_from(client.get(path).get_data(as_text=True)), "status": "active", **fields}
    page = client.post(path, data=data, follow_redirects=True)
    return html.unescape(page.get_data(as_text=True))


def _api_error(client, project_id: str, headers: dict[str, str], **body: object) -> str:  # type: ignore[no-untyped-def]
    # The same refusal asked for in German: the API still answers in English.
    response = client.post(f"/api/v1/projects/{project_id}/devices", json=body,
                           headers={**headers, "Accept-Language": "de"})
    assert response.status_code >= 400
    return response.get_json()["error"]["message"]


def test_a_conflict_is_german_on_the_form_and_english_in_the_api(client, world):
    world["login"]("alice")
    _german(client)
    path = "/teams/acme"
    data = {"csrf_token": csrf_from(client.get(path).get_data(as_text=True)), "email": "carol@example.com",
            "role": "viewer"}
    page = html.unescape(client.post(f"{path}/members", data=data, follow_redirects=True).get_data(as_text=True))
    assert 'lang="de"' in page and "carol ist bereits Mitglied." in page and "already a member" not in page
    response = client.post("/api/v1/teams/acme/members", json={"email": "carol@example.com", "role": "viewer"},
                           headers={**world["owner"], "Accept-Language": "de"})
    assert response.status_code == 409 and response.get_json()["error"]["message"] == "carol is already a member."


def test_a_bad_value_is_german_on_the_form_and_english_in_the_api(client, world):
    world["login"]("alice")
    _german(client)
    page = _new_device(client, world["project"], name="sw2", management_ips="10.0.0.300")
    assert "ist keine gültige IPv4- oder IPv6-Adresse." in page and "is not a valid" not in page
    message = _api_error(client, world["project"], world["owner"], name="sw2", management_ips=["10.0.0.300"])
    assert message.endswith("is not a valid IPv4 or IPv6 address.")


def test_a_bad_list_filter_is_german_on_the_page_and_english_in_the_api(client, world):
    world["login"]("alice")
    _german(client)
    response = client.get(f"/projects/{world['project']}/devices?status=bogus")
    assert response.status_code == 422
    page = html.unescape(response.get_data(as_text=True))
    assert "'status' muss eines davon sein: planned, active," in page and "must be one of" not in page
    api = client.get(f"/api/v1/projects/{world['project']}/devices?status=bogus",
                     headers={**world["owner"], "Accept-Language": "de"}).get_json()
    assert api["error"]["message"].startswith("'status' must be one of planned, active,")


def test_a_role_refusal_is_german_on_the_form_page_and_english_in_the_api(client, world):
    world["login"]("carol")
    _german(client)
    response = client.get("/teams/acme/projects/new")
    assert response.status_code == 403
    page = html.unescape(response.get_data(as_text=True))
    assert "Deine Rolle erlaubt das nicht (inventory.write)." in page and "does not allow" not in page
    response = client.post("/api/v1/teams/acme/projects", json={"name": "Edge"},
                           headers={**world["viewer"], "Accept-Language": "de"})
    assert response.status_code == 403
    assert response.get_json()["error"]["message"] == "Your role does not allow this (inventory.write)."


def test_a_plan_refusal_is_german_on_the_form_and_english_in_the_api(app, client, world, monkeypatch):
    # Limits apply only when billing is on (with no Stripe key every team is unlimited).
    monkeypatch.setitem(app.config, "INFRATRACE", app.config["INFRATRACE"].with_changes(stripe_secret_key="sk_test"))
    monkeypatch.setitem(plans.PLAN_LIMITS, "free", {"devices": 1, "members": None})
    world["login"]("alice")
    _german(client)
    page = _new_device(client, world["project"], name="sw4")
    assert ("Der Tarif Free erlaubt 1 Geräte, und dieses Team hat 1. Ein Eigentümer des Teams kann den Tarif "
            "auf der Abrechnungsseite erweitern: http://localhost/teams/acme/billing") in page
    assert _api_error(client, world["project"], world["owner"], name="sw4") == (
        "The Free plan allows 1 devices and this team has 1. A team owner can upgrade the plan on the billing "
        "page: http://localhost/teams/acme/billing")


def test_the_doors_refusals_are_german_on_a_page_and_english_in_the_api(app):
    """The one door's own refusals (role, read-only token, unknown version, busy repository) are
    templates with params too, so a German page shows them in German."""
    from types import SimpleNamespace

    from app.services import device_door
    from app.services.errors import ServiceError
    from app.web.errors import shown

    def refusal(call) -> ServiceError:  # type: ignore[no-untyped-def]
        try:
            call()
        except ServiceError as exc:
            return exc
        raise AssertionError("no refusal")

    access = SimpleNamespace(role="viewer", team=SimpleNamespace(slug="acme"))
    viewer = device_door.Actor(None, frozenset({"read", "write"}), "web")
    read_only = device_door.Actor(None, frozenset({"read"}), "api")
    cases = [
        (refusal(lambda: device_door.authorize(viewer, access, "version.write")),
         "Your role does not allow this (version.write).", "Deine Rolle erlaubt das nicht (version.write)."),
        (refusal(lambda: device_door.authorize(read_only, access, "version.write")),
         "This token is read-only; a token with the 'write' scope is needed.", None),
        (device_door.answer(device_door.RevisionNotFound("v9")), "No such version: v9",
         "Diese Version gibt es nicht: v9"),
    ]
    for exc, english, german in cases:
        assert exc.message == english and exc.to_dict()["error"]["message"] == english
        with app.test_request_context("/", headers={"Accept-Language": "de"}):
            shown_de = shown(exc)
        assert shown_de != english, english
        if german:
            assert shown_de == german
