"""GET /api/v1/me tells git users their pseudonym; the OpenAPI document lists every accepted field."""

from __future__ import annotations

import pytest

from app.githttp.prereceive import PSEUDONYM
from app.services import devices, intake, networks, photos, projects, tasks, versions
from tests.client_support import bearer


def test_me_gives_the_pseudonym_and_the_exact_git_config_lines(client, make_user, token_for):
    user_id, _ = make_user("gitter")
    body = client.get("/api/v1/me", headers=bearer(token_for(user_id, ("read",)))).get_json()
    name, email = body["git_identity"]["name"], body["git_identity"]["email"]
    assert name.startswith("user-") and email == f"{name}@users.noreply.infratrace"
    assert "gitter" not in name and "example.com" not in email
    assert body["git_config"] == [f"git config user.name {name}", f"git config user.email {email}"]
    # The identity the push check accepts.
    assert PSEUDONYM.fullmatch(f"{name} <{email}>")


@pytest.mark.parametrize(("schema", "fields"), [
    ("VersionInput", versions.WRITE_FIELDS),
    ("ImportInput", versions.IMPORT_FIELDS),
    ("ImportVersion", versions.IMPORT_VERSION_FIELDS),
    ("DeviceInput", devices.UPDATE_FIELDS),
    ("ProjectInput", projects.PROJECT_FIELDS),
    ("NetworkInput", networks.NETWORK_FIELDS),
    ("TaskInput", tasks.TASK_FIELDS),
    ("CommentInput", tasks.COMMENT_FIELDS),
    ("PhotoInput", photos.UPLOAD_FIELDS),
    ("RulesInput", intake.SETTINGS_FIELDS),
    ("PreviewInput", intake.PREVIEW_FIELDS),
    ("OxidizedInput", intake.OXIDIZED_FIELDS),
])
def test_every_field_a_validator_accepts_is_documented(client, schema, fields):
    document = client.get("/api/v1/openapi.json").get_json()
    assert set(document["components"]["schemas"][schema]["properties"]) == set(fields)


def test_configs_base64_is_documented_where_the_api_takes_it(client):
    schemas = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]
    assert "configs_base64" in schemas["VersionInput"]["properties"]
    assert "configs_base64" in schemas["ImportVersion"]["properties"]
    assert schemas["ImportInput"]["properties"]["versions"]["items"] == {"$ref": "#/components/schemas/ImportVersion"}


def test_a_field_without_a_description_fails_the_build():
    from app.api.openapi import VERSION_SPECS, from_fields

    with pytest.raises(KeyError, match="no description"):
        from_fields({*versions.WRITE_FIELDS, "surprise"}, VERSION_SPECS)
