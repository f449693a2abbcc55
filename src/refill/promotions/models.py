"""Promotions: offers with a code or applied automatically, and their redemptions (one per order).

A promotion's ``redeemed`` and ``spent`` count the redemptions held for orders awaiting payment as
well as the paid ones, so two customers racing for the last redemption or the last of the budget
cannot both get it: a hold is one conditional UPDATE of the promotion row (docs/promotions.md)."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _


class Promotion(models.Model):
    class Kind(models.TextChoices):
        # The values are refill.domain.promotions.Kind's.
        PERCENT_OFF = "percent_off", _("Percent off")
        AMOUNT_OFF = "amount_off", _("Amount off")
        BONUS_ALLOWANCE = "bonus_allowance", _("Bonus allowance")
        EXTRA_PERIODS = "extra_periods", _("Extra periods free (buy N get M)")
        FIRST_ORDER = "first_order", _("First order discount")
        FREE_ADDON = "free_addon", _("Free add-on")

    market = models.ForeignKey("catalog.Market", on_delete=models.PROTECT, related_name="promotions")
    name_en = models.CharField(max_length=120)
    name_zh_hans = models.CharField(max_length=120)
    # Empty: applied automatically to every order it fits. Stored upper case; unique per market.
    code = models.CharField(max_length=32, blank=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    priority = models.PositiveSmallIntegerField(default=100)
    exclusive = models.BooleanField(default=True)
    percent = models.DecimalField(max_digits=6, decimal_places=3, default=0)
    amount = models.DecimalField(max_digits=12, decimal_places=4, default=0)  # amount off, market currency
    bonus_data_mb = models.PositiveIntegerField(default=0)
    bonus_voice_minutes = models.PositiveIntegerField(default=0)
    bonus_sms = models.PositiveIntegerField(default=0)
    buy_periods = models.PositiveSmallIntegerField(default=0)
    free_periods = models.PositiveSmallIntegerField(default=0)
    addon_plan = models.ForeignKey(
        "catalog.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="free_with_promotions"
    )
    # The window, stored in UTC; the back office takes and shows it in the market's time zone.
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True)
    paused = models.BooleanField(default=False)
    plans = models.ManyToManyField("catalog.Plan", blank=True, related_name="promotions")
    min_periods = models.PositiveSmallIntegerField(default=1)
    channels = models.JSONField(default=list, blank=True)  # web, app, shop, api; empty: all
    segments = models.JSONField(default=list, blank=True)  # customer segments; empty: all
    new_customers_only = models.BooleanField(default=False)
    first_order_only = models.BooleanField(default=False)
    limit_total = models.PositiveIntegerField(null=True, blank=True)
    limit_per_customer = models.PositiveIntegerField(null=True, blank=True)
    limit_per_line = models.PositiveIntegerField(null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    redeemed = models.PositiveIntegerField(default=0)  # held and paid redemptions
    spent = models.DecimalField(max_digits=14, decimal_places=4, default=0)  # their cost
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["priority", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["market", "code"], condition=~Q(code=""), name="promotion_code_unique_per_market"
            ),
            models.CheckConstraint(
                condition=Q(limit_total__isnull=True) | Q(redeemed__lte=F("limit_total")),
                name="promotion_within_limit",
            ),
            models.CheckConstraint(
                condition=Q(budget__isnull=True) | Q(spent__lte=F("budget")), name="promotion_within_budget"
            ),
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="promotion_percent_range"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="promotion_amount_non_negative"),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")), name="promotion_window_forward"
            ),
        ]

    def __str__(self) -> str:
        return self.code or self.name_en

    @property
    def name(self) -> str:
        return self.name_zh_hans if translation.get_language() == "zh-hans" else self.name_en


class Redemption(models.Model):
    class Status(models.TextChoices):
        HELD = "held", _("Held for an order awaiting payment")
        REDEEMED = "redeemed", _("Redeemed")
        RELEASED = "released", _("Released (the payment failed)")

    promotion = models.ForeignKey(Promotion, on_delete=models.PROTECT, related_name="redemptions")
    # The customer and the line a limit counts are the order's.
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="redemptions")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    discount = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=4, default=0)  # discount + value of what is free
    # What the promotion gives besides the discount, as it stood when the order was made: granted
    # when the order is paid, whatever the promotion has become since.
    free_periods = models.PositiveSmallIntegerField(default=0)
    bonus_data_mb = models.PositiveIntegerField(default=0)
    bonus_voice_minutes = models.PositiveIntegerField(default=0)
    bonus_sms = models.PositiveIntegerField(default=0)
    addon_plan = models.ForeignKey("catalog.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["promotion", "order"], name="redemption_once_per_order"),
            models.CheckConstraint(condition=Q(cost__gte=0, discount__gte=0), name="redemption_non_negative"),
        ]
        indexes = [models.Index(fields=["promotion", "status"])]

    def __str__(self) -> str:
        return f"{self.promotion} for order {self.order_id}"
