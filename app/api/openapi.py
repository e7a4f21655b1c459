"""GET /api/v1/openapi.json: the OpenAPI 3 document of the whole API (public).

Hand-maintained as one table of operations (the contract in the spec is fixed, so the table changes
only when a route is added). A test walks `app.url_map` and fails when a route under /api/v1 is
missing here, so the document cannot silently fall behind the code.
"""

from __future__ import annotations

import re
from typing import Any

from flask import jsonify

from app.api import bp
from app.models import DEVICE_STATUSES, PROJECT_STATUSES, TASK_STATUSES

STRING = {"type": "string"}
NULLABLE_STRING = {"type": "string", "nullable": True}
LIST_PARAMS = ["limit", "cursor"]

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": STRING, "message": STRING, "field": STRING},
            }
        },
    },
    "Object": {"type": "object", "additionalProperties": True},
    "Page": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Object"}},
            "next_cursor": NULLABLE_STRING,
        },
    },
    "TokenInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "scopes": {"type": "array", "items": {"type": "string", "enum": ["read", "write"]}},
            "expires_at": {"type": "string", "format": "date-time"},
        },
    },
    "ComplianceRuleInput": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "description": {"type": "string", "maxLength": 2000},
            "kind": {"type": "string", "enum": ["must_contain", "must_not_contain", "block_must_contain"]},
            "pattern": {"type": "string", "maxLength": 500, "description": "a regular expression"},
            "block": {"type": "string", "maxLength": 500, "description": "block parent line pattern"},
            "block_filter": {"type": "string", "maxLength": 500},
            "config_path": {"type": "string", "maxLength": 300},
            "platform": {"type": "string", "maxLength": 50},
            "tag": {"type": "string", "maxLength": 50},
            "name_pattern": {"type": "string", "maxLength": 200},
            "enabled": {"type": "boolean"},
            "scope": {"type": "string", "enum": ["project", "team"]},
        },
    },
    "TeamInput": {"type": "object", "additionalProperties": False, "required": ["name"],
                  "properties": {"name": {"type": "string", "maxLength": 100}}},
    "MemberInput": {
        "type": "object", "additionalProperties": False, "required": ["email", "role"],
        "properties": {"email": STRING, "role": {"type": "string", "enum": ["viewer", "editor", "admin", "owner"]}},
    },
    "WebhookInput": {
        "type": "object", "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "maxLength": 2000, "description": "http:// or https://, no credentials"},
            "events": {"type": "array", "minItems": 1, "items": {
                "type": "string",
                "enum": ["version.created", "device.created", "device.deleted", "device.noncompliant"]}},
            "description": {"type": "string", "maxLength": 200},
            "active": {"type": "boolean"},
        },
    },
    "WatchInput": {"type": "object", "additionalProperties": False,
                   "properties": {"mode": {"type": "string", "enum": ["each", "digest"]}}},
    "RoleInput": {"type": "object", "additionalProperties": False, "required": ["role"],
                  "properties": {"role": {"type": "string", "enum": ["viewer", "editor", "admin", "owner"]}}},
    "PasswordInput": {"type": "object", "required": ["password"], "properties": {"password": STRING}},
    "ProjectInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "slug": {"type": "string", "maxLength": 64, "pattern": "^[a-z0-9]+(?:-[a-z0-9]+)*$"},
            "description": {"type": "string", "maxLength": 10000},
            "status": {"type": "string", "enum": list(PROJECT_STATUSES)},
            "metadata": {"type": "object", "additionalProperties": True},
        },
    },
    "DeviceInput": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "vendor": {"type": "string", "maxLength": 100},
            "model": {"type": "string", "maxLength": 100},
            "serial": {"type": "string", "maxLength": 100},
            "management_ip": STRING,
            "location": {"type": "string", "maxLength": 200},
            "status": {"type": "string", "enum": list(DEVICE_STATUSES)},
        },
    },
    "Vlan": {
        "type": "object",
        "additionalProperties": False,
        "required": ["vid"],
        "properties": {
            "vid": {"type": "integer", "minimum": 1, "maximum": 4094},
            "name": {"type": "string", "maxLength": 100},
            "description": {"type": "string", "maxLength": 1000},
        },
    },
    "NetworkInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 100},
            "cidr": {"type": "string", "description": "A v4 or v6 network, host bits clear: 10.0.0.0/24"},
            "description": {"type": "string", "maxLength": 10000},
            "documentation": {"type": "string", "description": "Markdown; raw HTML is not rendered"},
            "topology_notes": STRING,
            "vlans": {"type": "array", "items": {"$ref": "#/components/schemas/Vlan"},
                      "description": "On PATCH, replaces the whole set"},
        },
    },
    "TaskInput": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "maxLength": 200},
            "description": STRING,
            "status": {"type": "string", "enum": list(TASK_STATUSES)},
            "assignee": {"type": "string", "nullable": True, "description": "username of a team member"},
            "due_date": {"type": "string", "format": "date", "nullable": True},
            "device_id": {"type": "string", "nullable": True, "description": "a device of the same project"},
        },
    },
    "CommentInput": {"type": "object", "additionalProperties": False, "required": ["body"],
                     "properties": {"body": STRING}},
    "VersionInput": {
        "type": "object",
        "required": ["message"],
        "properties": {
            "message": STRING,
            "configs": {"type": "object", "additionalProperties": {"type": "string", "nullable": True}},
            "ports": {"type": "array", "items": {"$ref": "#/components/schemas/Object"}},
            "parent": STRING,
        },
    },
    "ImportInput": {
        "type": "object",
        "additionalProperties": False,
        "required": ["versions"],
        "properties": {
            "versions": {"type": "array", "maxItems": 1000, "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["message"],
                "properties": {
                    "message": STRING,
                    "configs": {"type": "object", "additionalProperties": {"type": "string", "nullable": True}},
                    "configs_base64": {"type": "object",
                                       "additionalProperties": {"type": "string", "nullable": True}},
                    "ports": {"type": "array", "items": {"$ref": "#/components/schemas/Object"}},
                    "author_time": {"type": "string", "format": "date-time"},
                },
            }},
            "parent": STRING,
        },
    },
    "TagInput": {"type": "object", "required": ["name", "rev"],
                 "properties": {"name": STRING, "rev": STRING, "message": STRING}},
    "PhotoInput": {
        "type": "object", "required": ["file"],
        "description": "JPEG, PNG or WebP, checked by content (422 unsupported_image otherwise; 422 "
                       "image_too_large above Pillow's pixel limit; 413 above MAX_PHOTO_BYTES, 20 MiB by "
                       "default). Location data (the EXIF GPS IFD, and XMP carrying coordinates) is REMOVED "
                       "unless strip_location is false; nothing else is re-encoded. The stored bytes' sha256 "
                       "is the reference. The same bytes already at HEAD: 200 with changed=false, no new version.",
        "properties": {
            "file": {"type": "string", "format": "binary"},
            "caption": STRING,
            "strip_location": {"type": "boolean", "default": True,
                               "description": "remove location data (recommended); false keeps it"},
            "parent": {"type": "string", "description": "expected head; 409 if it moved"},
        },
    },
}

