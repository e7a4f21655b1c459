"""Billing with Stripe: Checkout, the customer portal, invoices, webhooks, reconcile, cancellation.

Card data never reaches us: Checkout and the customer portal are Stripe's pages. We keep one
Stripe customer per team and what Stripe says about its subscription (`Team.plan`,
`subscription_status`, ...). Three rules hold that state true:

* Exactly once: a webhook event's id is inserted (primary key) in the same transaction as its
  effect; a duplicate delivery, even a concurrent one, fails that insert and changes nothing.
* Never backwards: each state carries the time it was true at Stripe (`subscription_state_at`,
  the event's `created` or the time of a re-read); an older event about the same subscription is
  ignored, a canceled subscription never comes back, and a tie is settled by re-reading the
  subscription from Stripe in a job.
* Repair: `reconcile` (daily job, `infratrace billing-sync`) re-reads every paying team's
  subscription from Stripe, for events missed while the service was down.

With no STRIPE_SECRET_KEY billing is off: nothing here is reachable and every team is unlimited
(app/services/plans.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import stripe
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import CheckoutAttempt, Membership, StripeEvent, Team, User, utcnow
from app.services import job_queue, plans
from app.services.errors import BadRequest, Conflict, ServiceError, ValidationError
from app.services.mail import in_language_of, send_mail

if TYPE_CHECKING:  # teams calls billing when a team is deleted; billing only names the type
    from app.services.teams import TeamAccess

log = logging.getLogger(__name__)

GRACE_PERIOD = timedelta(days=7)
# Stripe keeps an idempotency key 24 hours and a Checkout Session lives 24 hours: an attempt is
# reused (same key, so the same session) for a little less than that, then a new one starts.
ATTEMPT_REUSE = timedelta(hours=23)
# Subscription statuses that keep the paid plan (past_due: Stripe is still retrying the card).
LIVE = frozenset({"active", "trialing", "past_due"})
# Statuses a subscription never leaves.
TERMINAL = frozenset({"canceled", "incomplete_expired"})
HANDLED = frozenset({
    "checkout.session.completed",
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
})


class StripeUnavailable(ServiceError):
    status, code = 502, "stripe_unavailable"


class BillingOff(ServiceError):
    status, code = 404, "billing_off"


def require_enabled() -> None:
    if not plans.billing_enabled():
        raise BillingOff("Billing is off on this server: every team is unlimited.")


def client() -> stripe.StripeClient:
    """One client per app, pointed at STRIPE_API_BASE when set (tests use a local stand-in)."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("infratrace_stripe")
    if found is None:
        config = app.config["INFRATRACE"]
        require_enabled()
        bases: dict[str, str] = {}
        if config.stripe_api_base:
            bases = {"api": config.stripe_api_base.rstrip("/")}
        # One library retry on network errors and 5xx, with the same idempotency key.
        found = stripe.StripeClient(config.stripe_secret_key, base_addresses=bases,  # type: ignore[arg-type]
                                    max_network_retries=1)
        app.extensions["infratrace_stripe"] = found
    return found


def _call(what: str, func: Any, *args: Any, **kwargs: Any) -> Any:
    """A Stripe call; its failures become one clear error (never a 500 page)."""
    try:
        return func(*args, **kwargs)
    except stripe.StripeError as exc:
        log.warning("stripe %s failed: %s", what, exc)
        raise StripeUnavailable(f"Stripe did not answer as expected ({what}); nothing was charged. "
                                "Please try again in a moment.") from None


def _dict(obj: Any) -> dict[str, Any]:
    """A Stripe object as plain JSON data (what a webhook payload also gives us)."""
    if isinstance(obj, dict) and not isinstance(obj, stripe.StripeObject):
        return obj
    return json.loads(str(obj)) if obj is not None else {}


def _ts(value: Any) -> datetime | None:
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _owner_access(access: TeamAccess) -> Team:
    access.require("team.billing")
    require_enabled()
    return access.team


# -- the owner's side: status, checkout, portal, invoices ------------------------------------------


