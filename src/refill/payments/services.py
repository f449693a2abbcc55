"""Saved payment methods: add, remove, choose default and backup. Every change is audited."""

from __future__ import annotations

import logging
import uuid
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill import events
from refill.audit.services import audit_record
from refill.errors import RefillError
from refill.integrations.payments.limits import Limited, limiter_for

from .gateways import CAPABILITY_NAMES, CARD, GatewayUnsupported, gateway_for, gateway_name_for, gateway_require
from .models import Payment, PaymentMethod, ProviderEvent
from .port import (
    PROVIDER_WALLETS,
    BrowserCard,
    Capability,
    CardDetails,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    DeclineCode,
    PaymentGateway,
    PaymentToken,
    RefundRequest,
    RefundResult,
)
from .tasks import process_provider_event

MAX_METHODS = 10

logger = logging.getLogger(__name__)


class MethodRefused(RefillError):
    code = "payment_method_refused"
    message = _("This payment method cannot be saved: %(reason)s")


def methods_for(customer) -> list[PaymentMethod]:
    return list(PaymentMethod.objects.filter(customer=customer, removed_at__isnull=True))


def _card_token(gateway: PaymentGateway, card: CardDetails | BrowserCard) -> PaymentToken:
    """The provider token for a card: typed into Refill's form (``server_tokenisation``) or made by
    the provider's own script in the browser (``browser_tokenisation``), whichever the adapter
    declares; the other kind is refused with GatewayUnsupported before anything is sent."""
    needed = Capability.BROWSER_TOKENISATION if isinstance(card, BrowserCard) else Capability.SERVER_TOKENISATION
    if needed not in gateway.capabilities:
        raise GatewayUnsupported(what=CAPABILITY_NAMES[needed])
    if isinstance(card, BrowserCard):
        return gateway.tokenize_browser(card)
    return gateway.tokenize(card)


def method_add(
    *, customer, card: CardDetails | BrowserCard, gateway: PaymentGateway | None = None, actor=None
) -> PaymentMethod:
    """Tokenise the card with the provider (default: the configured one), have the provider keep
    it for later (off-session) charges, and keep only its token and display details. The first
    saved method becomes the default. Raises TokenizationError when the provider refuses the card,
    GatewayUnsupported when the provider does not declare saved methods or takes cards the other
    way (typed into Refill's form, or in its own script in the browser)."""
    gateway = gateway or gateway_for(gateway_name_for(CARD))
    if Capability.SAVED_METHODS not in gateway.capabilities:
        raise GatewayUnsupported(what=CAPABILITY_NAMES[Capability.SAVED_METHODS])
    if len(methods_for(customer)) >= MAX_METHODS:
        raise MethodRefused(reason=_("at most %(count)s methods can be saved") % {"count": MAX_METHODS})
    token = _card_token(gateway, card)
    # One provider customer per Refill customer: reuse the one an earlier method created.
    known = (
        PaymentMethod.objects.filter(customer=customer, gateway=gateway.name)
        .exclude(provider_customer="")
        .values_list("provider_customer", flat=True)
        .first()
    )
    saved = gateway.save_method(
        token,
        customer_reference=known or "",
        email=customer.email_address(),
        idempotency_key=f"method_{customer.pk}_{uuid.uuid4().hex}",
    )
    with transaction.atomic():
        has_default = PaymentMethod.objects.filter(customer=customer, is_default=True, removed_at__isnull=True).exists()
        method = PaymentMethod.objects.create(
            customer=customer,
            gateway=gateway.name,
            token=saved.token,
            provider_customer=saved.customer_reference,
            brand=token.brand,
            last4=token.last4,
            exp_month=token.exp_month,
            exp_year=token.exp_year,
            holder=card.holder[:100],
            is_default=not has_default,
        )
        audit_record(actor=actor or customer, action="payment_method.add", obj=method, data={"label": method.label})
    return method