QUERY_PARAMS: dict[str, dict[str, Any]] = {
    "limit": {"description": "page size, 1-200 (default 50)", "schema": {"type": "integer", "minimum": 1,
                                                                          "maximum": 200}},
    "cursor": {"description": "opaque cursor from next_cursor", "schema": STRING},
    "cascade": {"description": "also delete the project's devices and their repositories",
                "schema": {"type": "boolean"}},
    "status": {"description": "only this status", "schema": STRING},
    "assignee": {"description": "only tasks assigned to this username", "schema": STRING},
    "q": {"description": "search text", "schema": STRING, "required": True},
    "object_type": {"description": "only events on this type of object", "schema": STRING},
    "object_id": {"description": "only events on this object", "schema": STRING},
    "path": {"description": "only commits touching this path", "schema": STRING},
    "from": {"description": "base revision", "schema": STRING, "required": True},
    "to": {"description": "target revision", "schema": STRING, "required": True},
    "rev": {"description": "a version (commit, tag or HEAD); default HEAD", "schema": STRING},
    "parent": {"description": "expected head; 409 if it moved", "schema": STRING},
    "kind": {"description": "all, names, config, address, vlan or changes", "schema": STRING},
    "regex": {"description": "q is a regular expression", "schema": {"type": "boolean"}},
    "absent": {"description": "devices whose config has no line matching q", "schema": {"type": "boolean"}},
    "at": {"description": "search each device's version as of this date or time", "schema": STRING},
    "since": {"description": "changes at or after this date or time", "schema": STRING},
    "until": {"description": "changes at or before this date or time", "schema": STRING},
    "project": {"description": "only devices of this project (id)", "schema": STRING},
    "platform": {"description": "only devices whose platform, vendor or model holds this", "schema": STRING},
    "config": {"description": "only this config (running-config or configs/running-config)", "schema": STRING},
    "tag": {"description": "only devices with this tag (custom field tags)", "schema": STRING},
    "format": {"description": "json (default) or csv", "schema": STRING},
}

