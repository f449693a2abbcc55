"""What a customer may set for auto-renew, and what it will do next, as the portal, the agent desk
and the API show it. The rule for caps lives here once: the web form and the API both ask it.

A cap is an amount of the line's currency, so it is refused when it is finer than the currency's
minor unit (0.001 USD is no amount anyone can be charged). A cap below the price of the renewal it
would cap is refused too, naming that price: saved, it would make the engine refuse every renewal
(domain.md: "a renewal whose price exceeds the cap is not attempted"), which the customer would
learn only the day their line was due. A price that rises above a cap already saved is still the
engine's case (the over-cap notice tells the customer).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refill.catalog.models import Plan
from refill.domain.lifecycle import LineStatus, is_renewable
from refill.domain.money import Money, minor_units
from refill.errors import RefillError
from refill.formatting import money_text
from refill.lines.models import Line
from refill.orders.pricing import renewal_quote
from refill.payments.models import PaymentMethod

from .models import RenewalAttempt

CAPS = ("cap_per_renewal", "cap_per_month")


class AutoRenewSettingsInvalid(RefillError):
    """Settings that cannot be saved; ``errors`` maps each setting to why (the API's problem
    carries them as ``errors``, like a request that does not fit the schema)."""

    code = "auto_renew_invalid"

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        self.extra = {"errors": [{"location": ["body", name], "message": text} for name, text in errors.items()]}
        super().__init__(" ".join(errors.values()))


@dataclass(frozen=True)
class NextRenewal:
    """The renewal auto-renew would make next: when it is tried, which plan, for how much (None
    when the plan cannot be bought now, e.g. no longer on sale)."""

    at: datetime
    plan: Plan
    price: Money | None


def autorenew_next(line: Line, now: datetime | None = None) -> NextRenewal | None:
    """The next automatic renewal of ``line`` (whether or not auto-renew is on: the page says what
    turning it on would do). None for a line with no period to renew."""
    now = now or timezone.now()
    if line.period_end is None or line.status == LineStatus.PENDING or not is_renewable(LineStatus(line.status)):
        return None
    upcoming = (
        RenewalAttempt.objects.filter(line=line, status=RenewalAttempt.Status.DUE, cycle_end=line.period_end)
        .select_related("plan")
        .order_by("due_at")
        .first()
    )
    plan = (upcoming.plan if upcoming is not None else None) or line.renewal_plan
    lead = timedelta(hours=line.market.auto_renew_lead_hours)
    at = upcoming.due_at if upcoming is not None else line.period_end - lead
    try:
        # The line's prepaid limit counts from the period that ends then, not from today.
        quote = renewal_quote(line=line, plan=plan, periods=1, now=max(now, at))
    except RefillError:
        return NextRenewal(at=max(now, at), plan=plan, price=None)
    return NextRenewal(at=max(now, at), plan=plan, price=quote.quote.total)


def _first_renewal(line: Line, now: datetime | None) -> NextRenewal | None:
    """For a line with no period yet (its caps may be set before its first purchase): its plan's
    price today, so a cap below it is refused all the same."""
    now = now or timezone.now()
    try:
        quote = renewal_quote(line=line, plan=line.renewal_plan, periods=1, now=now)
    except RefillError:
        return None
    return NextRenewal(at=now, plan=line.renewal_plan, price=quote.quote.total)


def has_backup_method(customer) -> bool:
    """Whether the customer has a saved method the engine would charge after the default one."""
    return PaymentMethod.objects.filter(
        customer=customer, removed_at__isnull=True, is_backup=True, is_default=False
    ).exists()


def autorenew_settings_errors(*, line: Line, changes: dict, now: datetime | None = None) -> dict[str, str]:
    """Why ``changes`` to ``line``'s auto-renew settings cannot be saved, per setting (empty: they
    can). Only caps being set are judged; an empty cap (no limit) is always fine."""
    currency = line.market.currency
    places = minor_units(currency)
    errors: dict[str, str] = {}
    caps = {name: changes[name] for name in CAPS if changes.get(name) is not None}
    for name, cap in caps.items():
        cap = Decimal(cap)
        if not cap.is_finite() or cap <= 0:
            errors[name] = _("Enter an amount above zero, or leave it empty.")
        elif cap != cap.quantize(Decimal(1).scaleb(-places)):
            errors[name] = (
                ngettext(
                    "Enter the amount with at most %(places)d decimal place (%(currency)s).",
                    "Enter the amount with at most %(places)d decimal places (%(currency)s).",
                    places,
                )
                % {"places": places, "currency": currency}
                if places
                else _("Enter a whole amount (%(currency)s has no smaller unit).") % {"currency": currency}
            )
    judged = [name for name in caps if name not in errors]
    if not judged:
        return errors
    upcoming = autorenew_next(line, now) or _first_renewal(line, now)
    if upcoming is None or upcoming.price is None:
        return errors
    price = upcoming.price.amount
    words = {"plan": upcoming.plan.name, "price": money_text(price, currency)}
    for name in judged:
        cap = Decimal(caps[name])
        if cap >= price:
            continue
        words["cap"] = money_text(cap, currency)
        if name == "cap_per_renewal":
            errors[name] = (
                _(
                    "A limit of %(cap)s is below the price of the renewal, %(plan)s at %(price)s: every "
                    "renewal would be refused. Set at least %(price)s, or leave it empty."
                )
                % words
            )
        else:
            errors[name] = (
                _(
                    "A monthly limit of %(cap)s is below the price of one renewal, %(plan)s at %(price)s: "
                    "every renewal would be refused. Set at least %(price)s, or leave it empty."
                )
                % words
            )
    return errors


def autorenew_settings_check(*, line: Line, changes: dict, now: datetime | None = None) -> None:
    """Raise AutoRenewSettingsInvalid when ``changes`` cannot be saved (autorenew_settings_errors)."""
    errors = autorenew_settings_errors(line=line, changes=changes, now=now)
    if errors:
        raise AutoRenewSettingsInvalid(errors)
