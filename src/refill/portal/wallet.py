"""The wallet page's reads: the currencies a customer can hold (their own market's first) and the
statement, each movement in words that say what the money did (for an order: which kind, which
number, which plan or add-on)."""

from __future__ import annotations

from decimal import Decimal

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from refill.catalog.models import Market
from refill.ledger.models import Account, JournalLine
from refill.lines.selectors import customer_markets_ranked
from refill.orders.models import OrderItem

STATEMENT_ROWS = 50


def wallet_markets(customer) -> list[Market]:
    """Markets whose currency the customer can hold (those of their lines), their home market
    first (``lines.selectors.customer_markets_ranked``, the rule a new number's country follows
    too)."""
    return customer_markets_ranked(customer)


def wallet_statement(customer, currency: str) -> list[dict]:
    """The last movements of the customer's wallet in ``currency``, newest first, with the
    balance after each."""
    rows = []
    balance = Decimal(0)
    lines = list(
        JournalLine.objects.filter(
            account__purpose=Account.Purpose.WALLET, account__customer=customer, account__currency=currency
        )
        .select_related("entry")
        .order_by("entry__created_at", "pk")
    )
    items = _order_items({line.entry.cause_id for line in lines if line.entry.cause == "order"})
    for line in lines:
        change = -Decimal(line.amount)  # the wallet is a liability: a credit adds to it
        balance += change
        rows.append(
            {
                "at": line.entry.created_at,
                "cause": statement_label(line.entry.cause, change, items.get(line.entry.cause_id)),
                "change": change,
                "balance": balance,
            }
        )
    rows.reverse()
    return rows[:STATEMENT_ROWS]


def _order_items(order_ids: set[str]) -> dict[str, OrderItem]:
    """The item of each order the wallet paid for or was topped up by (one query)."""
    ids = [int(pk) for pk in order_ids if str(pk).isdigit()]
    items = OrderItem.objects.filter(order_id__in=ids).select_related("plan", "order__line").order_by("pk")
    found: dict[str, OrderItem] = {}
    for item in items:
        found.setdefault(str(item.order_id), item)
    return found


def statement_label(cause: str, change: Decimal, item: OrderItem | None = None) -> str:
    """A wallet movement in the customer's words."""
    if cause == "order":
        return _order_label(change, item)
    labels = {
        "wallet_hold": _("Held for a card payment"),
        "wallet_release": _("Returned: the card payment failed"),
        "voucher": pgettext("the card", "Refill PIN"),
        "refund": _("Refund"),
        "cash": _("Cash in a shop"),
        "adjustment": _("Adjustment by our staff"),
    }
    return labels.get(cause, cause)


def _order_label(change: Decimal, item: OrderItem | None) -> str:
    if change > 0 or (item is not None and item.kind == OrderItem.Kind.WALLET_TOPUP):
        return _("Top-up")
    if item is None or item.plan_id is None:
        return _("Paid for an order")
    line = item.order.line
    # The number never breaks across lines on a phone ("+1 202-555-" / "0186").
    number = format_html('<span class="nowrap">{}</span>', line.msisdn_display) if line is not None else ""
    words = {"plan": conditional_escape(item.plan.name), "number": number}
    if item.kind == OrderItem.Kind.ADDON:
        return mark_safe(conditional_escape(_("Add-on for %(number)s: %(plan)s")) % words)
    return mark_safe(conditional_escape(_("Renewal of %(number)s: %(plan)s")) % words)
