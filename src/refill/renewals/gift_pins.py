"""A gift refill paid with a refill PIN, by a guest without an account (the web's "Refill any
number"). The PIN is redeemed onto the number's owner, as any PIN given to another number is
(vouchers.services.voucher_redeem with ``gift_msisdn``), and the plan is paid from that money in
the same transaction: the PIN must cover the price, and what it holds beyond the price stays on the
owner's wallet. So the owner's own money is never spent by a stranger, and a PIN that does not
cover the plan is refused before it is redeemed.

The guest's checks and limits are the card gift's (gifts.gift_order_create); a PIN's misses count
against the guest's address only, never against the owner (a stranger could otherwise lock the
owner out of their own PINs)."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.domain.payment_methods import PIN
from refill.errors import RefillError
from refill.formatting import money_text
from refill.orders.checkout import Guest
from refill.orders.models import Order
from refill.orders.paying import order_pay_wallet, pay_method_check
from refill.vouchers.errors import VoucherAlreadyUsed
from refill.vouchers.models import Voucher
from refill.vouchers.services import voucher_peek, voucher_redeem

from .gifts import GiftOutcome, GiftRequest, gift_line, gift_order_create, gift_order_key


class GiftPinNeedsPlan(RefillError):
    code = "pin_needs_plan"
    message = _("A refill PIN pays for a plan: choose one of the number's plans.")


class GiftPinTooSmall(RefillError):
    code = "pin_too_small"
    message = _(
        "This refill PIN is worth %(value)s, less than the %(total)s to pay. Nothing was used: choose "
        "a cheaper plan, or pay another way."
    )


def _usable(voucher: Voucher | None, currency: str, now: datetime) -> bool:
    return (
        voucher is not None
        and voucher.state == Voucher.State.ACTIVE
        and voucher.expires_at > now
        and voucher.currency == currency
    )


def gift_pin_refill(request: GiftRequest, *, pin: str, now: datetime | None = None) -> GiftOutcome:
    """Create the owner's order for the plan the guest gives and pay it with ``pin``, once. A
    replay (same address and key) answers with the paid order and never redeems again."""
    now = now or timezone.now()
    if not request.plan or request.amount is not None:
        raise GiftPinNeedsPlan()
    line = gift_line(request.msisdn)
    paid = Order.objects.filter(
        customer=line.owner, idempotency_key=gift_order_key(request), status=Order.Status.PAID
    ).first()
    if paid is not None:  # sent again (a double click, a reload): the PIN is spent already
        return GiftOutcome(paid, paid.payments.order_by("-pk").first(), charged_now=False)
    # A market that switched the refill PIN off refuses it before the PIN is even looked at.
    pay_method_check(market=line.market_id, family=PIN)
    guest = Guest(ip=request.ip, email=request.email)
    redeem = {
        "pin": pin,
        "customer": line.owner,
        "ip": request.ip or None,
        "gift_msisdn": line.msisdn,
        "actor": guest,
        "count_misses_for": None,  # the guest's address only
        "now": now,
    }
    voucher = voucher_peek(pin=pin, ip=request.ip or None)
    if not _usable(voucher, line.market.currency, now):
        # The redemption says why (unknown, used, expired, cancelled, another currency) and counts
        # the miss, outside any transaction of ours so that the count stays; no order is made.
        voucher_redeem(**redeem)
        raise VoucherAlreadyUsed()  # not reached: a PIN that is not usable does not redeem
    order = gift_order_create(request, now=now)
    if voucher.face_value < order.total:
        raise GiftPinTooSmall(
            value=money_text(voucher.face_value, voucher.currency), total=money_text(order.total, order.currency)
        )
    try:
        with transaction.atomic():
            # Both or neither: a plan that can no longer be paid leaves the PIN unused.
            voucher_redeem(**redeem)
            payment = order_pay_wallet(order=order, actor=guest, now=now)
    except VoucherAlreadyUsed:
        # A double click: the other request redeemed the PIN for this very order.
        order.refresh_from_db()
        if order.status == Order.Status.PAID:
            return GiftOutcome(order, order.payments.order_by("-pk").first(), charged_now=False)
        raise
    order.refresh_from_db()
    return GiftOutcome(order, payment, charged_now=True)
