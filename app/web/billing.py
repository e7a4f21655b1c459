"""Billing pages (owners only) and the Stripe webhook endpoint; thin over app/services/billing.py.

Upgrading and managing the subscription need a fresh login (`app.web.fresh.require_fresh_login`: a
session restored from the remember cookie, or whose password is older than FRESH_LOGIN_MINUTES, is
sent to /reauth first).
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from app.extensions import csrf, db
from app.http.errors import html_error
from app.services import billing, plans, teams
from app.services.errors import NotFound, ServiceError
from app.web.errors import shown
from app.web.forms import BillingTeamForm, CheckoutForm
from app.web.fresh import require_fresh_login

bp = Blueprint("billing", __name__)


def _access(slug: object) -> teams.TeamAccess:
    if not isinstance(slug, str) or not slug:
        abort(404)
    try:
        return teams.team_access(current_user._get_current_object(), slug)
    except NotFound:
        abort(404)


def _billing_url(slug: str) -> str:
    return f"{current_app.config['INFRATRACE'].public_url}/teams/{slug}/billing"


@bp.get("/teams/<slug>/billing")
@login_required
def billing_page(slug: str):  # type: ignore[no-untyped-def]
    access = _access(slug)
    if not plans.billing_enabled():
        return render_template("teams/billing_off.html", access=access)
    try:
        state = billing.status(access)
    except ServiceError as exc:
        return html_error(exc.status, gettext("Billing"), shown(exc))
    history, history_error = [], None
    try:
        history = billing.invoices(access)
    except ServiceError as exc:
        history_error = shown(exc)
    outcome = request.args.get("checkout")
    if outcome == "success":
        flash(gettext("Thank you: the plan changes as soon as Stripe confirms the payment."), "success")
    elif outcome == "canceled":
        flash(gettext("Checkout was canceled; nothing was charged."), "info")
    return render_template(
        "teams/billing.html", access=access, state=state, history=history, history_error=history_error,
        limits_table=plans.PLAN_LIMITS, titles=plans.PLAN_TITLES, paid_plans=plans.PAID_PLANS,
        for_sale=[plan for plan in plans.PAID_PLANS if state.prices[plan]],
        checkout_form=CheckoutForm(formdata=None, team=slug), portal_form=BillingTeamForm(formdata=None, team=slug),
    )


def _action(form_class, start):  # type: ignore[no-untyped-def]
    """Shared by checkout and portal: form + CSRF, owner check, Stripe call, redirect."""
    form = form_class()
    slug = request.form.get("team")
    access = _access(slug)
    if not plans.billing_enabled():
        abort(404)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(url_for("billing.billing_page", slug=access.team.slug))
    try:
        url = start(access, form, _billing_url(access.team.slug))
    except ServiceError as exc:
        db.session.rollback()
        if exc.status == 403:
            return html_error(403, gettext("Billing"), gettext("Only the team's owners manage billing."))
        flash(shown(exc), "error")
        return redirect(url_for("billing.billing_page", slug=access.team.slug))
    return redirect(url, code=303)


@bp.post("/billing/checkout")
@login_required
@require_fresh_login
def checkout():  # type: ignore[no-untyped-def]
    return _action(CheckoutForm, lambda access, form, back: billing.start_checkout(access, form.plan.data, back))


@bp.post("/billing/portal")
@login_required
@require_fresh_login
def portal():  # type: ignore[no-untyped-def]
    return _action(BillingTeamForm, lambda access, form, back: billing.portal_url(access, back))


@bp.post("/stripe/webhook")
@csrf.exempt
def stripe_webhook():  # type: ignore[no-untyped-def]
    """Stripe's deliveries: 200 once the event is durably recorded (or was already); 400 when the
    signature does not verify, so nothing unsigned changes anything."""
    try:
        event = billing.verify_webhook(request.get_data(cache=False), request.headers.get("Stripe-Signature"))
        outcome = billing.handle_event(event)
    except ServiceError as exc:
        db.session.rollback()
        return jsonify(exc.to_dict()), exc.status
    return jsonify({"received": True, "outcome": outcome}), 200
