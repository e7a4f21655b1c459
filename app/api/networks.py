"""Networks and VLANs: /api/v1/projects/<id>/networks and /api/v1/networks/<id>."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from app.api import bp
from app.api.auth import api_user
from app.extensions import db
from app.http.common import iso, json_body, paginate, public_url
from app.models import Network
from app.services import access, networks
from app.services.markdown import render_markdown


def network_json(network: Network) -> dict[str, Any]:
    return {
        "id": network.id,
        "project_id": network.project_id,
        "name": network.name,
        "cidr": network.cidr,
        "family": 6 if ":" in network.cidr else 4,
        "description": network.description,
        "documentation": network.documentation,
        "documentation_html": str(render_markdown(network.documentation)),
        "topology_notes": network.topology_notes,
        "vlans": [{"id": v.id, "vid": v.vid, "name": v.name, "description": v.description} for v in network.vlans],
        "created_at": iso(network.created_at),
        "updated_at": iso(network.updated_at),
        "web_url": public_url(f"/networks/{network.id}"),
    }


@bp.get("/projects/<project_id>/networks")
def list_networks(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(api_user(), project_id)
    return jsonify(paginate(networks.list_query(team, project), (Network.name, Network.id), network_json))


@bp.post("/projects/<project_id>/networks")
def create_network(project_id: str):  # type: ignore[no-untyped-def]
    project, team = access.project_access(api_user(), project_id)
    network = networks.create_network(team, project, json_body())
    db.session.commit()
    return jsonify(network_json(network)), 201


@bp.get("/networks/<network_id>")
def get_network(network_id: str):  # type: ignore[no-untyped-def]
    network, team = access.network_access(api_user(), network_id)
    team.require("inventory.read")
    return jsonify(network_json(network))


@bp.patch("/networks/<network_id>")
def update_network(network_id: str):  # type: ignore[no-untyped-def]
    network, team = access.network_access(api_user(), network_id)
    networks.update_network(team, network, json_body())
    db.session.commit()
    return jsonify(network_json(network))


@bp.delete("/networks/<network_id>")
def delete_network(network_id: str):  # type: ignore[no-untyped-def]
    network, team = access.network_access(api_user(), network_id)
    networks.delete_network(team, network)
    db.session.commit()
    return "", 204
