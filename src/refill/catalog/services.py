"""Staff writes to the catalog (the back office): a market's settings, a plan's settings and a new
price version. Each runs in one transaction with its audit row (who, why, before and after) and
refuses what the rules refuse with a ``ValidationError`` per field:

- a sold price never changes: a new price is a new version, from now or later, and the version it
  replaces is ended where the new one starts (only its ``valid_until`` is written);
- orders already quoted keep the tax and price they were quoted (they carry their own);
- a number is never aged in fewer than 45 days (the US minimum; also a database constraint).

``market_settings_proposed`` and ``plan_settings_proposed`` check a change without saving it, so a
page can show what it would do (``refill.backoffice.catalog_previews``) before staff save it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.audit.services import audit_record
from refill.domain import payment_methods as pay_rule
from refill.domain.money import minor_units, quantize

from .models import Market, MarketPayMethod, Plan, PlanPrice
from .selectors import market_pay_methods

# What staff may change, and nothing else (code, currency, time zone and validity are fixed once
# lines and orders refer to them).
MARKET_SETTINGS = (
    "name_zh_hans",
    "tax_rate",
    "tax_inclusive",
    "grace_days",
    "suspend_days",
    "reactivation_days",
    "aging_days",
    "auto_renew_lead_hours",
    "reminder_days",
    "quiet_start_hour",
    "quiet_end_hour",
)
PLAN_SETTINGS = (
    "name_en",
    "name_zh_hans",
    "is_active",
    "max_prepaid_periods",
    "data_mb",
    "voice_minutes",
    "sms",
    "rollover",
)
# A price may start "now" as the page was filled in: a minute's slack, never more.
PRICE_START_SLACK = timedelta(minutes=1)
REASON_MAX_LENGTH = 200  # AuditEvent.reason

REASON_REQUIRED = _("Give a reason: it is kept in the audit log.")
PRICE_IN_THE_PAST = _("A new price cannot start in the past.")
PRICE_BEFORE_LATEST = _("Another price version starts at or after this time: start the new one later.")
PRICE_NEGATIVE = _("A price cannot be negative.")
PRICE_PLACES = _("A price in %(currency)s has at most %(places)s decimal places.")
PAY_METHODS_EACH_ONCE = _("List every way to pay once: the page was out of date, load it again.")
PAY_METHODS_NONE_ON = _("Switch on at least one way to pay that a customer can use: a card, a wallet or a provider.")


def _plain(value: Any) -> Any:
    """A value as the audit row's JSON keeps it."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _reason_errors(reason: str) -> dict[str, list[ValidationError]]:
    if not (reason or "").strip():
        return {"reason": [ValidationError(REASON_REQUIRED, code="reason_required")]}
    try:
        MaxLengthValidator(REASON_MAX_LENGTH)(reason.strip())
    except ValidationError as exc:
        return {"reason": [exc]}
    return {}


def _copy(obj: models.Model) -> models.Model:
    """An unsaved twin of ``obj`` (same pk) to try changes on."""
    model = type(obj)
    return model(**{field.attname: getattr(obj, field.attname) for field in model._meta.concrete_fields})


def _proposed(obj: models.Model, settings: tuple[str, ...], changes: dict[str, Any]) -> tuple[Any, list[str]]:
    unknown = set(changes) - set(settings)
    if unknown:
        raise ValueError(f"not {obj._meta.model_name} settings: {sorted(unknown)}")
    proposed = _copy(obj)
    for name, value in changes.items():
        setattr(proposed, name, value)
    others = [field.name for field in obj._meta.concrete_fields if field.name not in settings]
    proposed.full_clean(exclude=others)
    changed = [name for name in settings if name in changes and getattr(proposed, name) != getattr(obj, name)]
    return proposed, changed


def market_settings_proposed(*, market: Market, **changes: Any) -> tuple[Market, list[str]]:
    """``market`` with ``changes`` applied, unsaved and validated (a ValidationError per field),
    and the names of the settings that change. Reminder days are kept widest first."""
    proposed, _changed = _proposed(market, MARKET_SETTINGS, changes)
    proposed.reminder_days = sorted(proposed.reminder_days, reverse=True)
    changed = [name for name in MARKET_SETTINGS if name in changes and getattr(proposed, name) != getattr(market, name)]
    return proposed, changed


