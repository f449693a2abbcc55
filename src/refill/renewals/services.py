"""Renewal: quote, order, pay, grant. The one code path every channel calls.

Money safety (architecture.md): the order is written first; the payment attempt is recorded and
committed before the provider is called; the provider is called outside any row lock; the result,
the periods, the buckets, the receipt, the audit row and the confirmation task are written in one
transaction. Locks are taken order -> line, the same order everywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from refill.audit.services import audit_record
from refill.catalog.models import Plan, PlanPrice
from refill.domain.lifecycle import LAPSED, LineStatus, is_renewable
from refill.domain.money import Money, minor_units, quantize
from refill.domain.periods import Span, ValidityKind, plan_periods
from refill.domain.pricing import Quote, price_item, quote
from refill.formatting import money_text
from refill.integrations.payments.base import (
    CardDetails,
    ChargeRequest,
    ChargeResult,
    ChargeStatus,
    PaymentGateway,
    PaymentToken,
)
from refill.ledger.models import Account, JournalEntry
from refill.ledger.services import InsufficientFunds, account_for, entry_post, wallet_balance, wallet_hold
from refill.lines.models import Line
from refill.lines.services import line_transition
from refill.orders.models import Order, OrderItem, Receipt
from refill.orders.services import receipt_issue, receipts_number
from refill.payments.models import Payment, PaymentMethod
from refill.subscriptions.models import Bucket, Period
from refill.subscriptions.selectors import periods_ahead

from .errors import (
    IdempotencyConflict,
    LineNotRenewable,
    NotOwner,
    OrderNotPayable,
    PaymentInProgress,
    PlanNotAvailable,
    PriceChanged,
    TooManyDeclines,
    TooManyPeriods,
    TopupOutOfRange,
    WalletTooLow,
)
from .tasks import fulfil_paid_order

# Card-testing guard: a customer whose cards were declined this often in the last hour must wait.
DECLINE_LIMIT_PER_HOUR = 10

logger = logging.getLogger(__name__)

RENEWABLE_PLAN_KINDS = (Plan.Kind.BASE, Plan.Kind.RETENTION)


@dataclass(frozen=True)
class RenewalQuote:
    line: Line
    plan: Plan
    price: PlanPrice
    periods: int
    quote: Quote
    spans: tuple[Span, ...]
    max_periods: int

    @property
    def new_period_end(self) -> datetime:
        return self.spans[-1].end

    @property
    def starts_now(self) -> bool:
        return self.line.period_end is None or self.spans[0].start != self.line.period_end


def renewal_plans(line: Line) -> list[Plan]:
    """Plans a line can renew onto, with a current price in its market's currency."""
    plans = Plan.objects.filter(market=line.market, is_active=True, kind__in=RENEWABLE_PLAN_KINDS)
    return [plan for plan in plans if plan.current_price(line.market.currency) is not None]


def _line_lapsed(line: Line, now: datetime) -> bool:
    return LineStatus(line.status) in LAPSED or line.period_end is None or line.period_end <= now


def _spans_for(line: Line, plan: Plan, periods: int, now: datetime) -> list[Span]:
    lapsed = _line_lapsed(line, now)
    anchor = None
    if not lapsed and plan.validity_kind != ValidityKind.DAYS:
        anchor = line.anchor_day
    return plan_periods(
        current_end=line.period_end,
        now=now,
        lapsed=lapsed,
        validity=plan.validity,
        count=periods,
        zone=line.market.zone,
        anchor_day=anchor,
    )


