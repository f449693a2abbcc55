"""The customer 360: finding a customer by anything support is told, and everything about them on
one page. Reads only; the actions are the services they call (each audited with a reason)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import CharField, Exists, F, Func, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Cast
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
# The page lists the newest rows of each long section, and every row (up to ALL) of the one whose
# "show all" link was followed: the whole page fits a phone (about 17 screens before, issue 26).
RECENT = 5
ALL = 500
SECTIONS = ("orders", "payments", "notifications", "tickets", "audit")


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
    counts: dict[str, int] = field(default_factory=dict)  # how many each section holds in all
    show_all: str = ""  # the section listed whole ("show all"), if any


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


def _count(queryset) -> Subquery:
    """The number of rows of ``queryset``, as a scalar subquery of another query."""
    return Subquery(queryset.order_by().annotate(n=Func(F("pk"), function="COUNT")).values("n")[:1])


def customer_360(customer: Customer, *, goodwill: bool = False, show_all: str = "") -> Customer360:
    """Everything about ``customer``, the newest RECENT rows of each long section (every row of
    ``show_all``, one of SECTIONS) with how many there are; with ``goodwill``, also the goodwill
    extension each line may get now (for staff who may act)."""
    now = timezone.now()
    show_all = show_all if show_all in SECTIONS else ""

    def rows(section: str, queryset) -> list:
        return list(queryset[: ALL if section == show_all else RECENT])

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
    all_orders = Order.objects.filter(customer=customer)
    orders = rows(
        "orders",
        all_orders.annotate(goodwill=Exists(given), refunded=Subquery(refunded))
        .select_related("line", "receipt")
        .order_by("-created_at", "-pk"),
    )
    all_payments = Payment.objects.filter(order__customer=customer)
    payments = rows("payments", all_payments.select_related("order").order_by("-created_at", "-pk"))
    currencies = sorted({line.market.currency for line in lines} | set(all_orders.values_list("currency", flat=True)))
    # Everything audited about the customer, their lines and their orders (the newest first).
    about = Q(object_type="customers.customer", object_id=str(customer.pk))
    about |= Q(object_type="lines.line", object_id__in=[str(line.pk) for line in lines])
    about |= Q(object_type="orders.order", object_id__in=all_orders.values(key=Cast("pk", CharField())))
    all_audit = AuditEvent.objects.filter(about)
    all_notifications = Notification.objects.filter(customer=customer)
    all_tickets = customer.tickets.all()
    # How many each section holds, in one query (the page's cost does not grow with them).
    counts = (
        Customer.objects.filter(pk=customer.pk)
        .annotate(
            n_orders=_count(all_orders),
            n_payments=_count(all_payments),
            n_notifications=_count(all_notifications),
            n_tickets=_count(all_tickets),
            n_audit=_count(all_audit),
        )
        .values(*[f"n_{section}" for section in SECTIONS])
        .get()
    )
    counts = {section: counts[f"n_{section}"] or 0 for section in SECTIONS}
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
        notifications=rows("notifications", all_notifications.order_by("-created_at", "-pk")),
        audit=rows("audit", all_audit.order_by("-at", "-pk")),
        currencies=currencies,
        tickets=rows("tickets", all_tickets.select_related("assignee", "line").order_by("-created_at", "-pk")),
        counts=counts,
        show_all=show_all,
    )
