"""Staff writes to promotions (the back office): create, edit, pause and resume, each with its
audit row. The rules they keep:

- once a promotion has a redemption, what it gives (``PROMOTION_GIVES``) is frozen: the
  redemptions and their cost keep meaning what they meant when they were made;
- the limit and the budget never go below what is already redeemed and spent;
- ``redeemed`` and ``spent`` are only ever moved by the order flow (``promotion_take``,
  ``redemptions_release``): an edit saves the columns it changes and nothing else, under the
  promotion row's lock, so a redemption held while staff edit is never lost.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.catalog.models import Plan
from refill.formatting import money_text
from refill.promotions.models import Promotion

# What a promotion gives and where: frozen once it has a redemption.
PROMOTION_GIVES = (
    "market",
    "code",
    "kind",
    "percent",
    "amount",
    "bonus_data_mb",
    "bonus_voice_minutes",
    "bonus_sms",
    "buy_periods",
    "free_periods",
    "addon_plan",
)
# What stays editable: names, window, pause, stacking, eligibility, limits and budget.
PROMOTION_SETTINGS = (
    "name_en",
    "name_zh_hans",
    "priority",
    "exclusive",
    "starts_at",
    "ends_at",
    "paused",
    "min_periods",
    "channels",
    "segments",
    "new_customers_only",
    "first_order_only",
    "limit_total",
    "limit_per_customer",
    "limit_per_line",
    "budget",
)
PROMOTION_FIELDS = PROMOTION_GIVES + PROMOTION_SETTINGS

PROMOTION_LOCKED = _("This can no longer be changed: the promotion has redemptions.")
DUPLICATE_CODE = _("Another promotion in this market already has this code.")


def limit_below_redeemed(redeemed: int) -> str:
    return _("The limit cannot be below the number already redeemed (%(count)s).") % {"count": redeemed}


def budget_below_spent(spent: Decimal, currency: str) -> str:
    return _("The budget cannot be below what has already been spent (%(spent)s).") % {
        "spent": money_text(spent, currency)
    }


def _plain(value: Any) -> Any:
    """A column's value as it is written in the audit row."""
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _column(promotion: Promotion, name: str) -> Any:
    return getattr(promotion, Promotion._meta.get_field(name).attname)


def _given(value: Any) -> Any:
    """A value given for a column, as the column holds it (a plan by its id)."""
    return value.pk if isinstance(value, models.Model) else value


def _snapshot(promotion: Promotion, plans: Iterable[int]) -> dict[str, Any]:
    return {
        **{name: _plain(_column(promotion, name)) for name in PROMOTION_FIELDS},
        "plans": sorted(plans),
    }


def _code_taken(*, market, code: str, but: int | None = None) -> bool:
    return bool(code) and Promotion.objects.filter(market=market, code=code).exclude(pk=but).exists()


@transaction.atomic
def promotion_create(*, values: dict[str, Any], plans: Iterable[Plan], actor) -> Promotion:
    """A new promotion from ``values`` (validated by the back-office form; ``code`` normalised)."""
    unknown = set(values) - set(PROMOTION_FIELDS)
    if unknown:
        raise ValueError(f"not promotion settings: {sorted(unknown)}")
    promotion = Promotion(**values)
    try:
        with transaction.atomic():
            promotion.save(force_insert=True)
    except IntegrityError:
        # Two people creating the same code at once: the second one is told, like the form tells.
        if _code_taken(market=promotion.market, code=promotion.code):
            raise ValidationError({"code": DUPLICATE_CODE}) from None
        raise
    plans = list(plans)
    promotion.plans.set(plans)
    audit_record(
        actor=actor,
        action="promotion.created",
        obj=promotion,
        data={"after": _snapshot(promotion, (plan.pk for plan in plans))},
    )
    return promotion


@transaction.atomic
def promotion_update(*, promotion: Promotion, values: dict[str, Any], plans: Iterable[Plan], actor) -> list[str]:
    """Change ``promotion`` to ``values`` and ``plans``; the names of what changed (nothing changed:
    no audit row). Raises ValidationError (per field) for what a redeemed promotion cannot change,
    or a limit or budget below what is already redeemed or spent."""
    unknown = set(values) - set(PROMOTION_FIELDS)
    if unknown:
        raise ValueError(f"not promotion settings: {sorted(unknown)}")
    # The row lock orders this edit with promotion_take's conditional UPDATE: either the hold
    # counts against the limit and budget saved here, or this edit sees the redemption it made.
    locked = Promotion.objects.select_for_update().get(pk=promotion.pk)
    changed = [name for name, value in values.items() if _given(value) != _column(locked, name)]
    old_plans = set(locked.plans.values_list("pk", flat=True))
    new_plans = {plan.pk for plan in plans}
    errors: dict[str, Any] = {}
    if locked.redemptions.exists():
        errors.update((name, PROMOTION_LOCKED) for name in changed if name in PROMOTION_GIVES)
    if locked.limit_total != values.get("limit_total", locked.limit_total):
        limit_total = values["limit_total"]
        if limit_total is not None and limit_total < locked.redeemed:
            errors["limit_total"] = limit_below_redeemed(locked.redeemed)
    if locked.budget != values.get("budget", locked.budget):
        budget = values["budget"]
        if budget is not None and budget < locked.spent:
            errors["budget"] = budget_below_spent(locked.spent, locked.market.currency)
    market = values.get("market", locked.market)
    code = values.get("code", locked.code)
    if {"code", "market"} & set(changed) and _code_taken(market=market, code=code, but=locked.pk):
        errors["code"] = DUPLICATE_CODE
    if errors:
        raise ValidationError(errors)
    if not changed and old_plans == new_plans:
        return []
    before = _snapshot(locked, old_plans)
    for name in changed:
        setattr(locked, name, values[name])
    if changed:
        # Only the changed columns: never redeemed or spent, which holds move meanwhile.
        try:
            with transaction.atomic():
                locked.save(update_fields=changed)
        except IntegrityError:
            if _code_taken(market=market, code=code, but=locked.pk):
                raise ValidationError({"code": DUPLICATE_CODE}) from None
            raise
    if old_plans != new_plans:
        locked.plans.set(new_plans)
        changed.append("plans")
    after = _snapshot(locked, new_plans)
    audit_record(
        actor=actor,
        action="promotion.changed",
        obj=locked,
        data={
            "before": {name: before[name] for name in changed},
            "after": {name: after[name] for name in changed},
        },
    )
    return changed


@transaction.atomic
def _promotion_pause_set(*, promotion: Promotion, paused: bool, actor, action: str) -> bool:
    locked = Promotion.objects.select_for_update().get(pk=promotion.pk)
    if locked.paused == paused:
        return False
    locked.paused = paused
    locked.save(update_fields=["paused"])
    audit_record(
        actor=actor, action=action, obj=locked, data={"before": {"paused": not paused}, "after": {"paused": paused}}
    )
    return True


def promotion_pause(*, promotion: Promotion, actor) -> bool:
    """Pause ``promotion``: no new order takes it until it is resumed (orders already holding a
    redemption keep it). False if it was already paused."""
    return _promotion_pause_set(promotion=promotion, paused=True, actor=actor, action="promotion.paused")


def promotion_resume(*, promotion: Promotion, actor) -> bool:
    """Let ``promotion`` apply again inside its window. False if it was not paused."""
    return _promotion_pause_set(promotion=promotion, paused=False, actor=actor, action="promotion.resumed")