def wallet_tokenize(*, method: str, gateway_name: str | None = None) -> tuple[PaymentGateway, PaymentToken]:
    """A provider wallet (PayPal, Apple Pay, Alipay, WeChat Pay) as a token for a charge, with the
    adapter that will take it. A wallet the adapter does not declare is refused with
    GatewayUnsupported before anything is recorded."""
    gateway = gateway_for(gateway_name or gateway_name_for(method))
    if method not in gateway.capabilities.wallets:
        raise GatewayUnsupported(what=str(PROVIDER_WALLETS.get(method, method)))
    return gateway, gateway.tokenize_wallet(method)


def card_tokenize(
    *, card: CardDetails | BrowserCard, gateway_name: str | None = None
) -> tuple[PaymentGateway, PaymentToken]:
    """A card as a token for a charge, with the adapter that will take it: typed details for an
    adapter that takes them (the sandbox), the reference the provider's script made in the browser
    for one that tokenises there (Stripe). The other kind is refused with GatewayUnsupported."""
    gateway = gateway_for(gateway_name or gateway_name_for(CARD))
    return gateway, _card_token(gateway, card)


def provider_charge(gateway: PaymentGateway, payment, request: ChargeRequest) -> ChargeResult:
    """Call the provider for ``payment``'s attempt, outside any transaction. An error means nobody
    knows whether it charged: the attempt is left unknown for reconciliation, never retried blindly
    (invariant 4)."""
    try:
        return gateway.charge(request)
    except Exception:
        logger.exception("payment %s: provider call failed", payment.pk)
        return ChargeResult(ChargeStatus.UNKNOWN)


def provider_charge_paced(gateway: PaymentGateway, payment, request: ChargeRequest) -> ChargeResult:
    """provider_charge for bulk work (the auto-renew engine): the call waits for its share of the
    provider's rate across all workers (REFILL_PROVIDER_RATE) and for one of this process's
    REFILL_PROVIDER_CONCURRENCY slots (``integrations.payments.limits``)."""
    return provider_charge(Limited(gateway), payment, request)


def provider_rate_take(gateway_name: str) -> None:
    """Wait for one call's share of ``gateway_name``'s rate across all workers, for a caller that
    bounds its own concurrency (the auto-renew engine's charging threads): taken before the call
    is handed to a thread, so the calls start evenly and no thread waits on another."""
    limiter_for(gateway_name).take()


def provider_fetch(*, payment) -> ChargeResult:
    """What the adapter that took ``payment`` knows of the attempt (reconciliation, the return from
    the bank's page). Raises whatever the provider call raises: the caller decides to ask later."""
    return gateway_for(payment.gateway).fetch(payment.idempotency_key, payment.provider_reference)


def provider_cancel(*, payment) -> ChargeResult:
    """Give up on ``payment``'s attempt still waiting for the customer, so a late confirmation
    cannot charge; one that settled meanwhile keeps its result."""
    return gateway_for(payment.gateway).cancel(payment.idempotency_key, payment.provider_reference)


def provider_refund(*, gateway_name: str, request: RefundRequest, captured: Decimal) -> RefundResult:
    """Give back ``request.amount`` of a captured charge of ``captured`` through the adapter that
    took it. Raises GatewayUnsupported (before the provider is called) when the adapter does not
    refund, or cannot refund less than the whole charge; the caller checks with
    ``provider_refund_check`` before recording the refund."""
    provider_refund_check(gateway_name=gateway_name, amount=request.amount, captured=captured)
    return gateway_for(gateway_name).refund(request)


def provider_refund_check(*, gateway_name: str, amount: Decimal, captured: Decimal) -> None:
    """Refuse a refund the adapter cannot make (GatewayUnsupported), so that nothing is recorded."""
    gateway_require(Capability.REFUNDS, gateway_name)
    if amount != captured:
        gateway_require(Capability.PARTIAL_REFUNDS, gateway_name)


def method_remove(*, method: PaymentMethod, actor=None) -> None:
    with transaction.atomic():
        PaymentMethod.objects.filter(pk=method.pk).update(removed_at=timezone.now(), is_default=False, is_backup=False)
        audit_record(actor=actor, action="payment_method.remove", obj=method)