@dataclass
class BillingStatus:
    plan: str
    limits: dict[str, int | None]
    usage: plans.Usage
    status: str | None
    current_period_end: datetime | None
    cancel_at_period_end: bool
    payment_failed_at: datetime | None
    grace_until: datetime | None
    has_customer: bool
    prices: dict[str, bool]


def status(access: TeamAccess) -> BillingStatus:
    team = _owner_access(access)
    return BillingStatus(
        plan=plans.effective_plan(team),
        limits=plans.limits_for(team),
        usage=plans.usage(team),
        status=team.subscription_status,
        current_period_end=team.current_period_end,
        cancel_at_period_end=team.cancel_at_period_end,
        payment_failed_at=team.payment_failed_at,
        grace_until=team.grace_until,
        has_customer=team.stripe_customer_id is not None,
        prices={plan: plans.price_id(plan) is not None for plan in plans.PAID_PLANS},
    )


def _ensure_customer(team: Team) -> str:
    """The team's one Stripe customer, created on first need. The idempotency key is the team's
    id, so two first checkouts at once still make one customer."""
    if team.stripe_customer_id:
        return team.stripe_customer_id
    customer = _call("create customer", client().v1.customers.create,
                     {"name": team.name, "metadata": {"team": team.slug, "team_id": team.id}},
                     {"idempotency_key": f"infratrace-customer-{team.id}"})
    team.stripe_customer_id = customer.id
    db.session.commit()
    return customer.id


def _attempt(team: Team, plan: str, user: User) -> CheckoutAttempt:
    """The open attempt for this plan, or a new one, committed before Stripe is called."""
    attempt = db.session.scalar(
        select(CheckoutAttempt).where(
            CheckoutAttempt.team_id == team.id,
            CheckoutAttempt.plan == plan,
            CheckoutAttempt.completed_at.is_(None),
            CheckoutAttempt.created_at > utcnow() - ATTEMPT_REUSE,
        ).order_by(CheckoutAttempt.created_at.desc())
    )
    if attempt is None:
        attempt = CheckoutAttempt(team_id=team.id, plan=plan, created_by_id=user.id,
                                  idempotency_key=f"infratrace-checkout-{uuid.uuid4().hex}")
        db.session.add(attempt)
        db.session.commit()
    return attempt


def start_checkout(access: TeamAccess, plan: object, billing_url: str) -> str:
    """A Checkout Session in subscription mode for `plan`; returns the URL to send the owner to."""
    team = _owner_access(access)
    if plan not in plans.PAID_PLANS:
        raise ValidationError("'plan' must be one of: %(choices)s.", field="plan",
                              code="invalid_choice", params={"choices": ", ".join(plans.PAID_PLANS)})
    price = plans.price_id(plan)  # type: ignore[arg-type]
    if price is None:
        raise ValidationError("The %(plan)s plan is not for sale on this server (no price configured).",
                              field="plan", code="not_for_sale", params={"plan": plan})
    if team.subscription_status in LIVE:
        raise Conflict("This team already has a subscription: change or cancel it with "
                       "'Manage subscription'.", code="already_subscribed")
    customer = _ensure_customer(team)
    attempt = _attempt(team, plan, access.user)  # type: ignore[arg-type]
    metadata = {"team": team.slug, "plan": plan}
    session = _call("create checkout session", client().v1.checkout.sessions.create, {
        "mode": "subscription",
        "customer": customer,
        "client_reference_id": team.slug,
        "line_items": [{"price": price, "quantity": 1}],
        "metadata": metadata,
        "subscription_data": {"metadata": metadata},
        "success_url": f"{billing_url}?checkout=success",
        "cancel_url": f"{billing_url}?checkout=canceled",
    }, {"idempotency_key": attempt.idempotency_key})
    attempt.session_id = session.id
    attempt.url = session.url
    db.session.commit()
    if not session.url:
        raise StripeUnavailable("Stripe returned no checkout page; please try again.")
    return session.url