def renewal_quote(*, line: Line, plan: Plan, periods: int, now: datetime | None = None) -> RenewalQuote:
    """What ``periods`` periods of ``plan`` cost and when they would end. Validates everything a
    renewal must satisfy; raises a RefillError with a customer-facing message otherwise."""
    now = now or timezone.now()
    if not is_renewable(LineStatus(line.status)):
        raise LineNotRenewable()
    if plan.market_id != line.market_id or not plan.is_active or plan.kind not in RENEWABLE_PLAN_KINDS:
        raise PlanNotAvailable()
    price = plan.current_price(line.market.currency, now)
    if price is None:
        raise PlanNotAvailable()
    ahead = 0 if _line_lapsed(line, now) else periods_ahead(line, now)
    allowed = max(plan.max_prepaid_periods - ahead, 0)
    if periods < 1 or periods > allowed:
        raise TooManyPeriods(limit=plan.max_prepaid_periods, allowed=allowed)
    item = price_item(Money(price.amount, price.currency), periods)
    order_quote = quote(
        [item], tax_rate=line.market.tax_rate, tax_inclusive=line.market.tax_inclusive, currency=price.currency
    )
    spans = _spans_for(line, plan, periods, now)
    return RenewalQuote(line, plan, price, periods, order_quote, tuple(spans), allowed)


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def order_create_renewal(
    *,
    customer,
    line: Line,
    plan: Plan,
    periods: int,
    idempotency_key: str,
    expected_total: Decimal | None = None,
    language: str = "en",
    actor=None,
    now: datetime | None = None,
) -> Order:
    """Create (or return, for a replayed key) the order to renew ``line``. Charges nothing."""
    if not idempotency_key or len(idempotency_key) > 80:
        raise IdempotencyConflict()
    fingerprint = _fingerprint({"line": line.pk, "plan": plan.pk, "periods": periods})
    existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict()
        return existing
    if line.owner_id != customer.pk:
        raise NotOwner()
    try:
        with transaction.atomic():
            locked_line = Line.objects.select_related("market").select_for_update(of=("self",)).get(pk=line.pk)
            renewal = renewal_quote(line=locked_line, plan=plan, periods=periods, now=now)
            total = renewal.quote.total.amount
            if expected_total is not None and Decimal(expected_total) != total:
                raise PriceChanged()
            order = Order.objects.create(
                customer=customer,
                line=locked_line,
                market=locked_line.market,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                currency=renewal.price.currency,
                subtotal=renewal.quote.subtotal.amount,
                discount=renewal.quote.discount.amount,
                tax=renewal.quote.tax.amount,
                total=total,
                tax_rate=renewal.quote.tax_rate,
                tax_inclusive=renewal.quote.tax_inclusive,
                language=language,
                created_at=now or timezone.now(),
            )
            item = renewal.quote.items[0]
            OrderItem.objects.create(
                order=order,
                plan=plan,
                plan_price=renewal.price,
                periods=periods,
                unit_price=item.unit_price.amount,
                amount=item.amount.amount,
            )
            audit_record(actor=actor or customer, action="order.create", obj=order, data={"line": line.msisdn})
            return order
    except IntegrityError:
        # A concurrent request with the same key won the insert: answer as a replay would.
        existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict() from None
        return existing


ORDER_PAYABLE_FOR = timedelta(hours=24)
OPEN = [Payment.Status.PENDING, Payment.Status.UNKNOWN, Payment.Status.REQUIRES_ACTION]
ABANDONED_ACTION_AFTER = timedelta(minutes=30)
STALE_PENDING_AFTER = timedelta(seconds=settings.REFILL_STALE_PENDING_AFTER)


