"""Networks and their VLANs, project-owned; documentation is Markdown rendered safely elsewhere."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy import Select, select

from app.extensions import db
from app.models import Network, Project, Vlan, utcnow
from app.services import audit
from app.services.errors import ValidationError
from app.services.inventory_fields import text_field
from app.services.teams import TeamAccess
from app.services.validation import check_fields, name_field

NETWORK_FIELDS = ("name", "cidr", "description", "documentation", "topology_notes", "vlans")
VLAN_FIELDS = ("vid", "name", "description")
NAME_MAX = 100
DESCRIPTION_MAX = 10_000
DOCUMENTATION_MAX = 200_000
TOPOLOGY_MAX = 50_000
VLAN_DESCRIPTION_MAX = 1_000
MAX_VLANS = 4094


def snapshot(network: Network) -> dict[str, Any]:
    return {
        "name": network.name,
        "cidr": network.cidr,
        "description": network.description,
        "documentation": network.documentation,
        "topology_notes": network.topology_notes,
        "vlans": [{"vid": v.vid, "name": v.name, "description": v.description} for v in network.vlans],
    }


def list_query(access: TeamAccess, project: Project) -> Select:
    access.require("inventory.read")
    return select(Network).where(Network.project_id == project.id)


def parse_cidr(value: Any) -> str:
    """The canonical text of a v4 or v6 network; host bits set is refused, not silently masked."""
    if value is not None and not isinstance(value, str):
        raise ValidationError("'cidr' must be a string such as 10.0.0.0/24 or 2001:db8::/48.", field="cidr",
                              code="wrong_type")
    if not value or not value.strip():
        raise ValidationError("'cidr' is required, e.g. 10.0.0.0/24 or 2001:db8::/48.", field="cidr",
                              code="required")
    text = value.strip()
    if len(text) > 50:
        raise ValidationError("'cidr' must be at most 50 characters.", field="cidr", code="too_long")
    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        raise ValidationError(
            "'cidr' is not a valid network (%(reason)s); give the network address and prefix, "
            "e.g. 10.0.0.0/24 or 2001:db8::/48.",
            params={"reason": str(exc)},
            field="cidr",
            code="invalid_cidr",
        ) from None


def parse_vlans(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise ValidationError("'vlans' must be a list of {\"vid\", \"name\", \"description\"}.", field="vlans",
                              code="wrong_type")
    if len(value) > MAX_VLANS:
        raise ValidationError("'vlans' may hold at most %(limit)s entries.", field="vlans", code="too_long",
                              params={"limit": MAX_VLANS})
    seen: set[int] = set()
    vlans = []
    for index, item in enumerate(value):
        where = f"vlans[{index}]"
        if not isinstance(item, dict):
            raise ValidationError("'%(where)s' must be an object.", field=where, code="wrong_type",
                                  params={"where": where})
        for key in item:
            if key not in VLAN_FIELDS:
                raise ValidationError("Unknown field '%(field)s'.", field=f"{where}.{key}", code="unknown_field",
                                      params={"field": f"{where}.{key}"})
        vid = item.get("vid")
        if isinstance(vid, bool) or not isinstance(vid, int) or not 1 <= vid <= 4094:
            raise ValidationError("'%(where)s.vid' must be a whole number from 1 to 4094.", field=f"{where}.vid",
                                  code="invalid_vid", params={"where": where})
        if vid in seen:
            raise ValidationError("VLAN %(vid)s is listed twice; a VLAN id is unique in a network.",
                                  field=f"{where}.vid", code="duplicate_vid", params={"vid": vid})
        seen.add(vid)
        try:
            name = name_field(item, "name", max_length=NAME_MAX, required=False)
            description = text_field(item, "description", max_length=VLAN_DESCRIPTION_MAX)
        except ValidationError as exc:
            if exc.params.get("field") == exc.field:  # the template names the field: keep it translatable
                raise ValidationError(exc.template, field=f"{where}.{exc.field}", code=exc.code,
                                      params={**exc.params, "field": f"{where}.{exc.field}"}) from None
            raise ValidationError(exc.message.replace(f"'{exc.field}'", f"'{where}.{exc.field}'"),
                                  field=f"{where}.{exc.field}", code=exc.code) from None
        vlans.append({"vid": vid, "name": name, "description": description})
    return sorted(vlans, key=lambda v: v["vid"])


def _apply(network: Network, body: dict[str, Any]) -> None:
    if "name" in body:
        network.name = name_field(body, "name", max_length=NAME_MAX)
    if "cidr" in body:
        network.cidr = parse_cidr(body["cidr"])
    if "description" in body:
        network.description = text_field(body, "description", max_length=DESCRIPTION_MAX)
    if "documentation" in body:
        network.documentation = text_field(body, "documentation", max_length=DOCUMENTATION_MAX)
    if "topology_notes" in body:
        network.topology_notes = text_field(body, "topology_notes", max_length=TOPOLOGY_MAX)


def _replace_vlans(network: Network, vlans: list[dict[str, Any]]) -> None:
    """Keeps the rows of VLANs that stay (by vid), so their ids survive an edit."""
    current = {vlan.vid: vlan for vlan in network.vlans}
    wanted = {item["vid"] for item in vlans}
    for vid, vlan in current.items():
        if vid not in wanted:
            network.vlans.remove(vlan)
    # The removals must reach the database before a re-added vid could collide with them.
    db.session.flush()
    for item in vlans:
        vlan = current.get(item["vid"])
        if vlan is None:
            network.vlans.append(Vlan(vid=item["vid"], name=item["name"], description=item["description"]))
        else:
            vlan.name, vlan.description = item["name"], item["description"]
    network.vlans.sort(key=lambda v: v.vid)


def create_network(access: TeamAccess, project: Project, body: dict[str, Any]) -> Network:
    access.require("inventory.write")
    check_fields(body, NETWORK_FIELDS, required=("name", "cidr"))
    vlans = parse_vlans(body["vlans"]) if body.get("vlans") is not None else []
    network = Network(team_id=project.team_id, project_id=project.id, name="", cidr="",
                      created_by_id=access.user.id, vlans=[])
    _apply(network, body)
    network.vlans = [Vlan(**item) for item in vlans]
    db.session.add(network)
    db.session.flush()
    audit.record(project.team_id, access.user, "create", "network", network.id,
                 audit.diff_fields({}, snapshot(network)))
    return network


def update_network(access: TeamAccess, network: Network, body: dict[str, Any]) -> Network:
    """Partial update; `vlans`, when given, replaces the whole set."""
    access.require("inventory.write")
    check_fields(body, NETWORK_FIELDS)
    for key in ("name", "cidr"):
        if key in body and body[key] in (None, ""):
            raise ValidationError("'%(field)s' is required.", field=key, code="required", params={"field": key})
    vlans = parse_vlans(body["vlans"]) if "vlans" in body else None
    before = snapshot(network)
    _apply(network, body)
    if vlans is not None:
        _replace_vlans(network, vlans)
    changes = audit.diff_fields(before, snapshot(network))
    if changes:
        network.updated_at = utcnow()  # a VLAN-only edit touches no column of the network itself
        db.session.flush()
        audit.record(network.team_id, access.user, "update", "network", network.id, changes)
    return network


def delete_network(access: TeamAccess, network: Network) -> None:
    access.require("inventory.delete")
    audit.record(network.team_id, access.user, "delete", "network", network.id,
                 audit.diff_fields(snapshot(network), {}))
    db.session.delete(network)
    db.session.flush()
