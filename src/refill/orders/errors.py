"""Domain errors with stable codes, mapped once to translated messages (and later to HTTP problems)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError
from refill.payments.port import PROVIDER_WALLETS


class LineNotRenewable(RefillError):
    code = "line_not_renewable"
    message = _("This number can no longer be renewed. Please contact us to get a new number.")


class PlanNotAvailable(RefillError):
    code = "plan_not_available"
    message = _("This plan is not available for this number.")


class TooManyPeriods(RefillError):
    code = "too_many_periods"
    message = _("You can prepay at most %(limit)s periods of this plan ahead. You can add %(allowed)s now.")


class PriceChanged(RefillError):
    code = "price_changed"
    message = _("The price changed while you were choosing. Please check the new price and confirm again.")


class IdempotencyConflict(RefillError):
    code = "idempotency_conflict"
    message = _("This form was already used for a different purchase. Please start again.")


class PaymentInProgress(RefillError):
    code = "payment_in_progress"
    message = _("A payment for this order is already being processed. Please wait a moment.")


class OrderNotPayable(RefillError):
    code = "order_not_payable"
    message = _("This order can no longer be paid. Please start a new renewal.")


class PayMethodNotOffered(RefillError):
    """The market switched this way to pay off (back office, "Ways to pay"): refused before
    anything is recorded or charged."""

    code = "pay_method_not_offered"
    message = _("This way to pay is not offered for this number. Please choose another way to pay.")


class TooManyDeclines(RefillError):
    code = "too_many_declines"
    message = _(
        "Too many payments were declined in the last hour. For your security, please wait an hour "
        "before trying again, or contact us."
    )


class WalletTooLow(RefillError):
    code = "wallet_too_low"
    message = _("Your wallet does not hold enough for this. Top it up, or pay the rest by card.")


class TopupOutOfRange(RefillError):
    code = "topup_out_of_range"
    message = _("Top up between %(low)s and %(high)s.")


class NotOwner(RefillError):
    code = "not_found"
    message = _("We could not find that number in your account.")


class AddonLineNotRunning(RefillError):
    code = "addon_line_not_running"
    message = _(
        "An add-on can only be added while the number's plan is running. Renew the number first, then add the pass."
    )


DECLINE_MESSAGES = {
    "insufficient_funds": _(
        "Your card was declined because there is not enough money in the account. "
        "Top up the account or use another card."
    ),
    "card_over_limit": _(
        "Your card was declined because it is over its spending limit. "
        "Use another card or ask your bank to raise the limit."
    ),
    "card_frozen": _("Your bank has frozen this card. Contact your bank, or use another card."),
    "expired_card": _("This card has expired. Check the expiry date or use another card."),
    "incorrect_cvc": _(
        "The security code (CVC) is wrong. Check the 3 or 4 digits on the back of the card and try again."
    ),
    "do_not_honour": _(
        "Your bank declined the payment without giving a reason. Contact your bank, or use another card."
    ),
    "network_error": _("We could not reach your bank. Nothing was charged. Please try again in a minute."),
    "invalid_card": _("The card number is not valid. Check it and try again."),
    "authentication_failed": _(
        "Your bank did not confirm the payment. Nothing was charged. Try again, or use another card."
    ),
}


def decline_message(code: str) -> str:
    return str(DECLINE_MESSAGES.get(code, DECLINE_MESSAGES["do_not_honour"]))


def payment_decline_message(payment) -> str:
    """What to tell the payer of a declined attempt: a payment app (Alipay, WeChat Pay, PayPal...)
    is named as itself, not as "your bank" and "another card"."""
    provider = PROVIDER_WALLETS.get(payment.card_brand)
    if provider is None:
        return decline_message(payment.decline_code)
    return str(
        _(
            "The payment was not completed in %(provider)s. Nothing was charged. "
            "Try again, or choose another way to pay."
        )
        % {"provider": provider}
    )


AUTORENEW_REASONS = {
    "no_payment_method": _(
        "There is no saved card to charge and your wallet does not cover the price. Add a card or top up."
    ),
    "too_many_declines": _("Several cards were declined in the last hour, so we paused charging for now."),
    "authentication_failed": _(
        "Your bank wants you to confirm this payment yourself, which auto-renew cannot do. Renew it yourself once."
    ),
    "gateway_unavailable": _("We could not reach the payment provider of your saved card. We will try again."),
    "renewal_cap": _("The price was above your limit for one renewal, so nothing was charged."),
    "month_cap": _("This renewal would have gone over your monthly limit, so nothing was charged."),
    "disabled": _("Auto-renew was off when this renewal was due."),
    "already_renewed": _("Not needed: the line was already renewed."),
}


def autorenew_reason(code: str):
    """Plain words (translated when rendered) for why an automatic renewal did not go through."""
    if code in AUTORENEW_REASONS:
        return AUTORENEW_REASONS[code]
    if code in DECLINE_MESSAGES:
        return DECLINE_MESSAGES[code]
    return _("This plan cannot be renewed automatically right now. Renew it yourself or choose another plan.")
