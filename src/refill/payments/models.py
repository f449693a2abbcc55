from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.integrations.payments.base import PROVIDER_WALLETS


class Payment(models.Model):
    """One attempt to collect an order's total. Holds no card number: only the provider's
    reference, brand, last 4 and expiry."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Processing")
        SUCCEEDED = "succeeded", _("Paid")
        FAILED = "failed", _("Failed")
        UNKNOWN = "unknown", _("Checking with the bank")
        REQUIRES_ACTION = "requires_action", _("Waiting for your bank's confirmation")

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    idempotency_key = models.CharField(max_length=100, unique=True)
    gateway = models.CharField(max_length=32)

    class Method(models.TextChoices):
        CARD = "card", _("Card")
        WALLET = "wallet", _("Wallet")
        CASH = "cash", _("Cash in a shop")
        # Staff gave the service for free (refill.renewals.goodwill): no money moves, ever.
        GOODWILL = "goodwill", _("Goodwill (no charge)")

    method = models.CharField(max_length=16, choices=Method.choices, default=Method.CARD)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)
    provider_reference = models.CharField(max_length=100, blank=True)
    decline_code = models.CharField(max_length=40, blank=True)
    card_brand = models.CharField(max_length=20, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    card_exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    card_exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Reconciliation of an unknown (or long pending) attempt: how often the provider was asked, and when next.
    reconcile_attempts = models.PositiveIntegerField(default=0)
    # Where to send the customer to confirm with their bank (3-D Secure), while requires_action.
    action_url = models.CharField(max_length=500, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Invariant 4: per order, one successful charge per method (a wallet part and a card part),
            # and no new attempt of a method while one is open.
            models.UniqueConstraint(
                fields=["order", "method"], condition=Q(status="succeeded"), name="payment_one_success_per_method"
            ),
            models.UniqueConstraint(
                fields=["order", "method"],
                condition=Q(status__in=["pending", "unknown", "requires_action"]),
                name="payment_one_open_per_method_v2",
            ),
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative"),
            # A goodwill payment records that nothing was charged; it can never carry an amount.
            models.CheckConstraint(condition=~Q(method="goodwill") | Q(amount=0), name="payment_goodwill_is_free"),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} {self.status}"

    def get_brand_display(self) -> str:
        return str(PROVIDER_WALLETS.get(self.card_brand, self.card_brand.title()))

    @property
    def is_terminal(self) -> bool:
        return self.status in {self.Status.SUCCEEDED, self.Status.FAILED}


class SandboxCharge(models.Model):
    """The sandbox provider's own books (it stands in for a remote provider's servers, so every
    process sees the same charges). Refill's own records are Payment rows; this table is only ever
    written by the sandbox gateway."""

    idempotency_key = models.CharField(max_length=100, unique=True)
    reference = models.CharField(max_length=40, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=16)
    decline_code = models.CharField(max_length=40, blank=True)
    return_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.reference} {self.status}"


# Card brands as their owners write them (the stored brand is a lower-case code).
CARD_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express", "unionpay": "UnionPay"}


class PaymentMethod(models.Model):
    """A saved way to pay: only the provider's reusable token, brand, last 4, expiry and the
    holder's name. Never a card number or CVC."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="payment_methods")
    gateway = models.CharField(max_length=32)
    token = models.CharField(max_length=200)
    # The customer record the provider keeps the method under (Stripe's cus_...), if it has one.
    provider_customer = models.CharField(max_length=100, blank=True)
    brand = models.CharField(max_length=20)
    last4 = models.CharField(max_length=4, blank=True)
    exp_month = models.PositiveSmallIntegerField(null=True, blank=True)
    exp_year = models.PositiveSmallIntegerField(null=True, blank=True)
    holder = models.CharField(max_length=100, blank=True)
    is_default = models.BooleanField(default=False)
    is_backup = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-is_default", "-is_backup", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_default=True, removed_at__isnull=True), name="one_default_method"
            ),
            models.UniqueConstraint(
                fields=["customer"], condition=Q(is_backup=True, removed_at__isnull=True), name="one_backup_method"
            ),
            models.CheckConstraint(condition=~Q(is_default=True, is_backup=True), name="method_default_not_backup"),
        ]

    def __str__(self) -> str:
        return f"{self.brand} {self.last4}".strip()

    @property
    def label(self) -> str:
        if not self.last4:
            return str(PROVIDER_WALLETS.get(self.brand, self.brand.title()))
        return f"{self.brand.upper()} •••• {self.last4} ({self.exp_month:02d}/{self.exp_year % 100:02d})"

    @property
    def brand_name(self) -> str:
        """The card's brand as written in a sentence ("Visa", "Mastercard"); a provider wallet by
        its (translated) name."""
        return str(PROVIDER_WALLETS.get(self.brand) or CARD_BRANDS.get(self.brand, self.brand.title()))

    @property
    def short_label(self) -> str:
        """The method named in a sentence: "Visa •••• 4242" (no expiry); a provider wallet by name."""
        return f"{self.brand_name} •••• {self.last4}" if self.last4 else self.brand_name


class ProviderEvent(models.Model):
    """A webhook a payment provider sent us, kept as received and processed once, in any order."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        FAILED = "failed", _("Failed")
        IGNORED = "ignored", _("Ignored")

    gateway = models.CharField(max_length=32)
    event_id = models.CharField(max_length=100)
    type = models.CharField(max_length=60)
    # What the adapter read from the payload: which attempt the event is about and how it ended.
    idempotency_key = models.CharField(max_length=100, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    decline_code = models.CharField(max_length=40, blank=True)
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    detail = models.CharField(max_length=300, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["gateway", "event_id"], name="provider_event_once")]

    def __str__(self) -> str:
        return f"{self.gateway}:{self.event_id} {self.type} {self.status}"