def plan_settings_proposed(*, plan: Plan, **changes: Any) -> tuple[Plan, list[str]]:
    """``plan`` with ``changes`` applied, unsaved and validated, and the names of what changes."""
    return _proposed(plan, PLAN_SETTINGS, changes)


def _update(obj: models.Model, propose, *, action: str, actor, reason: str, changes: dict[str, Any]) -> list[str]:
    """Lock ``obj``'s row, validate the change against what is stored, save the changed columns
    only and write the audit row; the names of what changed (nothing changed: no audit row)."""
    model = type(obj)
    locked = model.objects.select_for_update().get(pk=obj.pk)
    errors = _reason_errors(reason)
    try:
        proposed, changed = propose(locked, **changes)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    if not changed:
        return []
    before = {name: _plain(getattr(locked, name)) for name in changed}
    for name in changed:
        setattr(locked, name, getattr(proposed, name))
        setattr(obj, name, getattr(proposed, name))  # the caller's copy shows what was saved
    locked.save(update_fields=changed)
    audit_record(
        actor=actor,
        action=action,
        obj=locked,
        reason=reason.strip(),
        data={"before": before, "after": {name: _plain(getattr(locked, name)) for name in changed}},
    )
    return changed


@transaction.atomic
def market_settings_update(*, market: Market, actor, reason: str, **changes: Any) -> list[str]:
    """Change a market's tax, lifecycle timers, auto-renew lead, reminder days or SMS quiet hours.
    Lines follow the new timers from the next sweep on (see the back office's
    ``catalog_previews.market_settings_preview``); orders awaiting payment keep the tax they were
    quoted. Returns the names of what changed."""
    return _update(
        market,
        lambda locked, **values: market_settings_proposed(market=locked, **values),
        action="market.settings_changed",
        actor=actor,
        reason=reason,
        changes=changes,
    )


@transaction.atomic
def plan_update(*, plan: Plan, actor, reason: str, **changes: Any) -> list[str]:
    """Change a plan's names, whether it is sold, how many periods may be prepaid, its allowances
    or its rollover. Periods already paid keep the allowances they were granted. Returns the names
    of what changed."""
    return _update(
        plan,
        lambda locked, **values: plan_settings_proposed(plan=locked, **values),
        action="plan.changed",
        actor=actor,
        reason=reason,
        changes=changes,
    )


def plan_price_check(*, plan: Plan, amount, valid_from: datetime, now: datetime | None = None) -> Decimal:
    """Check a new price version for ``plan`` in its market's currency; the amount as a Decimal.
    Raises a ValidationError per field (``amount``, ``valid_from``)."""
    now = now or timezone.now()
    currency = plan.market.currency
    errors: dict[str, list[ValidationError]] = {}
    try:
        amount = Decimal(str(amount))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0:
        errors["amount"] = [ValidationError(PRICE_NEGATIVE, code="price_negative")]
    elif quantize(amount, currency) != amount:
        places = minor_units(currency)
        errors["amount"] = [
            ValidationError(PRICE_PLACES, code="price_places", params={"currency": currency, "places": places})
        ]
    if valid_from < now - PRICE_START_SLACK:
        errors["valid_from"] = [ValidationError(PRICE_IN_THE_PAST, code="price_in_the_past")]
    else:
        latest = plan.prices.filter(currency=currency).aggregate(latest=Max("valid_from"))["latest"]
        if latest is not None and valid_from <= latest:
            errors["valid_from"] = [ValidationError(PRICE_BEFORE_LATEST, code="price_before_latest")]
    if errors:
        raise ValidationError(errors)
    return amount


