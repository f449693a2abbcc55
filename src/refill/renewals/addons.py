"""Add-on passes (domain.md rule 5): a data or voice booster bought for a line's running period.

An add-on order is an ordinary order with one ``OrderItem.Kind.ADDON`` item: it is paid through the
same paths as a renewal (card, saved card, wallet, cash at a shop) and fulfilled by the same
``orders_fulfil``. What differs is what it grants and when it may be bought:

- it may be bought, and paid, only while the line has a running period (active, or retained on a
  "keep my number" plan): a pass attaches to that period, so a lapsed line has nothing to attach to;
- it grants the pass's allowances as buckets (``source=addon``) valid from the payment until the
  running period ends, or earlier if the pass's own validity ends first; no period is granted, and
  the line's end, plan and status do not change;
- each bucket names the order item that paid for it, and (order_item, kind) is unique, so a paid
  add-on grants exactly once however often its fulfilment runs;
- no prepaid-periods limit applies, and no promotion is taken;
- a charge the provider confirms only after the line stopped running (a bank's confirmation that
  took long, an answer found by reconciliation) cannot grant the pass: the order is recorded paid
  with nothing granted and refunded in full at once, to where the money came from, with the reason
  "could not be delivered" (``addon_refund_undelivered``). The customer is never left charged for
  a pass they did not get; ledger_check flags such an order until its refund is made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.catalog.models import Plan, PlanPrice
from refill.domain.money import Money
from refill.domain.pricing import Quote, price_item, quote
from refill.errors import RefillError
from refill.lines.models import Line
from refill.orders.batch import LINE_STATE, lock_fresh, payload_fingerprint
from refill.orders.errors import AddonLineNotRunning, IdempotencyConflict, NotOwner, PriceChanged
from refill.orders.models import Order, OrderItem
from refill.orders.pricing import CHANNELS
from refill.subscriptions.grants import addon_line_running, addon_until, periods_running
from refill.subscriptions.models import Period

logger = logging.getLogger(__name__)


class AddonNotAvailable(RefillError):
    code = "addon_not_available"
    message = _("This add-on is not available for this number.")


@dataclass(frozen=True)
class AddonQuote:
    """What ``plan`` costs on ``line`` now, and how long it would last: from now until the running
    ``period`` ends, or until the pass's own validity ends if that comes first."""

    line: Line
    plan: Plan
    price: PlanPrice
    quote: Quote
    period: Period
    valid_from: datetime
    valid_until: datetime

    @property
    def ends_with_period(self) -> bool:
        """Whether the pass is cut short by the end of the line's running period."""
        return self.valid_until == self.period.end


def addon_grants_something(plan: Plan) -> bool:
    """A pass without any allowance would grant nothing: it is not sold."""
    return any(amount != 0 for amount in (plan.data_mb, plan.voice_minutes, plan.sms))


def addon_plans(line: Line, now: datetime | None = None) -> list[Plan]:
    """The add-on passes of the line's market that can be bought, with a current price."""
    now = now or timezone.now()
    plans = Plan.objects.filter(market=line.market_id, is_active=True, kind=Plan.Kind.ADDON)
    return [
        plan
        for plan in plans
        if addon_grants_something(plan) and plan.current_price(line.market.currency, now) is not None
    ]


def addon_plan_pick(plans: list[Plan], code: str | None) -> Plan | None:
    """The pass a form shows chosen: the one asked for, else the first."""
    return next((plan for plan in plans if code and plan.code == code), plans[0] if plans else None)


def addon_quote(*, line: Line, plan: Plan, now: datetime | None = None) -> AddonQuote:
    """What ``plan`` costs on ``line`` now with the market's tax, and until when it would last.
    Raises a RefillError with a customer-facing message if it cannot be bought now."""
    now = now or timezone.now()
    if (
        plan.market_id != line.market_id
        or plan.kind != Plan.Kind.ADDON
        or not plan.is_active
        or not addon_grants_something(plan)
    ):
        raise AddonNotAvailable()
    price = plan.current_price(line.market.currency, now)
    if price is None:
        raise AddonNotAvailable()
    period = periods_running([line.pk], now).get(line.pk)
    if not addon_line_running(line, period, now):
        raise AddonLineNotRunning()
    item = price_item(Money(price.amount, price.currency), 1)
    order_quote = quote(
        [item], tax_rate=line.market.tax_rate, tax_inclusive=line.market.tax_inclusive, currency=price.currency
    )
    return AddonQuote(line, plan, price, order_quote, period, now, addon_until(line, plan, period, now))


def _addon_fingerprint(line: Line, plan: Plan) -> str:
    # "addon" keeps it apart from a renewal's body for the same line and plan.
    return payload_fingerprint({"addon": plan.pk, "line": line.pk})


def order_create_addon(
    *,
    customer,
    line: Line,
    plan: Plan,
    idempotency_key: str,
    language: str,
    actor=None,
    channel: str = "web",
    expected_total: Decimal | None = None,
    now: datetime | None = None,
) -> Order:
    """Create (or return, for a replayed key) the order for the add-on pass ``plan`` on ``line``.
    Charges nothing. The same key with another line or pass is refused (IdempotencyConflict); a
    price other than the one shown (``expected_total``) is refused (PriceChanged)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    if not idempotency_key or len(idempotency_key) > 80:
        raise IdempotencyConflict()
    fingerprint = _addon_fingerprint(line, plan)

    def replayed() -> Order | None:
        existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is not None and existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict()
        return existing

    existing = replayed()
    if existing is not None:
        return existing
    if line.owner_id != customer.pk:
        raise NotOwner()
    at = now or timezone.now()
    try:
        with transaction.atomic():
            # The line as it is now (the quote reads its status and running period under the lock).
            if line.pk not in lock_fresh(Line, [line], LINE_STATE) or line.owner_id != customer.pk:
                raise NotOwner()
            addon = addon_quote(line=line, plan=plan, now=at)
            if expected_total is not None and Decimal(expected_total) != addon.quote.total.amount:
                raise PriceChanged()
            priced = addon.quote
            order = Order.objects.create(
                customer=customer,
                line=line,
                market=line.market,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                currency=addon.price.currency,
                subtotal=priced.subtotal.amount,
                discount=priced.discount.amount,
                tax=priced.tax.amount,
                total=priced.total.amount,
                tax_rate=priced.tax_rate,
                tax_inclusive=priced.tax_inclusive,
                language=language,
                created_at=at,
            )
            OrderItem.objects.create(
                order=order,
                kind=OrderItem.Kind.ADDON,
                plan=plan,
                plan_price=addon.price,
                periods=1,
                unit_price=priced.items[0].unit_price.amount,
                amount=priced.items[0].amount.amount,
            )
            audit_record(
                actor=actor or customer,
                action="order.create",
                obj=order,
                data={"line": line.msisdn, "addon": plan.code, "channel": channel},
            )
            return order
    except IntegrityError:
        # A concurrent request with this key won its insert: answer as a replay would.
        existing = replayed()
        if existing is None:
            raise
        return existing
