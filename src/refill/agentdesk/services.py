"""The shop counter's writes: proving who the customer at the counter is (their shop PIN, or a
one-time code sent to the line), tying the orders made there to the shop, and closing the shop's
cash drawer at the end of the day. Every verification, failed attempt and close is audited."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.contrib.auth.hashers import check_password
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone, translation
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refill.audit.models import AuditEvent
from refill.audit.services import audit_record
from refill.domain.money import quantize
from refill.errors import RefillError
from refill.integrations.sms.base import send_sms
from refill.lines.models import Line
from refill.orders.models import Order, OrderItem
from refill.payments.models import Payment

from .models import CommissionRate, DrawerClose, OneTimeCode, Shop, ShopAgent, ShopSale

# How long a verified customer may be served before they must prove themselves again.
VERIFICATION_LIFETIME = timedelta(minutes=15)
CODE_LIFETIME = timedelta(minutes=10)
CODE_ATTEMPTS = 5
CODE_DIGITS = 6
# Codes sent to one line: at most one a minute and five an hour, whichever shop asks.
CODE_RESEND_AFTER = timedelta(minutes=1)
CODES_PER_HOUR = 5
# Wrong shop PINs for one line in the last hour before the PIN is refused (a code still works).
PIN_FAILURES_PER_HOUR = 5


class NoShop(RefillError):
    code = "no_shop"
    message = gettext_lazy(
        "Your account is not assigned to a shop, so you cannot use the shop counter. "
        "Ask your manager to add you to one."
    )


class LineNotVerified(RefillError):
    code = "line_not_verified"
    message = gettext_lazy(
        "Verify the customer first, with their shop PIN or a code sent to the number. A verification lasts 15 minutes."
    )


class ShopPinNotSet(RefillError):
    code = "shop_pin_not_set"
    message = gettext_lazy("This customer has no shop PIN. Send a code to the number instead.")


class ShopPinWrong(RefillError):
    code = "shop_pin_wrong"
    message = gettext_lazy("That shop PIN is not right. Ask the customer to try again, or send a code to the number.")


class ShopPinLocked(RefillError):
    code = "shop_pin_locked"
    message = gettext_lazy("Too many wrong shop PINs for this number. Send a code to the number instead.")


class CodeRateLimited(RefillError):
    code = "code_rate_limited"
    message = gettext_lazy(
        "A code was sent to this number very recently. Wait a minute before sending another (at most 5 an hour)."
    )


class CodeNotSent(RefillError):
    code = "code_not_sent"
    message = gettext_lazy("We could not send the code. Try again in a minute, or use the shop PIN.")


class CodeWrong(RefillError):
    code = "code_wrong"
    message = gettext_lazy("That code is not right. Check it and try again.")


class CodeExpired(RefillError):
    code = "code_expired"
    message = gettext_lazy("That code has expired or was tried too many times. Send a new one.")


class CountedInvalid(RefillError):
    code = "counted_invalid"
    message = gettext_lazy("Enter the cash you counted, 0 or more, in %(currency)s.")


class DrawerCloseConflict(RefillError):
    code = "drawer_close_conflict"
    message = gettext_lazy("This count was already recorded with a different amount. Start the close again.")


def shop_of(user) -> Shop | None:
    """The active shop ``user`` works for, if any."""
    if not getattr(user, "pk", None):
        return None
    link = ShopAgent.objects.select_related("shop__market").filter(user=user, shop__active=True).first()
    return link.shop if link is not None else None


# --- verification -------------------------------------------------------------------------------


def _verified(*, line: Line, shop: Shop, agent, method: str) -> None:
    audit_record(actor=agent, action="agentdesk.verified", obj=line, data={"method": method, "shop": shop.code})


def _failed(*, line: Line, shop: Shop, agent, method: str, reason: str) -> None:
    audit_record(
        actor=agent,
        action="agentdesk.verify_failed",
        obj=line,
        data={"method": method, "reason": reason, "shop": shop.code},
    )


def shop_pin_verify(*, line: Line, shop: Shop, agent, pin: str, now: datetime | None = None) -> None:
    """Check the PIN the customer typed against their shop PIN (Customer.shop_pin_hash, a Django
    password hash). Returns if it matches; raises why not. Wrong PINs are counted per line: after
    PIN_FAILURES_PER_HOUR in an hour the PIN is refused, so a counter cannot guess it."""
    now = now or timezone.now()
    customer = line.owner
    failures = AuditEvent.objects.filter(
        action="agentdesk.verify_failed",
        object_type=Line._meta.label_lower,
        object_id=str(line.pk),
        data__method="pin",
        at__gte=now - timedelta(hours=1),
    ).count()
    if failures >= PIN_FAILURES_PER_HOUR:
        _failed(line=line, shop=shop, agent=agent, method="pin", reason="locked")
        raise ShopPinLocked()
    if not customer.shop_pin_hash:
        _failed(line=line, shop=shop, agent=agent, method="pin", reason="no_pin")
        raise ShopPinNotSet()
    if not check_password(pin, customer.shop_pin_hash):
        _failed(line=line, shop=shop, agent=agent, method="pin", reason="wrong")
        raise ShopPinWrong()
    _verified(line=line, shop=shop, agent=agent, method="pin")


def _code_hash(line: Line, code: str) -> str:
    return salted_hmac("refill.agentdesk.one-time-code", f"{line.pk}:{code}", algorithm="sha256").hexdigest()


def verification_code_send(*, line: Line, shop: Shop, agent, now: datetime | None = None) -> OneTimeCode:
    """Send a fresh 6-digit code by SMS to ``line``, in its owner's language. Only a keyed hash is
    kept. Earlier codes for the line from this shop stop working. Rate limited per line."""
    now = now or timezone.now()
    recent = OneTimeCode.objects.filter(line=line, created_at__gte=now - timedelta(hours=1))
    if recent.filter(created_at__gt=now - CODE_RESEND_AFTER).exists() or recent.count() >= CODES_PER_HOUR:
        raise CodeRateLimited()
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    with transaction.atomic():
        OneTimeCode.objects.filter(line=line, shop=shop, used_at__isnull=True).update(used_at=now)
        sent = OneTimeCode.objects.create(
            line=line,
            shop=shop,
            agent=agent,
            code_hash=_code_hash(line, code),
            created_at=now,
            expires_at=now + CODE_LIFETIME,
        )
        audit_record(actor=agent, action="agentdesk.code_sent", obj=line, data={"shop": shop.code})
    # Sent after the commit: a code the database does not know must never reach the customer.
    with translation.override(line.owner.preferred_language):
        body = _(
            "Your Refill code for %(shop)s is %(code)s. It expires in 10 minutes. "
            "Give it only to the shop agent serving you."
        ) % {"shop": shop.name, "code": code}
    try:
        send_sms(to=line.msisdn, body=body)
    except Exception:
        # Not sent: the code does not count against the line's limit, and cannot be used.
        OneTimeCode.objects.filter(pk=sent.pk).delete()
        raise CodeNotSent() from None
    return sent


def verification_code_pending(*, line: Line, shop: Shop, now: datetime | None = None) -> OneTimeCode | None:
    """The code this shop sent to ``line`` that can still be entered, if any."""
    now = now or timezone.now()
    return (
        OneTimeCode.objects.filter(
            line=line, shop=shop, used_at__isnull=True, expires_at__gt=now, attempts__lt=CODE_ATTEMPTS
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def verification_code_check(*, line: Line, shop: Shop, agent, code: str, now: datetime | None = None) -> None:
    """Check the code the customer read out against the last one this shop sent to ``line``.
    Returns if it matches (the code is then used up); raises why not. Each try counts, whether
    right or wrong; a code allows CODE_ATTEMPTS tries within CODE_LIFETIME."""
    now = now or timezone.now()
    code = "".join(ch for ch in str(code) if ch.isdigit())
    refusal: RefillError | None = None
    with transaction.atomic():
        sent = (
            OneTimeCode.objects.select_for_update()
            .filter(line=line, shop=shop, used_at__isnull=True)
            .order_by("-created_at", "-pk")
            .first()
        )
        if sent is None or sent.expires_at <= now or sent.attempts >= CODE_ATTEMPTS:
            reason = "none" if sent is None else "expired" if sent.expires_at <= now else "attempts"
            _failed(line=line, shop=shop, agent=agent, method="code", reason=reason)
            refusal = CodeExpired()
        else:
            sent.attempts += 1
            if len(code) == CODE_DIGITS and constant_time_compare(sent.code_hash, _code_hash(line, code)):
                sent.used_at = now
                sent.save(update_fields=["attempts", "used_at"])
                _verified(line=line, shop=shop, agent=agent, method="code")
            else:
                sent.save(update_fields=["attempts"])
                _failed(line=line, shop=shop, agent=agent, method="code", reason="wrong")
                refusal = CodeWrong() if sent.attempts < CODE_ATTEMPTS else CodeExpired()
    if refusal is not None:
        raise refusal


# --- sales and the drawer -----------------------------------------------------------------------


def shop_sale_record(*, order: Order, shop: Shop, agent) -> ShopSale:
    """Tie ``order`` to the shop whose counter made it (before it is paid, so a sale is never
    lost between the payment and this). Replays return the same record."""
    sale, _created = ShopSale.objects.get_or_create(
        order=order, defaults={"shop": shop, "agent": agent, "commission": commission_of(order)}
    )
    return sale


def commission_of(order: Order) -> Decimal:
    """What selling ``order``'s plan earns: the plan's rate on the price before tax (after any
    discount), rounded once to the currency. A renewal's plan and an add-on pass earn by their
    own rate; top-ups and plans without a rate earn nothing."""
    item = order.items.filter(kind__in=[OrderItem.Kind.RENEWAL, OrderItem.Kind.ADDON]).select_related("plan").first()
    rate = CommissionRate.objects.filter(plan_id=item.plan_id).first() if item is not None else None
    if rate is None:
        return Decimal(0)
    return quantize((order.total - order.tax) * rate.percent / 100 + rate.amount, order.currency)


def commission_statement(*, agent, month_start: datetime, month_end: datetime) -> list[ShopSale]:
    """The agent's paid counter sales in [month_start, month_end), with what each earned."""
    return list(
        ShopSale.objects.filter(
            agent=agent, order__status=Order.Status.PAID, order__paid_at__gte=month_start, order__paid_at__lt=month_end
        )
        .select_related("order", "order__line", "shop")
        .prefetch_related("order__items__plan")
        .order_by("order__paid_at", "pk")
    )


