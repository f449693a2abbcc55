"""Gift refills: a guest without an account pays, by card, for a plan on someone else's number or
for money on its owner's wallet (``POST /api/v1/refills``, docs/api.md). A partner's API key with
the ``renew`` scope renews its customers' numbers the same way (``POST /api/v1/orders``), without
a guest's limits.

The order belongs to the number's owner, who is told of the gift; the guest learns nothing of the
line beyond what they paid for. A guest's declines count against their address and against the
number they tried, never against the owner's own decline limit: otherwise a stranger could stop
the owner's renewals by failing cards on their number."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.domain.lifecycle import LineStatus
from refill.errors import RefillError
from refill.events.models import Event
from refill.lines.models import Line
from refill.notifications.services import Notice, notices_owe
from refill.orders.checkout import Guest, order_create_renewal
from refill.orders.errors import PlanNotAvailable
from refill.orders.models import Order, OrderItem
from refill.orders.paying import PayWith, order_pay
from refill.orders.pricing import renewal_plans
from refill.orders.receipts import order_reference
from refill.orders.topups import order_create_topup
from refill.payments.models import Payment
from refill.payments.port import BrowserCard, CardDetails

from .tasks import send_gift_payer_confirmation

logger = logging.getLogger(__name__)

# Numbers a guest may give to: in service, or lapsed but still the owner's. A new line waiting for
# its first payment is its buyer's to pay.
GIFTABLE = [LineStatus.ACTIVE, LineStatus.GRACE, LineStatus.SUSPENDED, LineStatus.DEACTIVATED, LineStatus.RETAINED]
RETURN_SALT = "refill.gift-return"


class GiftNumberNotFound(RefillError):
    code = "number_not_found"
    message = _("We could not find that phone number, or it cannot be refilled. Check it and try again.")


class GiftChoice(RefillError):
    code = "gift_choice"
    message = _("Choose either a plan or an amount to give, not both.")


class GiftTooManyPeriods(RefillError):
    code = "too_many_periods"
    message = _("A gift refill buys at most %(limit)s periods.")


class GiftEmailInvalid(RefillError):
    code = "email_invalid"
    message = _("Enter a valid email address for your confirmation, or leave it out.")


class TooManyGifts(RefillError):
    code = "too_many_gifts"
    message = _("Too many refills were sent from here or to this number today. Please try again tomorrow.")


def _limits() -> dict:
    return settings.REFILL_GUEST_REFILLS


def gift_line(msisdn: str) -> Line:
    """The line a guest means by ``msisdn``, or NumberNotFound. Which numbers exist but may not be
    refilled is not told apart from unknown ones."""
    try:
        number = normalize_msisdn(msisdn, getattr(settings, "REFILL_DEFAULT_REGION", None))
    except InvalidIdentifier:
        raise GiftNumberNotFound() from None
    line = (
        Line.objects.select_related("owner", "market", "plan")
        .filter(msisdn=number, status__in=GIFTABLE, owner__isnull=False)
        .first()
    )
    if line is None:
        raise GiftNumberNotFound()
    return line


def _check_order_limits(line: Line, ip: str, now: datetime) -> None:
    limits = _limits()
    recent = Order.objects.filter(payer=Order.Payer.GUEST, created_at__gte=now - timedelta(days=1))
    if ip and recent.filter(payer_ip=ip).count() >= limits["orders_per_ip_day"]:
        raise TooManyGifts()
    # Gifts a number was given: each tells its owner, who should not be flooded.
    if recent.filter(gift_line=line, status=Order.Status.PAID).count() >= limits["paid_per_number_day"]:
        raise TooManyGifts()


class GiftPayment(RefillError):
    code = "gift_payment"
    message = _("Choose how to pay: a card or one of the payment methods shown.")


@dataclass(frozen=True)
class GiftRequest:
    msisdn: str
    # None with a provider wallet, or for a refill PIN (refill.renewals.gift_pins).
    card: CardDetails | BrowserCard | None
    key: str  # the caller's Idempotency-Key
    ip: str
    email: str = ""
    plan: str = ""
    periods: int = 1
    amount: Decimal | None = None
    expected_total: Decimal | None = None
    language: str = "en"
    api_key: Any = None  # a partner renewing for its customer, instead of a guest
    promotion_code: str = ""  # a partner's renewal may carry its customer's code
    provider_wallet: str = ""  # a guest on the web pays with PayPal, Alipay... (redirect and return)


@dataclass(frozen=True)
class GiftOutcome:
    order: Order
    payment: Payment | None  # the card attempt: failed for a decline, requires_action for the bank's step
    charged_now: bool  # False for a replay, which never charges again


def gift_refill(request: GiftRequest, *, return_url_for, now: datetime | None = None) -> GiftOutcome:
    """Create the owner's order for what the guest gives and charge the guest's card (or provider
    wallet) once. A replay (same address and key) answers with the first order and never charges
    again."""
    now = now or timezone.now()
    # Never the owner's own wallet: order_pay without a card or provider wallet would take it.
    if request.card is None and not request.provider_wallet:
        raise GiftPayment()
    order = gift_order_create(request, now=now)
    guest = Guest(ip=request.ip, email="" if request.api_key else request.email, api_key=request.api_key)
    payments = order.payments.filter(method=Payment.Method.CARD)
    if (
        order.status == Order.Status.PAID
        or payments.filter(status__in=["pending", "unknown", "requires_action"]).exists()
    ):
        return GiftOutcome(order, payments.order_by("-pk").first(), charged_now=False)
    payment = order_pay(
        order=order,
        pay_with=PayWith(card=request.card, provider_wallet=request.provider_wallet),
        actor=guest,
        return_url=return_url_for(order),
    )
    order.refresh_from_db()
    return GiftOutcome(order, payment, charged_now=True)


def gift_order_key(request: GiftRequest) -> str:
    """The idempotency key of the owner's order for ``request``. One key space per guest address or
    partner key: theirs never meet, and the owner's are apart."""
    caller = f"key:{request.api_key.pk}" if request.api_key is not None else request.ip
    return f"gift:{signing.Signer(salt='refill.gift-key').signature(f'{caller}|{request.key}')}"[:80]