def _check_payable(order: Order, now: datetime) -> None:
    """Checks made under the order lock before any money moves (or is held)."""
    if order.status not in (Order.Status.AWAITING_PAYMENT, Order.Status.FAILED):
        raise OrderNotPayable()
    if order.created_at < timezone.now() - ORDER_PAYABLE_FOR and order.created_at < now - ORDER_PAYABLE_FOR:
        raise OrderNotPayable()  # a stale tab must not pay yesterday's price for yesterday's quote
    if order.line_id is None:
        # Top-ups: one open payment per customer at a time.
        if Payment.objects.filter(
            order__customer_id=order.customer_id, order__line__isnull=True, status__in=OPEN
        ).exists():
            raise PaymentInProgress()
        return
    line = Line.objects.select_related("market").select_for_update(of=("self",)).get(pk=order.line_id)
    # Invariant 4: no new attempt for a line while one of its payments is unknown, or pending so
    # long that its process probably died (a new order after a timeout must not charge again
    # before reconciliation knows what the first did). Another order's payment that is simply in
    # flight is allowed: its periods count against the prepaid limit below.
    stale = timezone.now() - STALE_PENDING_AFTER
    open_payments = Payment.objects.filter(order__line_id=line.pk).exclude(order_id=order.pk)
    if open_payments.filter(Q(status=Payment.Status.UNKNOWN) | Q(status=Payment.Status.PENDING, created_at__lt=stale)):
        raise PaymentInProgress()
    if order.payments.filter(status__in=OPEN).exists():
        raise PaymentInProgress()
    item = order.items.select_related("plan", "plan_price").get()
    if not is_renewable(LineStatus(line.status)):
        raise LineNotRenewable()
    if not item.plan.is_active:
        raise PlanNotAvailable()
    current = item.plan.current_price(order.currency, now)
    if current is None or current.pk != item.plan_price_id:
        raise PriceChanged()
    ahead = 0 if _line_lapsed(line, now) else periods_ahead(line, now)
    if ahead + item.periods > item.plan.max_prepaid_periods:
        raise TooManyPeriods(limit=item.plan.max_prepaid_periods, allowed=max(item.plan.max_prepaid_periods - ahead, 0))