def portal_url(access: TeamAccess, billing_url: str) -> str:
    """A customer-portal session: change plan, card, cancel; Stripe's page, our webhook follows."""
    team = _owner_access(access)
    if not team.stripe_customer_id:
        raise Conflict("This team has no billing account yet: choose a plan first.", code="no_customer")
    session = _call("create portal session", client().v1.billing_portal.sessions.create,
                    {"customer": team.stripe_customer_id, "return_url": billing_url})
    return session.url


@dataclass
class InvoiceLine:
    created: datetime | None
    amount: int
    currency: str
    status: str
    url: str | None
    number: str | None


def invoices(access: TeamAccess, limit: int = 24) -> list[InvoiceLine]:
    """Billing history, read from Stripe (the record of what was charged)."""
    team = _owner_access(access)
    if not team.stripe_customer_id:
        return []
    page = _call("list invoices", client().v1.invoices.list, {"customer": team.stripe_customer_id, "limit": limit})
    lines = []
    for item in (_dict(page).get("data") or []):
        lines.append(InvoiceLine(
            created=_ts(item.get("created")),
            amount=int(item.get("amount_paid") or item.get("total") or item.get("amount_due") or 0),
            currency=str(item.get("currency") or "").upper(),
            status=str(item.get("status") or ""),
            url=item.get("hosted_invoice_url") or None,
            number=item.get("number"),
        ))
    return lines


def payment_problem_teams(user: User) -> list[Team]:
    """Teams this user owns whose last payment failed (the banner)."""
    if not plans.billing_enabled():
        return []
    return list(db.session.scalars(
        select(Team).join(Membership, Membership.team_id == Team.id)
        .where(Membership.user_id == user.id, Membership.role == "owner", Team.payment_failed_at.is_not(None))
        .order_by(Team.name)
    ))


# -- webhooks --------------------------------------------------------------------------------------


def verify_webhook(payload: bytes, signature: str | None) -> dict[str, Any]:
    """The event, if the Stripe library accepts the signature with one of the configured secrets
    (several, comma-separated, while a secret is being rotated), default tolerance (5 minutes)."""
    secrets = [s.strip() for s in (current_app.config["INFRATRACE"].stripe_webhook_secret or "").split(",")
               if s.strip()]
    if not secrets:
        raise BillingOff("Stripe webhooks are not configured on this server (STRIPE_WEBHOOK_SECRET).")
    if not signature:
        raise BadRequest("Missing Stripe-Signature header.", code="bad_signature")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8.", code="bad_signature") from None
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(text, signature, secret, stripe.Webhook.DEFAULT_TOLERANCE)
            break
        except stripe.SignatureVerificationError:
            continue
    else:
        raise BadRequest("The Stripe signature does not verify.", code="bad_signature")
    try:
        event = json.loads(text)
    except ValueError:
        raise BadRequest("The body is not JSON.", code="malformed") from None
    data = event.get("data") if isinstance(event, dict) else None
    if (not isinstance(data, dict) or not isinstance(data.get("object"), dict)
            or not _is_text(event.get("id")) or not _is_text(event.get("type")) or _ts(event.get("created")) is None):
        raise BadRequest("Not a Stripe event.", code="malformed")
    return event


