"""What promotions took off and gave, in words for the customer: the renewal page before payment,
the receipt and the confirmation email after it."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refill.formatting import allowance_text

from .models import Redemption


@dataclass(frozen=True)
class PromotionLine:
    name: str
    code: str
    discount: Decimal
    gives: list[str] = field(default_factory=list)


def gives_text(
    *, free_periods: int = 0, bonus: dict[str, int] | None = None, addon_plan=None, said: str = ""
) -> list[str]:
    """What a promotion gives besides a discount, one phrase each. What ``said`` (the promotion's
    name, shown beside these phrases) already says is not said again: "Holiday bonus: 10 GB extra"
    is not followed by "Bonus: 10 GB"."""
    phrases = []
    if free_periods:
        phrases.append(
            ngettext("%(count)d period free", "%(count)d periods free", free_periods) % {"count": free_periods}
        )
    extra = [allowance_text(kind, amount) for kind, amount in (bonus or {}).items() if amount]
    if extra and not all(text in said for text in extra):
        phrases.append(_("Bonus: %(allowances)s") % {"allowances": ", ".join(extra)})
    if addon_plan is not None and str(addon_plan.name) not in said:
        phrases.append(_("Free add-on: %(name)s") % {"name": addon_plan.name})
    return phrases


def promotion_line(redemption: Redemption) -> PromotionLine:
    """A redemption (stored, or about to be made for an order being shown) in words."""
    return PromotionLine(
        name=redemption.promotion.name,
        code=redemption.promotion.code,
        discount=redemption.discount,
        gives=gives_text(
            free_periods=redemption.free_periods,
            bonus={
                "data": redemption.bonus_data_mb,
                "voice": redemption.bonus_voice_minutes,
                "sms": redemption.bonus_sms,
            },
            addon_plan=redemption.addon_plan,
            said=str(redemption.promotion.name),
        ),
    )


def order_promotion_lines(order) -> list[PromotionLine]:
    """The promotions an order took (held or redeemed), in stacking order."""
    redemptions = (
        Redemption.objects.filter(order=order, status__in=[Redemption.Status.HELD, Redemption.Status.REDEEMED])
        .select_related("promotion", "addon_plan")
        .order_by("promotion__priority", "promotion_id")
    )
    return [promotion_line(redemption) for redemption in redemptions]