@transaction.atomic
def plan_price_add(
    *, plan: Plan, amount, valid_from: datetime, actor, reason: str, now: datetime | None = None
) -> PlanPrice:
    """A new price version of ``plan`` in its market's currency from ``valid_from`` (not in the past,
    after every existing version's start). The versions still running then end at ``valid_from``;
    nothing else about them is written, so what was sold at them stays what it was."""
    now = now or timezone.now()
    # The plan's row lock makes version numbers and the end of the running version one decision.
    locked = Plan.objects.select_for_update().select_related("market").get(pk=plan.pk)
    currency = locked.market.currency
    errors = _reason_errors(reason)
    try:
        amount = plan_price_check(plan=locked, amount=amount, valid_from=valid_from, now=now)
    except ValidationError as exc:
        errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    versions = locked.prices.filter(currency=currency)
    running = list(versions.filter(Q(valid_until__isnull=True) | Q(valid_until__gt=valid_from)).order_by("version"))
    before = {f"v{price.version}.valid_until": _plain(price.valid_until) for price in running}
    # Only the end is written: PlanPrice.save would refuse a sold amount, and this never asks.
    PlanPrice.objects.filter(pk__in=[price.pk for price in running]).update(valid_until=valid_from)
    version = (versions.aggregate(latest=Max("version"))["latest"] or 0) + 1
    price = PlanPrice.objects.create(
        plan=locked, version=version, currency=currency, amount=amount, valid_from=valid_from, valid_until=None
    )
    after = {f"v{old.version}.valid_until": _plain(valid_from) for old in running}
    after.update({f"v{version}.amount": _plain(amount), f"v{version}.valid_from": _plain(valid_from)})
    audit_record(
        actor=actor,
        action="plan.price_added",
        obj=locked,
        reason=reason.strip(),
        data={"before": before, "after": after, "currency": currency, "version": version},
    )
    return price


def _pay_methods_text(settings: Sequence[tuple[str, bool]]) -> dict[str, list[str]]:
    return {
        "on": [method for method, enabled in settings if enabled],
        "off": [method for method, enabled in settings if not enabled],
    }


@transaction.atomic
def market_pay_methods_update(
    *,
    market: Market,
    methods: Sequence[tuple[str, bool]],
    cannot_switch_on: Mapping[str, str],
    actor,
    reason: str,
) -> bool:
    """Set which ways to pay ``market``'s checkouts offer and in what order: ``methods`` is every
    family of ``refill.domain.payment_methods.FAMILIES`` once, in the new order, each with whether it
    is switched on. ``cannot_switch_on`` names the families whose payment adapter is not configured
    or does not take them, with why (``payments.selectors.pay_methods_unavailable``, asked by the
    caller: the catalog knows no payments); switching one of them on is refused, and so is a
    setting that leaves nothing a customer can pay with. A refusal changes nothing (a
    ValidationError per field: ``methods``, ``reason``). Returns whether anything changed; a change
    is saved with its audit row (before and after)."""
    locked = Market.objects.select_for_update().get(pk=market.pk)
    errors = _reason_errors(reason)
    wanted = [(str(method), bool(enabled)) for method, enabled in methods]
    problems: list[ValidationError] = []
    if sorted(method for method, _on in wanted) != sorted(pay_rule.FAMILIES):
        problems.append(ValidationError(PAY_METHODS_EACH_ONCE, code="pay_methods_each_once"))
    else:
        problems += [
            ValidationError(cannot_switch_on[method], code="pay_method_unavailable")
            for method, enabled in wanted
            if enabled and method in cannot_switch_on
        ]
        if not any(enabled and method != pay_rule.PIN for method, enabled in wanted):
            problems.append(ValidationError(PAY_METHODS_NONE_ON, code="pay_methods_none_on"))
    if problems:
        errors["methods"] = problems
    if errors:
        raise ValidationError(errors)
    had_setting = locked.pay_methods.exists()
    before = [(setting.method, setting.enabled) for setting in market_pay_methods(locked)]
    if had_setting and before == wanted:
        return False
    locked.pay_methods.all().delete()
    MarketPayMethod.objects.bulk_create(
        MarketPayMethod(market=locked, method=method, position=place, enabled=enabled)
        for place, (method, enabled) in enumerate(wanted)
    )
    audit_record(
        actor=actor,
        action="market.pay_methods_changed",
        obj=locked,
        reason=reason.strip(),
        data={"before": _pay_methods_text(before), "after": _pay_methods_text(wanted), "was_default": not had_setting},
    )
    return True