def _is_text(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 255 and "\x00" not in value


def handle_event(event: dict[str, Any]) -> str:
    """Record the event and apply its effect in one transaction, committed before we answer.

    Returns "applied", "ignored" or "duplicate". An exception leaves nothing recorded, so the
    answer is 5xx and Stripe delivers the event again.
    """
    db.session.rollback()  # start clean: the insert below must be in the effect's own transaction
    created = _ts(event["created"])
    record = StripeEvent(id=event["id"], type=event["type"][:100], created_at=created)
    db.session.add(record)
    try:
        db.session.flush()
    except IntegrityError:
        # Already applied (or being applied right now: PostgreSQL made us wait for that commit).
        db.session.rollback()
        return "duplicate"
    obj = event["data"]["object"]
    if event["type"] not in HANDLED:
        record.outcome = "ignored: type not handled"
        db.session.commit()
        return "ignored"
    team = _team_for(obj, event["type"])
    if team is None:
        record.outcome = "ignored: no team for this object"
        db.session.commit()
        return "ignored"
    # Events about one team are applied one at a time (the row lock), in the order they commit.
    db.session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
    db.session.refresh(team)
    record.team_id = team.id
    kind = event["type"]
    if kind == "checkout.session.completed":
        record.outcome = _checkout_completed(team, obj)
    elif kind.startswith("customer.subscription."):
        record.outcome = apply_subscription(team, obj, created)  # type: ignore[arg-type]
    elif kind == "invoice.paid":
        record.outcome = _invoice_paid(team, obj, created)  # type: ignore[arg-type]
    else:
        record.outcome = _invoice_failed(team, obj, created)  # type: ignore[arg-type]
    db.session.commit()
    return "applied" if record.outcome.startswith("applied") else "ignored"


def _team_for(obj: dict[str, Any], kind: str) -> Team | None:
    """The customer id first (it is ours once stored), then the team slug we put on the object."""
    customer = obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    if isinstance(customer, str) and customer:
        team = db.session.scalar(select(Team).where(Team.stripe_customer_id == customer))
        if team is not None:
            return team
    slugs = [(obj.get("metadata") or {}).get("team")]
    if kind == "checkout.session.completed":
        slugs.insert(0, obj.get("client_reference_id"))
    for slug in slugs:
        if isinstance(slug, str) and slug:
            team = db.session.scalar(select(Team).where(Team.slug == slug))
            if team is not None:
                if team.stripe_customer_id is None and isinstance(customer, str) and customer:
                    team.stripe_customer_id = customer
                return team
    return None


def _checkout_completed(team: Team, session: dict[str, Any]) -> str:
    attempt = None
    if isinstance(session.get("id"), str):
        attempt = db.session.scalar(select(CheckoutAttempt).where(CheckoutAttempt.session_id == session["id"]))
    if attempt is not None and attempt.completed_at is None:
        attempt.completed_at = utcnow()
    subscription = session.get("subscription")
    if isinstance(subscription, dict):
        subscription = subscription.get("id")
    if not isinstance(subscription, str) or not subscription:
        return "ignored: no subscription on the session"
    if team.stripe_subscription_id == subscription:
        # The subscription's own events already told us its state (they may arrive first).
        return "applied: subscription already known"
    if team.subscription_status in LIVE:
        return "ignored: the team follows another live subscription"
    if session.get("payment_status") not in ("paid", "no_payment_required"):
        team.stripe_subscription_id = subscription
        team.subscription_status = "incomplete"
        team.subscription_state_at = None
        return "applied: waiting for payment"
    plan = (session.get("metadata") or {}).get("plan") or (attempt.plan if attempt else None)
    team.stripe_subscription_id = subscription
    team.subscription_status = "active"
    # No time of its own for the subscription: its next event, whatever its time, is newer news.
    team.subscription_state_at = None
    if plan in plans.PAID_PLANS:
        team.plan = plan
    return f"applied: {team.plan} via checkout"


def _subscription_plan(sub: dict[str, Any]) -> str | None:
    items = ((sub.get("items") or {}).get("data") or [])
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        found = plans.plan_for_price(price.get("id") if isinstance(price, dict) else price)
        if found:
            return found
    meta = (sub.get("metadata") or {}).get("plan")
    return meta if meta in plans.PAID_PLANS else None


def _period_end(sub: dict[str, Any]) -> datetime | None:
    # Newer API versions keep the period on the subscription's items.
    found = _ts(sub.get("current_period_end"))
    if found is None:
        for item in ((sub.get("items") or {}).get("data") or []):
            found = found or _ts(item.get("current_period_end"))
    return found


def apply_subscription(team: Team, sub: dict[str, Any], at: datetime, *, authoritative: bool = False) -> str:
    """Apply a subscription's state as it was at `at`, unless we already know a newer one.

    `authoritative`: the state was just read from Stripe (reconcile), so it wins over what we have.
    """
    sub_id, state = sub.get("id"), sub.get("status")
    if not isinstance(sub_id, str) or not isinstance(state, str):
        return "ignored: not a subscription"
    if not authoritative:
        if team.stripe_subscription_id and team.stripe_subscription_id != sub_id:
            # Another subscription than the one the team follows: only a live one replaces a
            # finished one (a new checkout after a cancellation).
            if state not in LIVE or team.subscription_status in LIVE:
                return f"ignored: the team follows subscription {team.stripe_subscription_id}"
        elif team.stripe_subscription_id == sub_id:
            if team.subscription_status in TERMINAL:
                return f"ignored: subscription already {team.subscription_status}"
            if team.subscription_state_at is not None:
                if at < team.subscription_state_at:
                    return "ignored: older than the state we have"
                if at == team.subscription_state_at and team.subscription_status != state:
                    # Same second, different news: ask Stripe what is true now.
                    job_queue.enqueue("billing_sync_team", team.id)
    team.stripe_subscription_id = sub_id
    team.subscription_status = state
    team.subscription_state_at = at
    team.current_period_end = _period_end(sub)
    team.cancel_at_period_end = bool(sub.get("cancel_at_period_end"))
    customer = sub.get("customer")
    if isinstance(customer, str) and customer and not team.stripe_customer_id:
        team.stripe_customer_id = customer
    if state in LIVE:
        team.plan = _subscription_plan(sub) or (team.plan if team.plan in plans.PAID_PLANS else "pro")
        if state != "past_due":
            _clear_payment_failure(team)
    else:
        # Canceled, unpaid, incomplete...: the free plan's limits. Nothing is deleted.
        team.plan = "free"
        if state in TERMINAL:
            _clear_payment_failure(team)
    return f"applied: {state} ({team.plan})"


def _clear_payment_failure(team: Team) -> None:
    team.payment_failed_at = None
    team.grace_until = None


def _invoice_subscription(invoice: dict[str, Any]) -> str | None:
    found = invoice.get("subscription")
    if found is None:  # newer API versions
        details = ((invoice.get("parent") or {}).get("subscription_details") or {})
        found = details.get("subscription")
    if isinstance(found, dict):
        found = found.get("id")
    return found if isinstance(found, str) else None


def _invoice_is_current(team: Team, invoice: dict[str, Any], at: datetime) -> str | None:
    sub = _invoice_subscription(invoice)
    if sub and team.stripe_subscription_id and sub != team.stripe_subscription_id:
        return "ignored: invoice of another subscription"
    if team.payment_state_at is not None and at < team.payment_state_at:
        return "ignored: older than the payment state we have"
    return None


def _invoice_paid(team: Team, invoice: dict[str, Any], at: datetime) -> str:
    skip = _invoice_is_current(team, invoice, at)
    if skip:
        return skip
    team.payment_state_at = at
    _clear_payment_failure(team)
    return "applied: paid"


def _invoice_failed(team: Team, invoice: dict[str, Any], at: datetime) -> str:
    skip = _invoice_is_current(team, invoice, at)
    if skip:
        return skip
    team.payment_state_at = at
    first = team.payment_failed_at is None
    if first:
        team.payment_failed_at = at
        team.grace_until = at + GRACE_PERIOD
        # The owners' mail goes out after the commit, in a job.
        job_queue.enqueue("billing_payment_failed", team.id)
    return f"applied: payment failed, grace until {team.grace_until:%Y-%m-%d}"


def mail_payment_failed(team_id: str) -> int:
    """Tell the team's owners (the job after invoice.payment_failed); returns how many were mailed."""
    team = db.session.get(Team, team_id)
    if team is None or team.payment_failed_at is None:
        return 0
    owners = db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.team_id == team.id, Membership.role == "owner", User.deleted_at.is_(None))
        .order_by(User.email)
    ).unique().all()
    url = f"{current_app.config['INFRATRACE'].public_url}/teams/{team.slug}/billing"
    plan = plans.PLAN_TITLES.get(team.plan, team.plan)
    for owner in owners:
        with in_language_of(owner):
            if team.grace_until:
                deadline = _("Update the payment method before %(date)s to keep the %(plan)s plan: %(link)s",
                             date=f"{team.grace_until:%Y-%m-%d}", plan=plan, link=url)
            else:
                deadline = _("Update the payment method soon to keep the %(plan)s plan: %(link)s", plan=plan, link=url)
            send_mail(
                owner.email,
                _("InfraTrace: a payment for %(team)s failed", team=team.name),
                _("Stripe could not charge the card for the team %(team)s.", team=team.name) + "\n\n" + deadline
                + "\n" + _("After that the team has the free plan's limits. Nothing is deleted.") + "\n",
            )
    db.session.commit()
    return len(owners)