# (method, path, summary, tag, request schema or None, success status, query parameters)
OPERATIONS: list[tuple[str, str, str, str, str | None, int, list[str]]] = [
    ("get", "/api/v1/openapi.json", "This OpenAPI document", "meta", None, 200, []),
    # accounts
    ("post", "/api/v1/tokens", "Create a personal access token (HTTP Basic)", "accounts", "TokenInput", 201, []),
    ("get", "/api/v1/tokens", "List your tokens (without secrets)", "accounts", None, 200, []),
    ("delete", "/api/v1/tokens/{token_id}", "Revoke a token", "accounts", None, 204, []),
    ("get", "/api/v1/me", "The caller and their teams", "accounts", None, 200, []),
    ("delete", "/api/v1/me", "Request deletion of your account", "accounts", "PasswordInput", 202, []),
    ("post", "/api/v1/export", "Start a data export", "accounts", None, 202, []),
    ("get", "/api/v1/export", "Your unexpired exports, newest first", "accounts", None, 200, []),
    ("get", "/api/v1/export/{export_id}", "Status and download_url of an export", "accounts", None, 200, []),
    ("get", "/api/v1/export/{export_id}/download", "The export's JSON document (its owner only)", "accounts",
     None, 200, []),
    ("get", "/api/v1/me/tasks", "Tasks assigned to you across teams", "tasks", None, 200,
     ["status", *LIST_PARAMS]),
    # teams
    ("get", "/api/v1/teams", "Your teams", "teams", None, 200, []),
    ("post", "/api/v1/teams", "Create a team", "teams", "TeamInput", 201, []),
    ("get", "/api/v1/teams/{slug}", "A team with plan and limits", "teams", None, 200, []),
    ("get", "/api/v1/teams/{slug}/members", "Members with roles", "teams", None, 200, []),
    ("post", "/api/v1/teams/{slug}/members", "Add a member or send an invitation", "teams", "MemberInput", 201, []),
    ("patch", "/api/v1/teams/{slug}/members/{username}", "Change a member's role", "teams", "RoleInput", 200, []),
    ("delete", "/api/v1/teams/{slug}/members/{username}", "Remove a member", "teams", None, 204, []),
    ("get", "/api/v1/teams/{slug}/search", "Search names, config lines, addresses, VLANs and changes", "search",
     None, 200, ["q", "kind", "regex", "absent", "at", "since", "until", "project", "platform", "config", "tag",
                 *LIST_PARAMS]),
    # compliance
    ("get", "/api/v1/projects/{project_id}/compliance/rules", "Compliance rules that apply to the project",
     "compliance", None, 200, []),
    ("post", "/api/v1/projects/{project_id}/compliance/rules", "Add a compliance rule", "compliance",
     "ComplianceRuleInput", 201, []),
    ("get", "/api/v1/compliance/rules/{rule_id}", "A compliance rule", "compliance", None, 200, []),
    ("patch", "/api/v1/compliance/rules/{rule_id}", "Change a compliance rule", "compliance",
     "ComplianceRuleInput", 200, []),
    ("delete", "/api/v1/compliance/rules/{rule_id}", "Delete a compliance rule", "compliance", None, 204, []),
    ("get", "/api/v1/projects/{project_id}/compliance", "Per-device compliance of a project (JSON or CSV)",
     "compliance", None, 200, ["format"]),
    ("get", "/api/v1/devices/{device_id}/compliance", "A device's compliance now and over its versions",
     "compliance", None, 200, []),
    ("get", "/api/v1/teams/{slug}/audit", "The team's audit trail (admins, owners)", "audit", None, 200,
     ["object_type", "object_id", *LIST_PARAMS]),
    # projects
    ("get", "/api/v1/teams/{slug}/projects", "List projects", "projects", None, 200, LIST_PARAMS),
    ("post", "/api/v1/teams/{slug}/projects", "Create a project", "projects", "ProjectInput", 201, []),
    ("get", "/api/v1/projects/{project_id}", "A project", "projects", None, 200, []),
    ("patch", "/api/v1/projects/{project_id}", "Update a project", "projects", "ProjectInput", 200, []),
    ("delete", "/api/v1/projects/{project_id}", "Delete a project (409 with devices unless cascade)", "projects",
     None, 204, ["cascade"]),
    # devices
    ("get", "/api/v1/projects/{project_id}/devices", "List devices", "devices", None, 200, LIST_PARAMS),
    ("post", "/api/v1/projects/{project_id}/devices", "Create a device and its repository", "devices",
     "DeviceInput", 201, []),
    ("get", "/api/v1/devices/{device_id}", "A device", "devices", None, 200, []),
    ("patch", "/api/v1/devices/{device_id}", "Update a device", "devices", "DeviceInput", 200, []),
    ("delete", "/api/v1/devices/{device_id}", "Delete a device and its repository", "devices", None, 204, []),
    # networks
    ("get", "/api/v1/projects/{project_id}/networks", "List networks", "networks", None, 200, LIST_PARAMS),
    ("post", "/api/v1/projects/{project_id}/networks", "Create a network with VLANs", "networks", "NetworkInput",
     201, []),
    ("get", "/api/v1/networks/{network_id}", "A network with its VLANs", "networks", None, 200, []),
    ("patch", "/api/v1/networks/{network_id}", "Update a network", "networks", "NetworkInput", 200, []),
    ("delete", "/api/v1/networks/{network_id}", "Delete a network", "networks", None, 204, []),
    # tasks
    ("get", "/api/v1/projects/{project_id}/tasks", "List tasks", "tasks", None, 200,
     ["status", "assignee", *LIST_PARAMS]),
    ("post", "/api/v1/projects/{project_id}/tasks", "Create a task", "tasks", "TaskInput", 201, []),
    ("get", "/api/v1/tasks/{task_id}", "A task", "tasks", None, 200, []),
    ("patch", "/api/v1/tasks/{task_id}", "Update a task", "tasks", "TaskInput", 200, []),
    ("delete", "/api/v1/tasks/{task_id}", "Delete a task", "tasks", None, 204, []),
    ("get", "/api/v1/tasks/{task_id}/comments", "List comments", "tasks", None, 200, LIST_PARAMS),
    ("post", "/api/v1/tasks/{task_id}/comments", "Comment on a task", "tasks", "CommentInput", 201, []),
    # versions (the git side)
    ("post", "/api/v1/devices/{device_id}/versions", "Commit a new version", "versions", "VersionInput", 201, []),
    ("post", "/api/v1/devices/{device_id}/versions/import",
     "Import many versions in order, all or nothing (history from Oxidized or RANCID)", "versions",
     "ImportInput", 201, []),
    ("get", "/api/v1/devices/{device_id}/versions", "History, newest first", "versions", None, 200,
     ["path", *LIST_PARAMS]),
    ("get", "/api/v1/devices/{device_id}/versions/{rev}", "A version with configs, ports, photos", "versions",
     None, 200, []),
    ("get", "/api/v1/devices/{device_id}/versions/{rev}/files/{path}", "Raw bytes of one file", "versions",
     None, 200, []),
    ("get", "/api/v1/devices/{device_id}/diff", "Compare two versions", "versions", None, 200, ["from", "to"]),
    ("post", "/api/v1/devices/{device_id}/photos", "Add a photo (location data removed by default)", "photos",
     "PhotoInput", 201, []),
    ("get", "/api/v1/devices/{device_id}/photos", "Photo references at HEAD or ?rev=", "photos", None, 200,
     ["rev"]),
    ("delete", "/api/v1/devices/{device_id}/photos/{sha256}", "Remove a photo: a new version; the bytes stay for "
     "older versions", "photos", None, 200, ["parent"]),
    ("get", "/api/v1/devices/{device_id}/photos/{sha256}", "The photo's bytes (only if this device's history "
     "references it)", "photos", None, 200, ["rev"]),
    ("get", "/api/v1/devices/{device_id}/photos/{sha256}/thumbnail", "A JPEG thumbnail, at most 320 px",
     "photos", None, 200, ["rev"]),
    ("post", "/api/v1/devices/{device_id}/tags", "Name a version", "versions", "TagInput", 201, []),
    ("get", "/api/v1/devices/{device_id}/tags", "Named versions", "versions", None, 200, []),
    ("delete", "/api/v1/devices/{device_id}/tags/{name}", "Delete a named version (admin)", "versions", None, 204,
     []),
    ("post", "/api/v1/devices/{device_id}/archive", "Archive: history stays, writes answer 409", "devices", None,
     200, []),
    ("post", "/api/v1/devices/{device_id}/unarchive", "Make an archived device writable again", "devices", None,
     200, []),
    # change notifications (signature: InfraTrace-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t." + body>)
    ("get", "/api/v1/projects/{project_id}/webhooks", "A project's webhooks (admins)", "notifications", None,
     200, []),
    ("post", "/api/v1/projects/{project_id}/webhooks", "Add a webhook; the answer holds its secret, shown once",
     "notifications", "WebhookInput", 201, []),
    ("get", "/api/v1/webhooks/{webhook_id}", "A webhook", "notifications", None, 200, []),
    ("patch", "/api/v1/webhooks/{webhook_id}", "Change a webhook", "notifications", "WebhookInput", 200, []),
    ("delete", "/api/v1/webhooks/{webhook_id}", "Delete a webhook and its delivery log", "notifications", None,
     204, []),
    ("get", "/api/v1/webhooks/{webhook_id}/deliveries", "The delivery log, newest first", "notifications", None,
     200, ["limit"]),
    ("post", "/api/v1/webhooks/{webhook_id}/test", "Send a ping event", "notifications", None, 202, []),
    ("put", "/api/v1/devices/{device_id}/watch", "Watch a device: e-mail per change or a daily digest",
     "notifications", "WatchInput", 200, []),
    ("delete", "/api/v1/devices/{device_id}/watch", "Stop watching a device", "notifications", None, 204, []),
    ("put", "/api/v1/projects/{project_id}/watch", "Watch a project", "notifications", "WatchInput", 200, []),
    ("delete", "/api/v1/projects/{project_id}/watch", "Stop watching a project", "notifications", None, 204, []),
    ("get", "/api/v1/me/watches", "What you watch", "notifications", None, 200, []),
]