def method_set_role(*, method: PaymentMethod, role: str, actor=None) -> PaymentMethod:
    """Make ``method`` the customer's default or backup (the previous holder of that role loses it)."""
    if role not in ("default", "backup") or method.removed_at is not None:
        raise MethodRefused(reason=_("choose default or backup for a saved method"))
    field = "is_default" if role == "default" else "is_backup"
    other = "is_backup" if role == "default" else "is_default"
    with transaction.atomic():
        # Locked in primary-key order, the one order used for a customer's methods.
        list(PaymentMethod.objects.select_for_update().filter(customer=method.customer_id).order_by("pk"))
        PaymentMethod.objects.filter(customer=method.customer_id, **{field: True}).update(**{field: False})
        PaymentMethod.objects.filter(pk=method.pk).update(**{field: True, other: False})
        audit_record(actor=actor, action=f"payment_method.{role}", obj=method)
    method.refresh_from_db()
    return method


def provider_event_record(*, gateway_name: str, event) -> tuple:
    """Keep a verified webhook once (by the provider's event id) and queue its processing."""
    with transaction.atomic():
        stored, created = ProviderEvent.objects.get_or_create(
            gateway=gateway_name,
            event_id=event.event_id,
            defaults={
                "type": event.type,
                "idempotency_key": event.idempotency_key[:100],
                "provider_reference": event.provider_reference[:100],
                "decline_code": event.decline_code[:40],
                "payload": event.payload,
            },
        )
        if created:
            process_provider_event.enqueue(stored.pk)
    return stored, created


def provider_event_process(*, event_pk: int, replay: bool = False, actor=None):
    """Apply a provider event to the payment it is about. Order-insensitive and idempotent: an
    event about an attempt already settled the same way is just marked processed; one that
    contradicts it is marked failed for staff to look at."""
    with transaction.atomic():
        event = ProviderEvent.objects.select_for_update().get(pk=event_pk)
        if event.status != ProviderEvent.Status.RECEIVED and not replay:
            return event
        event.attempts += 1
        event.save(update_fields=["attempts"])
    status, detail = ProviderEvent.Status.IGNORED, ""
    try:
        if event.type in ("charge.succeeded", "charge.failed"):
            payment = Payment.objects.filter(gateway=event.gateway, idempotency_key=event.idempotency_key).first()
            if payment is None:
                status, detail = ProviderEvent.Status.FAILED, "no payment has this idempotency key"
            else:
                succeeded = event.type == "charge.succeeded"
                wanted = Payment.Status.SUCCEEDED if succeeded else Payment.Status.FAILED
                if payment.is_terminal and payment.status != wanted:
                    status, detail = (
                        ProviderEvent.Status.FAILED,
                        f"payment is {payment.status}, event says {event.type}",
                    )
                else:
                    decline = event.decline_code if event.decline_code in DeclineCode else DeclineCode.DO_NOT_HONOUR
                    # The checkout settles it (and fulfils the order) as a handler of this event: a
                    # payment does not know the checkout. It runs here, so that this provider event
                    # says whether it could be applied (a failed handler is also retried by the
                    # events sweep; a replay finds the payment settled and agrees).
                    errors = events.emit_inline(
                        "payment.settled",
                        payment_id=payment.pk,
                        order_id=payment.order_id,
                        status=Payment.Status.SUCCEEDED if succeeded else Payment.Status.FAILED,
                        provider_reference=event.provider_reference or payment.provider_reference,
                        decline_code="" if succeeded else str(DeclineCode(decline)),
                        actor_id=actor.pk if actor is not None else None,
                    )
                    status, detail = (
                        (ProviderEvent.Status.FAILED, "; ".join(errors)[:300])
                        if errors
                        else (ProviderEvent.Status.PROCESSED, "")
                    )
    except Exception as exc:  # noqa: BLE001 - recorded on the event for staff, and replayable
        status, detail = ProviderEvent.Status.FAILED, f"{type(exc).__name__}: {exc}"[:300]
    ProviderEvent.objects.filter(pk=event.pk).update(status=status, detail=detail, processed_at=timezone.now())
    if replay:
        audit_record(actor=actor, action="provider_event.replay", obj=event, reason=status)
    event.refresh_from_db()
    return event
