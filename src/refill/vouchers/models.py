"""Refill PINs (vouchers). The PIN itself is never stored: only a keyed hash (HMAC-SHA256 with the
site's secret), so a stolen database does not yield spendable PINs, and a PIN can still be found by
its hash when someone redeems it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class VoucherBatch(models.Model):
    class Source(models.TextChoices):
        GENERATED = "generated", _("Generated here")
        IMPORTED = "imported", _("Imported")

    code = models.CharField(max_length=40, unique=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    currency = models.CharField(max_length=3)
    face_value = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    count = models.PositiveIntegerField(default=0)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.code


class Voucher(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Not used")
        REDEEMED = "redeemed", _("Redeemed")
        VOIDED = "voided", _("Voided")
        EXPIRED = "expired", _("Expired")

    batch = models.ForeignKey(VoucherBatch, on_delete=models.PROTECT, related_name="vouchers")
    serial = models.CharField(max_length=40, unique=True)
    pin_hash = models.CharField(max_length=64, unique=True)
    face_value = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    redeemed_at = models.DateTimeField(null=True, blank=True)
    redeemed_by = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    credited_to = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    gift_line = models.ForeignKey("lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["serial"]
        constraints = [
            models.CheckConstraint(condition=Q(face_value__gt=0), name="voucher_face_value_positive"),
            models.CheckConstraint(
                condition=~Q(state="redeemed") | Q(redeemed_at__isnull=False, credited_to__isnull=False),
                name="voucher_redeemed_has_recipient",
            ),
        ]

    def __str__(self) -> str:
        return self.serial


class RedemptionAttempt(models.Model):
    """Every redemption try, for rate limits and lockout (per account and per address)."""

    customer = models.ForeignKey("customers.Customer", null=True, blank=True, on_delete=models.CASCADE)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["customer", "at"]), models.Index(fields=["ip_address", "at"])]

    def __str__(self) -> str:
        return f"{self.customer_id} {self.ip_address} {self.succeeded} {self.at.isoformat()}"