def _open_sales(shop: Shop):
    """Sales of the shop that have been paid (a succeeded payment) and not yet settled by a close."""
    paid = Payment.objects.filter(order=OuterRef("order"), status=Payment.Status.SUCCEEDED)
    return ShopSale.objects.filter(shop=shop, drawer_close__isnull=True).filter(Exists(paid))


def _cash_of(sales) -> Decimal:
    total = Payment.objects.filter(
        order__shop_sale__in=sales, method=Payment.Method.CASH, status=Payment.Status.SUCCEEDED
    ).aggregate(total=Sum("amount"))["total"]
    return total or Decimal(0)


def drawer_open(shop: Shop) -> tuple[Decimal, list[ShopSale]]:
    """What the drawer should hold now (drawer_close's ``expected``) and the paid sales since the
    previous close, newest first."""
    sales = _open_sales(shop)
    listed = list(sales.select_related("order__receipt", "agent").prefetch_related("order__payments").order_by("-pk"))
    return _cash_of(sales), listed


def drawer_close(
    *, shop: Shop, agent, counted, idempotency_key: str, note: str = "", now: datetime | None = None
) -> DrawerClose:
    """Close the shop's cash drawer: the agent counted ``counted``; the drawer should hold the cash
    taken since the previous close.

    ``expected`` is read from the payments, not the ledger: the sum of the succeeded cash payments
    of the shop's sales (ShopSale) that no earlier close settled. The ledger keeps cash per agent
    (shop_cash, reference ``agent-<pk>``), and agents may move between shops; a ShopSale records
    the shop at the time of the sale. Each paid sale is settled by exactly one close: the close
    takes those it counted (under a lock on the shop, so two closes never take the same sale), and
    a payment that succeeds while the close runs is left for the next one.

    The difference (counted − expected) is recorded and audited. The same ``idempotency_key``
    (one per close form) returns the same close; with another amount it is refused."""
    now = now or timezone.now()
    currency = shop.market.currency
    try:
        counted = Decimal(str(counted))
        if not counted.is_finite() or counted < 0 or quantize(counted, currency) != counted:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise CountedInvalid(currency=currency) from None

    def replayed(existing: DrawerClose) -> DrawerClose:
        if existing.counted != counted:
            raise DrawerCloseConflict()
        return existing

    existing = DrawerClose.objects.filter(shop=shop, idempotency_key=idempotency_key).first()
    if existing is not None:
        return replayed(existing)
    try:
        with transaction.atomic():
            # One close at a time per shop: the lock makes "not yet settled" mean the same to both.
            Shop.objects.select_for_update().get(pk=shop.pk)
            existing = DrawerClose.objects.filter(shop=shop, idempotency_key=idempotency_key).first()
            if existing is not None:
                return replayed(existing)
            sales = list(_open_sales(shop).values_list("pk", flat=True))
            expected = _cash_of(ShopSale.objects.filter(pk__in=sales))
            cash_sales = Payment.objects.filter(
                order__shop_sale__in=sales, method=Payment.Method.CASH, status=Payment.Status.SUCCEEDED
            ).count()
            close = DrawerClose.objects.create(
                shop=shop,
                agent=agent,
                idempotency_key=idempotency_key,
                closed_at=now,
                currency=currency,
                expected=expected,
                counted=counted,
                difference=counted - expected,
                cash_sales=cash_sales,
                note=note[:500],
            )
            ShopSale.objects.filter(pk__in=sales, drawer_close__isnull=True).update(drawer_close=close)
            audit_record(
                actor=agent,
                action="agentdesk.drawer_close",
                obj=close,
                reason=note[:200],
                data={
                    "shop": shop.code,
                    "currency": currency,
                    "expected": str(quantize(expected, currency)),
                    "counted": str(counted),
                    "difference": str(quantize(counted - expected, currency)),
                    "cash_sales": cash_sales,
                },
            )
            return close
    except IntegrityError:
        existing = DrawerClose.objects.filter(shop=shop, idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return replayed(existing)
