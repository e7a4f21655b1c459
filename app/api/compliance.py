"""Compliance rules and results: /api/v1/projects/<id>/compliance[/rules], /api/v1/compliance/rules/<id>,
/api/v1/devices/<id>/compliance."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, request

from app.api import bp
from app.api.auth import api_user
from app.api.search import device_summary
from app.http.common import iso, json_body, public_url
from app.models import ComplianceResult, ComplianceRule
from app.services import compliance
from app.services.errors import ValidationError


def rule_json(rule: ComplianceRule) -> dict[str, Any]:
    data = compliance.rule_json(rule)
    data["created_at"] = iso(rule.created_at)
    data["updated_at"] = iso(rule.updated_at)
    return data


def result_json(result: ComplianceResult | None) -> dict[str, Any]:
    data = compliance.result_json(result)
    data["evaluated_at"] = iso(result.evaluated_at) if result else None
    return data


@bp.get("/projects/<project_id>/compliance/rules")
def list_compliance_rules(project_id: str):  # type: ignore[no-untyped-def]
    _, rules = compliance.list_rules(api_user(), project_id)
    return jsonify({"items": [rule_json(r) for r in rules], "next_cursor": None})


@bp.post("/projects/<project_id>/compliance/rules")
def create_compliance_rule(project_id: str):  # type: ignore[no-untyped-def]
    rule = compliance.create_rule(api_user(), project_id, json_body())
    return jsonify(rule_json(rule)), 201


@bp.get("/compliance/rules/<rule_id>")
def get_compliance_rule(rule_id: str):  # type: ignore[no-untyped-def]
    return jsonify(rule_json(compliance.get_rule(api_user(), rule_id)))


@bp.patch("/compliance/rules/<rule_id>")
def update_compliance_rule(rule_id: str):  # type: ignore[no-untyped-def]
    return jsonify(rule_json(compliance.update_rule(api_user(), rule_id, json_body())))


@bp.delete("/compliance/rules/<rule_id>")
def delete_compliance_rule(rule_id: str):  # type: ignore[no-untyped-def]
    compliance.delete_rule(api_user(), rule_id)
    return "", 204


@bp.get("/projects/<project_id>/compliance")
def project_compliance(project_id: str):  # type: ignore[no-untyped-def]
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        raise ValidationError("'format' must be json or csv.", field="format", code="invalid_choice")
    project, rows = compliance.project_report(api_user(), project_id)
    if fmt == "csv":
        return Response(compliance.report_csv(rows), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="compliance-{project.slug}.csv"'})
    counts: dict[str, int] = {}
    for _, result in rows:
        status = result.status if result else "unknown"
        counts[status] = counts.get(status, 0) + 1
    return jsonify({
        "project": project.id,
        "summary": counts,
        "devices": [{"device": device_summary(d), **result_json(r)} for d, r in rows],
        "web_url": public_url(f"/projects/{project.id}/compliance"),
    })


@bp.get("/devices/<device_id>/compliance")
def device_compliance(device_id: str):  # type: ignore[no-untyped-def]
    device, history = compliance.device_history(api_user(), device_id)
    current = next((r for r in history if r.current), None)
    return jsonify({
        "device": device_summary(device),
        "current": result_json(current),
        "history": [result_json(r) for r in history],
    })