# -- repair and cancellation -----------------------------------------------------------------------


def sync_team(team: Team) -> str:
    """Re-read the team's subscription from Stripe and apply what it says now."""
    if not team.stripe_subscription_id:
        return "no subscription"
    try:
        sub = _dict(client().v1.subscriptions.retrieve(team.stripe_subscription_id))
    except stripe.InvalidRequestError as exc:
        if exc.http_status == 404:
            # Stripe no longer knows it (deleted test data, another account): nothing to pay for.
            sub = {"id": team.stripe_subscription_id, "status": "canceled"}
        else:
            raise
    db.session.execute(select(Team.id).where(Team.id == team.id).with_for_update())
    db.session.refresh(team)
    before = (team.plan, team.subscription_status)
    apply_subscription(team, sub, utcnow(), authoritative=True)
    db.session.commit()
    after = (team.plan, team.subscription_status)
    return "unchanged" if before == after else f"repaired {before[1]}/{before[0]} -> {after[1]}/{after[0]}"


def paying_teams() -> list[Team]:
    """Teams Stripe may be charging: a subscription we have not seen end, or a paid plan."""
    return list(db.session.scalars(
        select(Team).where(
            Team.stripe_subscription_id.is_not(None),
            or_(Team.subscription_status.is_(None), Team.subscription_status.not_in(TERMINAL),
                Team.plan.in_(plans.PAID_PLANS)),
        ).order_by(Team.id)
    ))


