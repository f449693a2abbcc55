from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

from refill.domain.promotions import Refusal
from refill.errors import RefillError

if TYPE_CHECKING:
    from .models import Promotion


class PromotionUnknown(RefillError):
    code = "promotion_unknown"
    message = _("We do not recognise this promotion code. Check it and try again.")


# What each refusal tells the customer, in their language.
REFUSALS = {
    Refusal.NOT_STARTED: _("This promotion has not started yet."),
    Refusal.EXPIRED: _("This promotion has ended."),
    Refusal.PAUSED: _("This promotion is paused at the moment."),
    Refusal.NOT_FOR_PLAN: _("This promotion is not for this plan."),
    Refusal.TOO_FEW_PERIODS: _("This promotion needs more periods in the order."),
    Refusal.NOT_FOR_CHANNEL: _("This promotion cannot be used here."),
    Refusal.NOT_FOR_SEGMENT: _("This promotion is not available to your account."),
    Refusal.NEW_CUSTOMERS_ONLY: _("This promotion is for new customers only."),
    Refusal.FIRST_ORDER_ONLY: _("This promotion is for a number's first order only."),
    Refusal.ALREADY_USED: _("You have already used this promotion."),
    Refusal.LIMIT_REACHED: _("This promotion has been fully used."),
    Refusal.BUDGET_SPENT: _("This promotion has been fully used."),
    Refusal.NOT_IN_CURRENCY: _("This promotion is not available in this currency."),
    Refusal.NOT_COMBINABLE: _("This promotion cannot be combined with the offer already applied."),
    Refusal.NOTHING_TO_ADD: _("This promotion adds allowance that this plan already has unlimited."),
}


class PromotionRefused(RefillError):
    code = "promotion_refused"
    # The promotion that refused, named by promotions_take when it passes the refusal on.
    promotion: Promotion

    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal
        self.extra = {"reason": refusal.value}  # the API problem's machine-readable why
        super().__init__(REFUSALS[refusal])
