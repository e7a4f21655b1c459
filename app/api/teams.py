"""Teams and members: /api/v1/teams..."""

from __future__ import annotations

from flask import jsonify

from app.api import bp
from app.api.auth import api_user, via_session
from app.extensions import db
from app.http.common import iso, json_body, public_url
from app.models import Invitation, Membership
from app.services import freshness, plans, teams
from app.services.teams import TeamAccess
from app.services.validation import check_fields


def team_json(access: TeamAccess) -> dict[str, object]:
    team = access.team
    return {
        "id": team.id,
        "slug": team.slug,
        "name": team.name,
        "plan": team.plan,
        "limits": plans.limits_for(team),
        "role": access.role,
        "created_at": iso(team.created_at),
        "web_url": public_url(f"/teams/{team.slug}"),
    }


def member_json(membership: Membership) -> dict[str, object]:
    user = membership.user
    return {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "role": membership.role,
        "joined_at": iso(membership.created_at),
    }


def invitation_json(invitation: Invitation) -> dict[str, object]:
    return {
        "id": invitation.id,
        "email": invitation.email,
        "role": invitation.role,
        "status": "invited",
        "created_at": iso(invitation.created_at),
        "expires_at": iso(invitation.expires_at),
    }


@bp.post("/teams")
def create_team():  # type: ignore[no-untyped-def]
    body = json_body()
    check_fields(body, {"name"}, required=("name",))
    access = teams.create_team(api_user(), body["name"] if isinstance(body["name"], str) else "")
    db.session.commit()
    return jsonify(team_json(access)), 201


@bp.get("/teams")
def list_teams():  # type: ignore[no-untyped-def]
    user = api_user()
    items = [team_json(TeamAccess(team, role, user)) for team, role in teams.user_teams(user)]
    return jsonify({"items": items, "next_cursor": None})


@bp.get("/teams/<slug>")
def get_team(slug: str):  # type: ignore[no-untyped-def]
    access = teams.team_access(api_user(), slug)
    access.require("team.read")
    return jsonify(team_json(access))


@bp.get("/teams/<slug>/members")
def list_members(slug: str):  # type: ignore[no-untyped-def]
    access = teams.team_access(api_user(), slug)
    items = [member_json(m) for m in teams.members(access)]
    invited = []
    if access.role in ("admin", "owner"):
        invited = [invitation_json(i) for i in teams.pending_invitations(access)]
    return jsonify({"items": items, "invitations": invited, "next_cursor": None})


@bp.post("/teams/<slug>/members")
def add_member(slug: str):  # type: ignore[no-untyped-def]
    access = teams.team_access(api_user(), slug)
    body = json_body()
    check_fields(body, {"email", "role"}, required=("email", "role"))
    result = teams.add_member(access, body["email"], body["role"], public_url(""))
    db.session.commit()
    if isinstance(result, Invitation):
        return jsonify(invitation_json(result)), 202
    return jsonify(member_json(result)), 201


@bp.patch("/teams/<slug>/members/<username>")
def change_member(slug: str, username: str):  # type: ignore[no-untyped-def]
    access = teams.team_access(api_user(), slug)
    body = json_body()
    check_fields(body, {"role"}, required=("role",))
    role = body["role"] if isinstance(body["role"], str) else ""
    if via_session() and teams.touches_ownership(access, username, role):
        freshness.require_fresh()  # handing out or giving up ownership
    membership = teams.change_role(access, username, body["role"])
    db.session.commit()
    return jsonify(member_json(membership))


@bp.delete("/teams/<slug>/members/<username>")
def remove_member(slug: str, username: str):  # type: ignore[no-untyped-def]
    access = teams.team_access(api_user(), slug)
    teams.remove_member(access, username)
    db.session.commit()
    return "", 204
