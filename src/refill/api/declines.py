"""Paying through the API: a card the bank declines is a 402 ``payment_declined`` problem with the
normalised ``decline_code`` (and the unpaid ``order_id`` when there is one), in the caller's words."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from refill.errors import RefillError
from refill.orders.errors import decline_message
from refill.payments.port import TokenizationError
from refill.renewals.gifts import GiftOutcome, GiftRequest, gift_refill, gift_return_token


class PaymentDeclined(RefillError):
    code = "payment_declined"


def payment_declined(decline_code: str, **extra) -> PaymentDeclined:
    """The problem for a decline: the customer's words for ``decline_code``, and ``extra`` members."""
    declined = PaymentDeclined(decline_message(decline_code))
    declined.extra = {"decline_code": decline_code, **extra}
    return declined


def gift_paid(request: HttpRequest, gift: GiftRequest) -> GiftOutcome:
    """Pay a gift refill or a partner's renewal (refill.renewals.gifts); a decline is a 402 problem."""
    try:
        outcome = gift_refill(
            gift,
            return_url_for=lambda order: request.build_absolute_uri(
                reverse("portal:gift_return", args=[gift_return_token(order)])
            ),
        )
    except TokenizationError as exc:
        raise payment_declined(exc.code) from None
    payment = outcome.payment
    if payment is not None and payment.status == "failed" and outcome.charged_now:
        raise payment_declined(payment.decline_code, order_id=outcome.order.pk)
    return outcome