def reconcile() -> dict[str, int]:
    """Re-read every paying team's subscription; one failure does not stop the others."""
    summary = {"teams": 0, "repaired": 0, "failed": 0}
    if not plans.billing_enabled():
        return summary
    for team in paying_teams():
        summary["teams"] += 1
        try:
            outcome = sync_team(team)
        except Exception as exc:  # noqa: BLE001 - logged; the next run tries again
            db.session.rollback()
            summary["failed"] += 1
            log.warning("billing sync of team %s failed: %s", team.id, exc)
            continue
        if outcome.startswith("repaired"):
            summary["repaired"] += 1
            log.info("billing sync of team %s: %s", team.id, outcome)
    return summary


def cancel_on_deletion(team: Team) -> None:
    """A deleted team pays no more: its subscription is canceled (in a job, after the commit)."""
    if plans.billing_enabled() and team.stripe_subscription_id and team.subscription_status not in TERMINAL:
        job_queue.enqueue("billing_cancel_team", team.id)


def cancel_subscription(team_id: str) -> str:
    """The job: cancel at Stripe now (idempotent) and record the canceled state."""
    team = db.session.get(Team, team_id)
    if team is None or not team.stripe_subscription_id:
        return "nothing to cancel"
    if team.subscription_status in TERMINAL:
        return "already canceled"
    try:
        key = f"infratrace-cancel-{team.stripe_subscription_id}"
        sub = _dict(client().v1.subscriptions.cancel(team.stripe_subscription_id, options={"idempotency_key": key}))
    except stripe.InvalidRequestError as exc:
        if exc.http_status != 404:
            raise
        sub = {"id": team.stripe_subscription_id, "status": "canceled"}
    apply_subscription(team, sub, utcnow(), authoritative=True)
    db.session.commit()
    return "canceled"