def gift_order_create(request: GiftRequest, *, now: datetime) -> Order:
    """The owner's order for what the guest gives (or the first one, for a replayed key), after the
    guest's checks and limits. Charges nothing: the card's (gift_refill) or a refill PIN's
    (gift_pins.gift_pin_refill) payment follows."""
    if bool(request.plan) == (request.amount is not None):
        raise GiftChoice()
    if request.email:
        try:
            validate_email(request.email)
        except ValidationError:
            raise GiftEmailInvalid() from None
    line = gift_line(request.msisdn)
    partner = request.api_key
    guest = Guest(ip=request.ip, email="" if partner else request.email, api_key=partner)
    key = gift_order_key(request)
    existing = Order.objects.filter(customer=line.owner, idempotency_key=key).first()
    if existing is None and partner is None:
        _check_order_limits(line, request.ip, now)
    if request.plan:
        limit = _limits()["max_periods"]
        if partner is None and request.periods > limit:
            raise GiftTooManyPeriods(limit=limit)
        plan = {plan.code: plan for plan in renewal_plans(line)}.get(request.plan)
        if plan is None:
            raise PlanNotAvailable()
        order = order_create_renewal(
            customer=line.owner,
            line=line,
            plan=plan,
            periods=request.periods,
            idempotency_key=key,
            expected_total=request.expected_total,
            language=request.language,
            guest=guest,
            now=now,
            channel="api" if partner is not None else "web",
            promotion_code=request.promotion_code,
        )
    else:
        assert request.amount is not None  # a plan or an amount, checked above
        order = order_create_topup(
            customer=line.owner,
            market=line.market,
            amount=request.amount,
            idempotency_key=key,
            language=request.language,
            guest=guest,
            gift_line=line,
        )
    return order


def gift_return_token(order: Order) -> str:
    """What the guest's browser carries back from the bank's step: it names one guest order."""
    return signing.dumps(order.pk, salt=RETURN_SALT)


def gift_order_for_token(token: str) -> Order | None:
    try:
        pk = signing.loads(token, salt=RETURN_SALT, max_age=timedelta(days=2))
    except signing.BadSignature:
        return None
    orders = Order.objects.select_related("gift_line", "market").exclude(payer=Order.Payer.OWNER)
    return orders.filter(pk=pk).first()


def gift_item(order: Order) -> OrderItem:
    return order.items.select_related("plan").get()


def on_order_paid(events: list[Event]) -> None:
    """The ``order.paid`` handler (subscribed in RenewalsConfig.ready()): orders someone else paid
    for are gifts."""
    others = [event.payload["order_id"] for event in events if event.payload["payer"] != Order.Payer.OWNER]
    if others:
        gifts_notify(others)


def gift_orders(events: list[Event]) -> list[Event]:
    """The ``order.paid`` events the gift handler acts on (its subscription's filter)."""
    return [event for event in events if event.payload["payer"] != Order.Payer.OWNER]


def gifts_notify(order_ids: list[int]) -> None:
    """Tell the owners of guest-paid orders what they were given (once per order), and send each
    guest who left an address a confirmation of what they paid."""
    orders = list(
        Order.objects.filter(pk__in=order_ids)
        .exclude(payer=Order.Payer.OWNER)
        .select_related("customer", "gift_line", "market", "payer_api_key")
    )
    if not orders:
        return
    items = {item.order_id: item for item in OrderItem.objects.filter(order__in=orders).select_related("plan")}
    notices_owe(
        [
            Notice(
                rule="gift_received",
                subject_key=f"order:{order.pk}",
                customer=order.customer,
                line=order.gift_line,
                context={
                    "order": order,
                    "item": items[order.pk],
                    "payer_name": order.payer_api_key.name if order.payer_api_key is not None else "",
                },
            )
            for order in orders
        ]
    )
    for order in orders:
        if order.payer_email:
            send_gift_payer_confirmation.enqueue(order.pk)


def gift_payer_confirmation_send(*, order_id: int) -> bool:
    """Email the guest what they paid, once, in the language they asked in. Nothing about the line
    beyond the number and what was bought."""
    order = Order.objects.select_related("gift_line", "market").get(pk=order_id)
    if not order.payer_email or order.status != Order.Status.PAID:
        return False
    # Claimed by one conditional update: two workers never send it twice.
    if not Order.objects.filter(pk=order.pk, payer_notified_at__isnull=True).update(payer_notified_at=timezone.now()):
        return False
    with translation.override(order.language):
        context = {
            "order": order,
            "item": gift_item(order),
            "line": order.gift_line,
            "reference": order_reference(order),  # the receipt's number, as on the guest's page
        }
        subject = render_to_string("notifications/gift_paid_subject.txt", context).strip()
        body = render_to_string("notifications/gift_paid.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[order.payer_email])
    message.extra_headers["Content-Language"] = order.language
    try:
        message.send()
    except Exception:
        Order.objects.filter(pk=order.pk).update(payer_notified_at=None)  # retried by the task
        raise
    logger.info("gift confirmation sent to the payer of order %s", order.pk)
    return True