ERRORS = {
    "400": "Malformed request",
    "401": "No or bad credentials",
    "403": "Seen but not allowed",
    "404": "Missing, or not visible to the caller",
    "409": "Conflict",
    "422": "Valid JSON, invalid content (the field is named)",
}

_PARAM = re.compile(r"\{([^}]+)\}")


def _operation(method: str, path: str, summary: str, tag: str, schema: str | None, status: int,
               query: list[str]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": STRING} for name in _PARAM.findall(path)
    ]
    for name in query:
        spec = QUERY_PARAMS[name]
        parameters.append({"name": name, "in": "query", "required": spec.get("required", False),
                           "description": spec["description"], "schema": spec["schema"]})
    responses: dict[str, Any] = {}
    if status == 204:
        responses["204"] = {"description": "Done; no content"}
    elif method == "get" and path.endswith(("/photos/{sha256}", "/thumbnail")):
        responses["200"] = {"description": "The image (Content-Type from the reference, nosniff, immutable)",
                            "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}}
    else:
        page = "limit" in query and "cursor" in query
        ref = "#/components/schemas/Page" if page else "#/components/schemas/Object"
        responses[str(status)] = {"description": "Success",
                                  "content": {"application/json": {"schema": {"$ref": ref}}}}
    for code, text in ERRORS.items():
        responses[code] = {"description": text, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/Error"}}}}
    op: dict[str, Any] = {
        "operationId": f"{method}_{re.sub(r'[^a-zA-Z0-9]+', '_', path[len('/api/v1/'):]).strip('_')}",
        "summary": summary,
        "tags": [tag],
        "parameters": parameters,
        "responses": responses,
    }
    if schema:
        content_type = "multipart/form-data" if schema == "PhotoInput" else "application/json"
        op["requestBody"] = {"required": True, "content": {
            content_type: {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}
    if path == "/api/v1/openapi.json":
        op["security"] = []
    elif path == "/api/v1/tokens" and method == "post":
        op["security"] = [{"basicAuth": []}]
    return op


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for method, path, summary, tag, schema, status, query in OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(method, path, summary, tag, schema, status, query)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "InfraTrace API",
            "version": "1",
            "description": "Projects, devices, networks, tasks and every version of each device's configuration. "
                           "Lists are paginated with ?limit= and an opaque ?cursor=; errors are "
                           '{"error": {"code", "message"}}.',
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "A personal access token"},
                "basicAuth": {"type": "http", "scheme": "basic"},
            },
            "schemas": SCHEMAS,
        },
    }


@bp.get("/openapi.json", endpoint="openapi")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(document())