def payment_start(
    *,
    order: Order,
    token: PaymentToken,
    gateway: PaymentGateway,
    wallet_amount: Decimal = Decimal(0),
    now: datetime | None = None,
) -> Payment | None:
    """Record a card attempt (and hold ``wallet_amount`` of the wallet for the rest) before the
    provider is called. Returns None if the order is already paid."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        # Paid, or charged and only waiting for its fulfilment: never charge again.
        if order.status == Order.Status.PAID or order.payments.filter(status=Payment.Status.SUCCEEDED).exists():
            return None
        _check_payable(order, now)
        declines = Payment.objects.filter(
            order__customer_id=order.customer_id,
            status=Payment.Status.FAILED,
            method=Payment.Method.CARD,
            created_at__gte=timezone.now() - timedelta(hours=1),
        ).count()
        if declines >= DECLINE_LIMIT_PER_HOUR:
            raise TooManyDeclines()
        wallet_amount = quantize(Decimal(wallet_amount), order.currency)
        if wallet_amount < 0 or wallet_amount >= order.total:
            raise OrderNotPayable()
        if wallet_amount:
            wallet_payment = Payment.objects.create(
                order=order,
                idempotency_key=f"wallet_{order.pk}_{uuid.uuid4().hex}",
                gateway="wallet",
                method=Payment.Method.WALLET,
                amount=wallet_amount,
                currency=order.currency,
            )
            _wallet_hold(wallet_payment, order)
        # The key sent to the provider must be unique across databases and resets, not just rows:
        # a provider keeps keys for days and would answer a reused one with an old charge.
        return Payment.objects.create(
            order=order,
            idempotency_key=f"pay_{order.pk}_{uuid.uuid4().hex}",
            gateway=gateway.name,
            method=Payment.Method.CARD,
            amount=order.total - wallet_amount,
            currency=order.currency,
            card_brand=token.brand,
            card_last4=token.last4,
            card_exp_month=token.exp_month,
            card_exp_year=token.exp_year,
        )


def _wallet_hold(payment: Payment, order: Order) -> None:
    """Move the wallet part of a wallet + card payment aside while the card is charged."""
    try:
        wallet_hold(
            customer=order.customer,
            currency=order.currency,
            amount=payment.amount,
            key=f"payment:{payment.pk}:hold",
            cause_id=payment.pk,
            memo=f"held for order {order.pk}",
        )
    except InsufficientFunds:
        raise WalletTooLow() from None


def _wallet_release(payment: Payment, order: Order) -> None:
    wallet_hold(
        customer=order.customer,
        currency=order.currency,
        amount=payment.amount,
        key=f"payment:{payment.pk}:release",
        cause_id=payment.pk,
        memo=f"released: card payment for order {order.pk} failed",
        release=True,
    )


def order_pay_card(
    *,
    order: Order,
    token: PaymentToken,
    gateway: PaymentGateway,
    wallet_amount: Decimal = Decimal(0),
    actor=None,
    now: datetime | None = None,
    return_url: str = "",
    customer_reference: str = "",
    off_session: bool = False,
) -> Payment | None:
    """Charge ``token`` for ``order`` (less ``wallet_amount`` taken from the wallet) exactly once
    and, if it succeeds, fulfil the order. A saved method passes its provider customer; an
    auto-renewal, with nobody there to confirm with the bank, passes ``off_session``."""
    payment = payment_start(order=order, token=token, gateway=gateway, wallet_amount=wallet_amount, now=now)
    if payment is None:
        order_fulfil_paid(order_id=order.pk, actor=actor, now=now)
        return order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-method").first()

    def record_reference(reference: str) -> None:
        # Committed on its own before the provider can move money, so a lost answer can be looked up.
        Payment.objects.filter(pk=payment.pk).update(provider_reference=reference[:100])

    try:
        result = gateway.charge(
            ChargeRequest(
                amount=payment.amount,
                currency=payment.currency,
                token=token.token,
                idempotency_key=payment.idempotency_key,
                description=f"Refill order {order.pk}",
                return_url=return_url,
                customer_reference=customer_reference,
                off_session=off_session,
                on_reference=record_reference,
            )
        )
    except Exception:
        # We do not know whether the provider charged: leave it unknown for reconciliation,
        # never retry blindly (invariant 4).
        logger.exception("payment %s: provider call failed", payment.pk)
        result = ChargeResult(ChargeStatus.UNKNOWN)
    payment = payment_complete(payment=payment, result=result, actor=actor, now=now)
    receipt = Receipt.objects.filter(order_id=order.pk).first()
    if receipt is not None:
        # After the checkout transaction: number the receipt in a short transaction of its own.
        receipts_number(series_code=receipt.series_id)
    return payment


@dataclass(frozen=True)
class PayWith:
    """How the customer chose to pay an order: a card typed now, a saved method, a provider wallet
    (redirect-and-return), the wallet alone (none of these), or the wallet first and a card or
    saved method for the rest (``use_wallet``)."""

    card: CardDetails | None = None
    saved_method: PaymentMethod | None = None
    provider_wallet: str = ""
    use_wallet: bool = False


def wallet_share(order: Order) -> Decimal:
    """What the wallet covers when it pays first and a card the rest: all of it but at least one
    minor unit, which the card pays."""
    one_minor_unit = Decimal(1).scaleb(-minor_units(order.currency))
    return max(min(wallet_balance(order.customer, order.currency), order.total - one_minor_unit), Decimal(0))


def order_pay(*, order: Order, pay_with: PayWith, actor=None, return_url: str = "") -> Payment | None:
    """Pay ``order`` the way the customer chose, through the configured gateway. Shared by the
    portal and the API. Raises TokenizationError for a card the provider refuses outright and
    RefillError for an order that cannot be paid now; a decline comes back as a failed payment."""
    from refill.integrations.payments.base import get_gateway

    gateway = get_gateway()
    saved = pay_with.saved_method
    if saved is not None:
        token = PaymentToken(saved.token, saved.brand, saved.last4, saved.exp_month or 0, saved.exp_year or 0)
    elif pay_with.provider_wallet:
        if not hasattr(gateway, "tokenize_wallet"):
            raise OrderNotPayable()
        token = gateway.tokenize_wallet(pay_with.provider_wallet)
    elif pay_with.card is not None:
        token = gateway.tokenize(pay_with.card)
    else:
        return order_pay_wallet(order=order, actor=actor)
    return order_pay_card(
        order=order,
        token=token,
        gateway=gateway,
        wallet_amount=wallet_share(order) if pay_with.use_wallet else Decimal(0),
        actor=actor,
        return_url=return_url,
        customer_reference=saved.provider_customer if saved is not None else "",
    )


def _order_pay_in_house(
    *, order: Order, method: str, gateway: str, actor, now: datetime | None, refuse_topups: bool = False
) -> Payment | None:
    """Pay the whole order with money Refill holds itself (the wallet, a shop's cash): record the
    payment and fulfil in one transaction, since no outside party has to answer first. An order
    already paid or charged is only fulfilled (if it is not yet), never paid again."""
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        existing = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-method").first()
        charged = order.status == Order.Status.PAID or existing is not None
        if not charged:
            if refuse_topups and order.items.filter(kind=OrderItem.Kind.WALLET_TOPUP).exists():
                raise OrderNotPayable()
            _check_payable(order, now)
            payment = Payment.objects.create(
                order=order,
                idempotency_key=f"{method}_{order.pk}_{uuid.uuid4().hex}",
                gateway=gateway,
                method=method,
                status=Payment.Status.SUCCEEDED,
                amount=order.total,
                currency=order.currency,
                completed_at=now,
            )
            try:
                order_fulfil(order=order, payments=[payment], actor=actor, now=now)
            except InsufficientFunds:
                raise WalletTooLow() from None
    if charged:
        order_fulfil_paid(order_id=order.pk, actor=actor, now=now)
        return existing
    receipts_number(series_code=order.receipt.series_id)
    return payment


def order_pay_wallet(*, order: Order, actor=None, now: datetime | None = None) -> Payment | None:
    """Pay the whole order from the customer's wallet, in one transaction with the fulfilment."""
    return _order_pay_in_house(
        order=order, method=Payment.Method.WALLET, gateway="wallet", actor=actor, now=now, refuse_topups=True
    )


def order_pay_cash(*, order: Order, agent, now: datetime | None = None) -> Payment:
    """A shop agent took the order's total in cash: record it and fulfil in one transaction. The
    cash is owed by the agent's drawer (ledger account shop_cash:<agent>)."""
    return _order_pay_in_house(
        order=order, method=Payment.Method.CASH, gateway=f"agent-{agent.pk}", actor=agent, now=now
    )


def payment_complete(*, payment: Payment, result: ChargeResult, actor=None, now: datetime | None = None) -> Payment:
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if payment.is_terminal:
            return payment
        held = list(order.payments.filter(method=Payment.Method.WALLET, status=Payment.Status.PENDING))
        payment.provider_reference = result.provider_reference or payment.provider_reference
        if result.status == ChargeStatus.REQUIRES_ACTION:
            # The customer confirms with their bank first; the wallet part stays held meanwhile.
            payment.status = Payment.Status.REQUIRES_ACTION
            payment.action_url = result.next_url
            payment.save()
            return payment
        if result.status == ChargeStatus.SUCCEEDED:
            payment.status = Payment.Status.SUCCEEDED
            payment.completed_at = timezone.now()
            payment.save()
            for wallet_payment in held:
                wallet_payment.status = Payment.Status.SUCCEEDED
                wallet_payment.completed_at = payment.completed_at
                wallet_payment.save(update_fields=["status", "completed_at"])
            # Fulfilment is retried by a task if it fails below; enqueued here so it cannot be lost.
            fulfil_paid_order.enqueue(order.pk)
        elif result.status == ChargeStatus.FAILED:
            payment.status = Payment.Status.FAILED
            payment.decline_code = result.decline_code or ""
            payment.completed_at = timezone.now()
            payment.save()
            for wallet_payment in held:
                _wallet_release(wallet_payment, order)
                wallet_payment.status = Payment.Status.FAILED
                wallet_payment.decline_code = payment.decline_code
                wallet_payment.completed_at = payment.completed_at
                wallet_payment.save(update_fields=["status", "decline_code", "completed_at"])
            audit_record(
                actor=actor or order.customer, action="payment.failed", obj=payment, reason=payment.decline_code
            )
        else:
            # The wallet hold stays until reconciliation knows what the card did.
            payment.status = Payment.Status.UNKNOWN
            payment.save()
            audit_record(actor=actor or order.customer, action="payment.unknown", obj=payment)
    if payment.status == Payment.Status.SUCCEEDED:
        try:
            order_fulfil_paid(order_id=order.pk, actor=actor, now=now)
        except Exception:
            # The money is recorded; the enqueued task (and ledger_check) make sure the order is
            # fulfilled or flagged. Never roll the recorded charge back.
            logger.exception("order %s: fulfilment failed after payment %s; the task will retry", order.pk, payment.pk)
    return payment


RECONCILE_BACKOFF = [timedelta(minutes=minutes) for minutes in (1, 2, 5, 10, 30, 60)]


def payments_reconcile(*, now: datetime | None = None, batch: int = 200) -> int:
    """Ask the provider about card attempts left unknown, or pending so long that their process
    must have died, and settle them exactly as if the answer had come back in time: a success is
    fulfilled once, a failure releases any wallet hold. Unanswered ones are asked again later, at
    growing intervals (1, 2, 5, 10, 30, then every 60 minutes). Safe to run twice or on two machines:
    settling goes through payment_complete, which locks the payment and ignores a settled one."""
    from refill.integrations.payments.base import get_gateway

    now = now or timezone.now()
    due = (
        Payment.objects.filter(method=Payment.Method.CARD)
        .filter(
            Q(status=Payment.Status.UNKNOWN)
            | Q(status=Payment.Status.PENDING, created_at__lt=now - STALE_PENDING_AFTER)
            | Q(status=Payment.Status.REQUIRES_ACTION, created_at__lt=now - ABANDONED_ACTION_AFTER)
        )
        .filter(Q(next_check_at__isnull=True) | Q(next_check_at__lte=now))
        .order_by("pk")[:batch]
    )
    settled = 0
    for payment in due:
        try:
            gateway = get_gateway(payment.gateway)
            if payment.status == Payment.Status.REQUIRES_ACTION:
                # Abandoned at the bank's confirmation step: cancel it, so a late confirmation fails.
                result = gateway.cancel(payment.idempotency_key, payment.provider_reference)
            else:
                result = gateway.fetch(payment.idempotency_key, payment.provider_reference)
        except Exception:
            logger.exception("payment %s: the provider did not answer the status request", payment.pk)
            result = ChargeResult(ChargeStatus.UNKNOWN)
        if result.status in (ChargeStatus.UNKNOWN, ChargeStatus.REQUIRES_ACTION):
            delay = RECONCILE_BACKOFF[min(payment.reconcile_attempts, len(RECONCILE_BACKOFF) - 1)]
            Payment.objects.filter(pk=payment.pk, status__in=OPEN).update(
                status=Payment.Status.UNKNOWN,
                reconcile_attempts=F("reconcile_attempts") + 1,
                next_check_at=now + delay,
            )
            continue
        Payment.objects.filter(pk=payment.pk).update(reconcile_attempts=F("reconcile_attempts") + 1)
        completed = payment_complete(payment=payment, result=result, now=now)
        audit_record(actor=None, action="payment.reconciled", obj=completed, reason=completed.status)
        settled += 1
    if settled:
        receipts_number()
    return settled


def payment_resume(*, payment: Payment, actor=None) -> Payment:
    """The customer is back from their bank's confirmation step: ask the provider how it ended and
    settle the attempt (still waiting is a fine answer too)."""
    from refill.integrations.payments.base import get_gateway

    if payment.status != Payment.Status.REQUIRES_ACTION:
        return payment
    try:
        result = get_gateway(payment.gateway).fetch(payment.idempotency_key, payment.provider_reference)
    except Exception:
        logger.exception("payment %s: the provider did not answer after the confirmation step", payment.pk)
        return payment
    if result.status == ChargeStatus.REQUIRES_ACTION:
        return payment
    payment = payment_complete(payment=payment, result=result, actor=actor)
    receipts_number()
    return payment


def order_fulfil_paid(*, order_id: int, actor=None, now: datetime | None = None) -> bool:
    """Fulfil an order whose successful payments cover its total. Idempotent; True once paid."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if order.status == Order.Status.PAID:
            return True
        payments = list(order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("pk"))
        if sum((p.amount for p in payments), Decimal(0)) != order.total:
            return False
        order_fulfil(order=order, payments=payments, actor=actor, now=now)
        return True


def _grant_buckets(line: Line, plan: Plan, period: Period) -> None:
    allowances = (
        (Bucket.Kind.DATA, plan.data_mb),
        (Bucket.Kind.VOICE, plan.voice_minutes),
        (Bucket.Kind.SMS, plan.sms),
    )
    Bucket.objects.bulk_create(
        Bucket(
            line=line,
            period=period,
            kind=kind,
            granted=amount or 0,
            unlimited=amount is None,
            valid_from=period.start,
            expires_at=period.end,
            source=Bucket.Source.PERIOD,
        )
        for kind, amount in allowances
        if amount != 0
    )
    # Rule 6: a plan whose rule is "roll over once" lets the previous period's unused allowance
    # live on through this period, and only this one.
    Bucket.objects.filter(
        line=line,
        source=Bucket.Source.PERIOD,
        period__end=period.start,
        period__plan__rollover=Plan.Rollover.ONCE,
        period__revoked_at__isnull=True,
        rolled_over=False,
    ).update(expires_at=period.end, rolled_over=True)


def ledger_order_capture(*, order: Order, payments: list[Payment], actor=None) -> None:
    """Post the order's one capture entry: what each payment brought in (card clearing, wallet, or
    the wallet money held for it) against revenue per plan kind, tax, or the wallet for a top-up.
    Runs in the fulfilment transaction, so money and service commit together."""
    currency = order.currency
    customer = order.customer
    postings = []
    for payment in payments:
        if payment.method == Payment.Method.WALLET:
            held = JournalEntry.objects.filter(idempotency_key=f"payment:{payment.pk}:hold").exists()
            purpose = Account.Purpose.WALLET_HOLD if held else Account.Purpose.WALLET
            account = account_for(purpose, currency, customer=customer)
        elif payment.method == Payment.Method.CASH:
            account = account_for(Account.Purpose.SHOP_CASH, currency, reference=payment.gateway)
        else:
            account = account_for(Account.Purpose.CLEARING, currency, reference=payment.gateway)
        postings.append((account, payment.amount))
    items = list(order.items.select_related("plan"))
    topups = sum((item.amount for item in items if item.kind == OrderItem.Kind.WALLET_TOPUP), Decimal(0))
    if topups:
        postings.append((account_for(Account.Purpose.WALLET, currency, customer=customer), -topups))
    sales = [item for item in items if item.kind == OrderItem.Kind.RENEWAL]
    revenue = order.total - order.tax - topups
    gross = sum((item.amount for item in sales), Decimal(0)) or Decimal(1)
    allocated = Decimal(0)
    by_kind: dict[str, Decimal] = {}
    for index, item in enumerate(sales):
        # Revenue is shared across items by their gross amount; the last item takes the rounding rest.
        share = revenue - allocated if index == len(sales) - 1 else quantize(revenue * item.amount / gross, currency)
        allocated += share
        by_kind[item.plan.kind] = by_kind.get(item.plan.kind, Decimal(0)) + share
    for kind, amount in by_kind.items():
        postings.append((account_for(Account.Purpose.REVENUE, currency, reference=kind), -amount))
    if order.tax:
        postings.append((account_for(Account.Purpose.TAX, currency, reference=order.market.code), -order.tax))
    if order.total == 0:
        return  # nothing moved: a free order has no capture entry
    entry_post(
        key=f"order:{order.pk}:capture",
        cause=JournalEntry.Cause.ORDER,
        cause_id=order.pk,
        postings=postings,
        actor=actor,
        memo=f"order {order.pk} paid",
    )


def order_fulfil(*, order: Order, payments: list[Payment], actor=None, now: datetime | None = None) -> None:
    """Grant what a paid order bought. Called inside the payment transaction with the order
    locked; the (order_item, sequence) constraint makes a second grant impossible."""
    if order.status == Order.Status.PAID:
        return
    from refill.notifications.tasks import send_order_confirmation

    now = now or timezone.now()
    renewals = list(order.items.select_related("plan").filter(kind=OrderItem.Kind.RENEWAL).order_by("pk"))
    line = None
    if renewals:
        line = Line.objects.select_related("market").select_for_update(of=("self",)).get(pk=order.line_id)
    for item in renewals:
        plan = item.plan
        spans = _spans_for(line, plan, item.periods, now)
        if plan.validity_kind == ValidityKind.DAYS:
            line.anchor_day = None
        elif _line_lapsed(line, now) or line.anchor_day is None:
            line.anchor_day = spans[0].start.astimezone(line.market.zone).day
        for sequence, span in enumerate(spans, start=1):
            period = Period.objects.create(
                line=line, plan=plan, order_item=item, sequence=sequence, start=span.start, end=span.end
            )
            _grant_buckets(line, plan, period)
        if line.period_end is None or spans[-1].end > line.period_end:
            line.period_end = spans[-1].end
        line.plan = plan
    if line is not None:
        current = Period.objects.filter(line=line, start__lte=now, end__gt=now).select_related("plan").first()
        retained = current is not None and current.plan.kind == Plan.Kind.RETENTION
        target = LineStatus.RETAINED if retained else LineStatus.ACTIVE
        line_transition(line=line, target=target, cause="renewal", reference=f"order:{order.pk}")
        line.save()
    order.status = Order.Status.PAID
    order.paid_at = now
    order.save(update_fields=["status", "paid_at"])
    ledger_order_capture(order=order, payments=payments, actor=actor)
    receipt = receipt_issue(order=order, now=now)
    audit_record(
        actor=actor or order.customer,
        action="order.paid",
        obj=order,
        data={
            "payments": [payment.pk for payment in payments],
            "receipt_series": receipt.series_id,
            "period_end": line.period_end.isoformat() if line else None,
        },
    )
    # Enqueued in this transaction: the database task backend makes it visible only on commit.
    send_order_confirmation.enqueue(order.pk)


def wallet_topup_limits(currency: str) -> tuple[Decimal, Decimal]:
    limits = settings.REFILL_WALLET_TOPUP_LIMITS.get(currency) or settings.REFILL_WALLET_TOPUP_LIMITS["default"]
    return Decimal(limits[0]), Decimal(limits[1])


def order_create_topup(
    *, customer, market, amount: Decimal, idempotency_key: str, language: str = "en", actor=None
) -> Order:
    """An order to add ``amount`` to the customer's wallet in the market's currency."""
    currency = market.currency
    try:
        amount = Decimal(amount)
    except (ArithmeticError, TypeError, ValueError):
        raise TopupOutOfRange(low="", high="") from None
    low, high = wallet_topup_limits(currency)
    if not amount.is_finite() or quantize(amount, currency) != amount or not low <= amount <= high:
        raise TopupOutOfRange(low=money_text(low, currency), high=money_text(high, currency))
    fingerprint = _fingerprint({"topup": str(amount), "currency": currency})
    existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
    if existing is not None:
        if existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict()
        return existing
    try:
        with transaction.atomic():
            order = Order.objects.create(
                customer=customer,
                market=market,
                idempotency_key=idempotency_key,
                request_fingerprint=fingerprint,
                currency=currency,
                subtotal=amount,
                tax=Decimal(0),
                total=amount,
                tax_rate=Decimal(0),
                tax_inclusive=True,
                language=language,
            )
            OrderItem.objects.create(
                order=order, kind=OrderItem.Kind.WALLET_TOPUP, periods=1, unit_price=amount, amount=amount
            )
            audit_record(actor=actor or customer, action="order.create", obj=order, data={"topup": str(amount)})
            return order
    except IntegrityError:
        existing = Order.objects.filter(customer=customer, idempotency_key=idempotency_key).first()
        if existing is None or existing.request_fingerprint != fingerprint:
            raise IdempotencyConflict() from None
        return existing
