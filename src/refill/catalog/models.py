from __future__ import annotations

import zoneinfo
from decimal import Decimal

from babel import Locale
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from refill.domain import payment_methods as pay_rule
from refill.domain.periods import Validity, ValidityKind

# Expiry reminders (domain.md: 7, 3 and 1 days before the end), per market: whole days, each once.
REMINDER_DAYS_DEFAULT = (7, 3, 1)
REMINDER_DAYS_MAX = 60
REMINDER_DAYS_COUNT = 5
# A number is never released in fewer days than the US minimum (domain.md).
AGING_DAYS_MIN = 45


def territory_name(region: str, locale: str) -> str:
    """The country or region ``region`` (ISO 3166) as CLDR names it in ``locale`` ("" if unknown)."""
    return Locale.parse(locale).territories.get((region or "").upper(), "")


def reminder_days_default() -> list[int]:
    return list(REMINDER_DAYS_DEFAULT)


def validate_reminder_days(value) -> None:
    """One to five whole days before the period end, each from 1 to 60 and given once."""
    if not isinstance(value, list | tuple) or not 1 <= len(value) <= REMINDER_DAYS_COUNT:
        raise ValidationError(
            _("Give from one to %(count)s reminder days."),
            code="reminder_days_count",
            params={"count": REMINDER_DAYS_COUNT},
        )
    if any(isinstance(day, bool) or not isinstance(day, int) or not 1 <= day <= REMINDER_DAYS_MAX for day in value):
        raise ValidationError(
            _("Each reminder day is a whole number of days from 1 to %(max)s."),
            code="reminder_days_range",
            params={"max": REMINDER_DAYS_MAX},
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Give each reminder day only once."), code="reminder_days_repeated")


class Market(models.Model):
    """Where lines live: currency, time zone for "midnight", tax, lifecycle timers, reminders."""

    code = models.SlugField(max_length=16, unique=True)
    # The name in English; Chinese readers get ``name_zh_hans``, or the country's Chinese name.
    name = models.CharField(max_length=100)
    name_zh_hans = models.CharField(max_length=100, blank=True, default="")
    region = models.CharField(max_length=2, help_text="ISO 3166 region used to read national numbers")
    currency = models.CharField(max_length=3)
    time_zone = models.CharField(max_length=64)
    # A fraction: 0.06 is 6 %.
    tax_rate = models.DecimalField(
        max_digits=6,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    tax_inclusive = models.BooleanField(default=True)
    grace_days = models.PositiveIntegerField(default=7, validators=[MaxValueValidator(365)])
    suspend_days = models.PositiveIntegerField(default=60, validators=[MaxValueValidator(365)])
    reactivation_days = models.PositiveIntegerField(default=15, validators=[MaxValueValidator(365)])
    aging_days = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(AGING_DAYS_MIN), MaxValueValidator(365)]
    )
    # Auto-renew is attempted this long before a period ends (domain.md: default 24 h).
    auto_renew_lead_hours = models.PositiveIntegerField(
        default=24, validators=[MinValueValidator(1), MaxValueValidator(168)]
    )
    # Expiry reminders: whole days before the period end (the smallest window that applies wins).
    reminder_days = models.JSONField(default=reminder_days_default, validators=[validate_reminder_days])
    # SMS wait from start to end (local hours in the customer's time zone); equal hours: no quiet hours.
    quiet_start_hour = models.PositiveSmallIntegerField(default=21, validators=[MaxValueValidator(23)])
    quiet_end_hour = models.PositiveSmallIntegerField(default=9, validators=[MaxValueValidator(23)])

    class Meta:
        constraints = [
            models.CheckConstraint(condition=models.Q(aging_days__gte=45), name="market_aging_min_45"),
            models.CheckConstraint(
                condition=models.Q(quiet_start_hour__lte=23, quiet_end_hour__lte=23), name="market_quiet_hours"
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        """The market's name in the active language: a Chinese page never lists "United States"."""
        if translation.get_language() == "zh-hans":
            return self.name_zh_hans or territory_name(self.region, "zh_Hans_CN") or self.name
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def tax_percent(self) -> Decimal:
        return (self.tax_rate * 100).quantize(Decimal("0.01"))


# The ways to pay an operator orders and switches per market, by family (refill.domain.payment_methods).
PAY_METHOD_NAMES = {
    pay_rule.WALLET: _("The wallet"),
    pay_rule.SAVED: _("Saved cards"),
    pay_rule.WALLET_CARD: _("Wallet first, the rest by card"),
    pay_rule.NEW_CARD: _("A new card"),
    pay_rule.APPLE_PAY: _("Apple Pay"),
    pay_rule.PAYPAL: _("PayPal"),
    pay_rule.ALIPAY: _("Alipay"),
    pay_rule.WECHAT_PAY: _("WeChat Pay"),
    pay_rule.PIN: _("Refill PIN (guests)"),
}


class MarketPayMethod(models.Model):
    """One way to pay in a market's setting: its place in the market's order and whether the
    market's checkouts offer it. A market without rows keeps Refill's defaults (every way on, in
    the order of ``refill.domain.payment_methods``); one with rows offers only those switched on,
    in ``position`` order. Written by ``catalog.services.market_pay_methods_update``."""

    market = models.ForeignKey(Market, on_delete=models.CASCADE, related_name="pay_methods")
    method = models.CharField(max_length=16, choices=list(PAY_METHOD_NAMES.items()))
    position = models.PositiveSmallIntegerField()
    enabled = models.BooleanField(default=True)

    class Meta:
        ordering = ["market", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["market", "method"], name="market_pay_method_once"),
            models.CheckConstraint(
                condition=models.Q(method__in=list(pay_rule.FAMILIES)), name="market_pay_method_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.market.code} {self.position}: {self.method}{'' if self.enabled else ' (off)'}"


class Plan(models.Model):
    class Kind(models.TextChoices):
        BASE = "base", _("Base plan")
        ADDON = "addon", _("Add-on pass")
        RETENTION = "retention", _("Keep my number")

    class Rollover(models.TextChoices):
        EXPIRE = "expire", _("Unused allowance expires")
        ONCE = "once", _("Unused allowance rolls over once")

    code = models.SlugField(max_length=40, unique=True)
    market = models.ForeignKey(Market, on_delete=models.PROTECT, related_name="plans")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name_en = models.CharField(max_length=100)
    name_zh_hans = models.CharField(max_length=100)
    validity_kind = models.CharField(max_length=8, choices=[(k.value, k.value) for k in ValidityKind])
    validity_count = models.PositiveIntegerField(default=1)
    # None means unlimited; throttle_after_mb applies to unlimited data.
    data_mb = models.PositiveBigIntegerField(null=True, blank=True)
    voice_minutes = models.PositiveIntegerField(null=True, blank=True)
    sms = models.PositiveIntegerField(null=True, blank=True)
    throttle_after_mb = models.PositiveBigIntegerField(null=True, blank=True)
    max_prepaid_periods = models.PositiveIntegerField(default=12, validators=[MinValueValidator(1)])

    class RefundPolicy(models.TextChoices):
        REVOKE = "revoke", _("A full refund ends the service bought from the moment of the refund")
        KEEP = "keep", _("Refunds leave the service bought in place")
        PRORATA = "prorata", _("Refund at most the unused share; the service ends at the refund")

    rollover = models.CharField(max_length=8, choices=Rollover.choices, default=Rollover.EXPIRE)
    refund_policy = models.CharField(max_length=8, choices=RefundPolicy.choices, default=RefundPolicy.REVOKE)
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=0)
    # The "keep my number" plan auto-renew falls back to when this plan cannot be renewed, for
    # customers who chose that.
    retention_plan = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        limit_choices_to={"kind": "retention"},
    )

    class Meta:
        ordering = ["market", "kind", "sort_order", "code"]
        constraints = [
            models.CheckConstraint(condition=models.Q(validity_count__gte=1), name="plan_validity_positive"),
            models.CheckConstraint(condition=models.Q(max_prepaid_periods__gte=1), name="plan_max_prepaid_positive"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.name_zh_hans if translation.get_language() == "zh-hans" else self.name_en

    @property
    def validity(self) -> Validity:
        return Validity(ValidityKind(self.validity_kind), self.validity_count)

    def current_price(self, currency: str, at=None) -> PlanPrice | None:
        at = at or timezone.now()
        return (
            self.prices.filter(currency=currency, valid_from__lte=at)
            .filter(models.Q(valid_until__isnull=True) | models.Q(valid_until__gt=at))
            .order_by("-version")
            .first()
        )


class SoldPriceChange(ValueError):
    code = "sold_price_change"


class PlanPrice(models.Model):
    """A price version. Sold prices point here and never change; a new price is a new version."""

    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="prices")
    version = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    valid_from = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["plan", "currency", "version"], name="plan_price_version_unique"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="plan_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.plan.code} v{self.version} {self.amount} {self.currency}"

    def save(self, *args, **kwargs) -> None:
        # A sold price never changes: once an order item points at this version, its amount and
        # currency are frozen. A new price is a new version.
        if self.pk is not None:
            stored = PlanPrice.objects.filter(pk=self.pk).values("amount", "currency", "plan_id").first()
            changed = stored and (
                stored["amount"] != self.amount
                or stored["currency"] != self.currency
                or stored["plan_id"] != self.plan_id
            )
            if changed and self.order_items.exists():
                raise SoldPriceChange(f"price {self} was sold; add a new version instead of editing it")
        super().save(*args, **kwargs)
