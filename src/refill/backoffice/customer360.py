"""The customer 360: finding a customer by anything support is told, and everything about them on
one page. Reads only; the actions are the services they call (each audited with a reason)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.customers.models import Customer
from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.ledger.services import wallet_balance
from refill.lines.models import Line
from refill.notifications.models import Notification
from refill.orders.models import Order, Refund
from refill.payments.models import Payment, PaymentMethod
from refill.renewals.goodwill import goodwill_offer
from refill.subscriptions.models import Bucket, Period
from refill.subscriptions.selectors import line_allowances

PHONE_PUNCTUATION = frozenset(" +-().")
RECENT = 50  # orders, payments, notifications and audit rows shown


def customers_find(query: str, *, limit: int = 50) -> list[Customer]:
    """Customers matching a number (any format, or its last digits), an ICCID, an email address, a
    name or an order id."""
    text = query.strip()
    if len(text) < 2 and not text.isdigit():
        return []
    wanted = Q(display_name__icontains=text) | Q(users__email__iexact=text) | Q(users__email__icontains=text)
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits:
        wanted |= Q(lines__iccid=digits) | Q(lines__msisdn__endswith=digits) | Q(users__phone__endswith=digits)
        if len(digits) >= 4 and all(ch.isdigit() or ch in PHONE_PUNCTUATION for ch in text):
            # A number read out in parts ("202 555", "(202) 555-") is a run of digits anywhere in it,
            # not only its end: stored numbers are E.164, without the spaces and punctuation typed.
            wanted |= Q(lines__msisdn__contains=digits) | Q(users__phone__contains=digits)
        try:
            wanted |= Q(lines__msisdn=normalize_msisdn(text, settings.REFILL_DEFAULT_REGION))
        except InvalidIdentifier:
            pass
        if text.isdigit() and len(text) <= 12:
            wanted |= Q(orders__pk=int(text))
    return list(Customer.objects.filter(wanted).distinct().order_by("pk")[:limit])


@dataclass(frozen=True)
class RenewalMethod:
    """One way auto-renew would pay, in the order it tries them: ``kind`` is "wallet", "default"
    (the primary card) or "backup"; ``method`` the saved card (None for the wallet, or for a card
    the customer chose but has not saved: ``missing``)."""

    kind: str
    method: PaymentMethod | None = None
    missing: bool = False


@dataclass
class LineView:
    line: Line
    periods: list[Period]
    buckets: list[Bucket]
    esim: object | None
    auto_renew: object | None
    # What the customer's line card shows: per kind, the usable balance right now.
    allowances: dict = field(default_factory=dict)
    # How auto-renew would pay, in order (wallet, primary card, backup card), as the engine tries.
    renewal_methods: list[RenewalMethod] = field(default_factory=list)
    wallet: Decimal = Decimal(0)  # the customer's wallet in the line's currency
    goodwill: object | None = None  # the goodwill extension staff may give (refill.renewals.goodwill)
    goodwill_key: str = ""  # the idempotency key of the goodwill form shown for it


@dataclass
class Customer360:
    customer: Customer
    users: list
    lines: list[LineView]
    orders: list[Order]
    payments: list[Payment]
    wallets: dict[str, Decimal]
    notifications: list[Notification]
    audit: list[AuditEvent]
    currencies: list[str] = field(default_factory=list)
    tickets: list = field(default_factory=list)  # support requests (refill.support), newest first


def renewal_methods(settings, methods: list[PaymentMethod]) -> list[RenewalMethod]:
    """The ways auto-renew would pay with ``settings`` (AutoRenew, or None for the defaults), in the
    engine's order (refill.renewals.autorenew_charging.jobs_pay): the wallet when it covers the price, then
    the primary card, then the backup card; a card chosen but not saved is marked missing."""
    use_wallet, use_default, use_backup = (
        (settings.use_wallet, settings.use_default_method, settings.use_backup_method)
        if settings is not None
        else (True, True, True)
    )
    default = next((m for m in methods if m.is_default), None)
    backup = next((m for m in methods if m.is_backup and not m.is_default), None)
    found = []
    if use_wallet:
        found.append(RenewalMethod("wallet"))
    if use_default:
        found.append(RenewalMethod("default", default, missing=default is None))
    if use_backup:
        found.append(RenewalMethod("backup", backup, missing=backup is None))
    return found


def customer_360(customer: Customer, *, goodwill: bool = False) -> Customer360:
    """Everything about ``customer``; with ``goodwill``, also the goodwill extension each line may
    get now (for staff who may act)."""
    now = timezone.now()
    lines = list(Line.objects.filter(owner=customer).select_related("plan", "market", "auto_renew").order_by("msisdn"))
    saved = list(PaymentMethod.objects.filter(customer=customer, removed_at__isnull=True).order_by("pk"))
    views = []
    for line in lines:
        periods = list(line.periods.filter(end__gt=now - timedelta(days=90)).select_related("plan"))
        buckets = list(
            Bucket.objects.filter(line=line, expires_at__gt=now, revoked_at__isnull=True).order_by("expires_at", "pk")
        )
        views.append(
            LineView(
                line=line,
                periods=periods,
                buckets=buckets,
                esim=getattr(line, "esim_profile", None) if line.sim_type == Line.SimType.ESIM else None,
                auto_renew=getattr(line, "auto_renew", None),
                goodwill=goodwill_offer(line, now) if goodwill else None,
                allowances=line_allowances(line, now),  # the line card's own figures
                renewal_methods=renewal_methods(getattr(line, "auto_renew", None), saved),
            )
        )
    # A goodwill order (paid by a goodwill payment) is shown as one, and never offered a refund.
    given = Payment.objects.filter(order=OuterRef("pk"), method=Payment.Method.GOODWILL)
    # What was refunded of each order, so staff see what the customer sees ("Refunded").
    refunded = (
        Refund.objects.filter(order=OuterRef("pk"), status=Refund.Status.SUCCEEDED)
        .values("order")
        .annotate(total=Sum("amount"))
        .values("total")
    )
    orders = list(
        Order.objects.filter(customer=customer)
        .annotate(goodwill=Exists(given), refunded=Subquery(refunded))
        .select_related("line", "receipt")
        .order_by("-created_at", "-pk")[:RECENT]
    )
    payments = list(
        Payment.objects.filter(order__customer=customer).select_related("order").order_by("-created_at", "-pk")[:RECENT]
    )
    currencies = sorted({line.market.currency for line in lines} | {order.currency for order in orders})
    # Everything audited about the customer, their lines and their orders (the newest first).
    about = Q(object_type="customers.customer", object_id=str(customer.pk))
    about |= Q(object_type="lines.line", object_id__in=[str(line.pk) for line in lines])
    about |= Q(object_type="orders.order", object_id__in=[str(order.pk) for order in orders])
    wallets = {currency: wallet_balance(customer, currency) for currency in currencies}
    for item in views:
        item.wallet = wallets.get(item.line.market.currency, Decimal(0))
    return Customer360(
        customer=customer,
        users=list(customer.users.order_by("pk")),
        lines=views,
        orders=orders,
        payments=payments,
        wallets=wallets,
        notifications=list(Notification.objects.filter(customer=customer).order_by("-created_at", "-pk")[:RECENT]),
        audit=list(AuditEvent.objects.filter(about).order_by("-at", "-pk")[:RECENT]),
        currencies=currencies,
        tickets=list(customer.tickets.select_related("assignee", "line").order_by("-created_at", "-pk")[:RECENT]),
    )
