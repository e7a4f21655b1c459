"""The preference cookie (theme, language: one year, SameSite=Lax) next to the essential session."""

from __future__ import annotations

from tests.client_support import csrf_from


def _set_cookie_header(response, name: str) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(name + "=")]
    assert len(headers) == 1, response.headers.getlist("Set-Cookie")
    return headers[0]


def test_preference_cookie_attributes_and_effect(client, make_user, login):
    make_user("pat")
    login("pat")
    page = client.get("/settings/privacy").get_data(as_text=True)
    assert 'data-theme="light"' in page and '<html lang="en"' in page
    response = client.post("/settings/preferences", data={"csrf_token": csrf_from(page),
                                                           "pref-theme": "dark", "pref-language": "de"})
    assert response.status_code == 302
    header = _set_cookie_header(response, "infratrace_prefs")
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")}
    assert header.startswith("infratrace_prefs=dark.de;")
    assert attributes["max-age"] == f"Max-Age={365 * 24 * 3600}"
    assert attributes["samesite"] == "SameSite=Lax" and attributes["path"] == "Path=/"
    assert "httponly" in attributes and "expires" in attributes
    page = client.get("/settings/privacy").get_data(as_text=True)
    assert 'data-theme="dark"' in page and '<html lang="de"' in page


def test_preferences_need_csrf_and_known_values(client):
    page = client.get("/login").get_data(as_text=True)
    assert client.post("/settings/preferences", data={"pref-theme": "dark", "pref-language": "en"}).status_code == 400
    response = client.post("/settings/preferences", data={"csrf_token": csrf_from(page), "pref-theme": "neon",
                                                          "pref-language": "en"})
    assert response.status_code == 302
    assert not [h for h in response.headers.getlist("Set-Cookie") if h.startswith("infratrace_prefs=")]
    # A tampered cookie falls back to the defaults.
    client.set_cookie("infratrace_prefs", "<script>.xx")
    page = client.get("/login").get_data(as_text=True)
    assert 'data-theme="light"' in page and '<html lang="en"' in page


def test_visitors_may_set_preferences_and_only_two_cookies_exist(client, make_user, login):
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/settings/preferences", data={"csrf_token": csrf_from(page), "pref-theme": "dark",
                                                          "pref-language": "de"})
    assert _set_cookie_header(response, "infratrace_prefs").startswith("infratrace_prefs=dark.de;")
    make_user("quinn")
    login("quinn")
    names = {cookie.key for cookie in client._cookies.values()}
    assert names == {"session", "infratrace_prefs"}
