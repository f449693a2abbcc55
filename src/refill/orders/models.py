from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Order(models.Model):
    class Status(models.TextChoices):
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        PAID = "paid", _("Paid")
        FAILED = "failed", _("Payment failed")
        CANCELLED = "cancelled", _("Cancelled")

    class Payer(models.TextChoices):
        OWNER = "owner", _("The customer")
        GUEST = "guest", _("A guest (gift refill)")
        PARTNER = "partner", _("A partner (API key)")

    # Whose order it is: a gift refill's too belongs to the number's owner, who is told of it.
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="orders")
    # Who paid: the customer, or a guest without an account (``POST /api/v1/refills``). A guest's
    # declines count against their address, never against the owner (docs/api.md).
    payer = models.CharField(max_length=8, choices=Payer.choices, default=Payer.OWNER)
    payer_email = models.EmailField(blank=True)
    payer_ip = models.GenericIPAddressField(null=True, blank=True)
    payer_notified_at = models.DateTimeField(null=True, blank=True)
    payer_api_key = models.ForeignKey(
        "apikeys.ApiKey", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    # The number a guest typed: the line renewed, or the line whose owner's wallet a top-up fills
    # (a top-up's ``line`` stays empty).
    gift_line = models.ForeignKey("lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Its items, once a batch read them (orders.batch.items_of): not a field, never stored.
    _batch_items: list[OrderItem]
    # The line renewed; empty for a wallet top-up.
    line = models.ForeignKey("lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="orders")
    market = models.ForeignKey("catalog.Market", on_delete=models.PROTECT, related_name="orders")
    idempotency_key = models.CharField(max_length=80)
    # sha256 of the request body that created the order: same key + other body is refused.
    request_fingerprint = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.AWAITING_PAYMENT)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=4)
    discount = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    tax = models.DecimalField(max_digits=12, decimal_places=4)
    total = models.DecimalField(max_digits=12, decimal_places=4)
    tax_rate = models.DecimalField(max_digits=6, decimal_places=4)
    tax_inclusive = models.BooleanField()
    language = models.CharField(max_length=16, default="en")
    # The promotion code the customer typed, as stored (upper case); the promotions the order took,
    # typed or automatic, are its redemptions.
    promotion_code = models.CharField(max_length=32, blank=True)
    # A business's bulk job this order is part of (a line's renewal, or the batch's one payment):
    # the job tells the business once, with one invoice, instead of an email per order.
    bulk_job = models.ForeignKey(
        "fleets.BulkJob", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    created_at = models.DateTimeField(default=timezone.now)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["payer_ip", "created_at"], name="order_guest_ip_recent", condition=Q(payer="guest"))
        ]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], name="order_customer_idempotency_unique"),
            models.CheckConstraint(
                condition=Q(payer="owner", payer_ip__isnull=True, gift_line__isnull=True, payer_api_key__isnull=True)
                | Q(payer="guest", gift_line__isnull=False, payer_api_key__isnull=True)
                | Q(payer="partner", gift_line__isnull=False, payer_api_key__isnull=False, payer_ip__isnull=True),
                name="order_payer_consistent",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False), name="order_paid_has_paid_at"
            ),
        ]

    def __str__(self) -> str:
        return f"order {self.pk}"


class OrderItem(models.Model):
    class Kind(models.TextChoices):
        RENEWAL = "renewal", _("Renewal")
        WALLET_TOPUP = "wallet_topup", _("Wallet top-up")
        # An add-on pass for the line's running period (periods is 1; it grants buckets, not periods).
        ADDON = "addon", _("Add-on pass")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="items")
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.RENEWAL)
    plan = models.ForeignKey("catalog.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    plan_price = models.ForeignKey(
        "catalog.PlanPrice", null=True, blank=True, on_delete=models.PROTECT, related_name="order_items"
    )
    periods = models.PositiveIntegerField()
    # Periods a promotion gives on top of the paid ones ("buy N get M"): granted after them.
    free_periods = models.PositiveIntegerField(default=0)
    unit_price = models.DecimalField(max_digits=12, decimal_places=4)
    amount = models.DecimalField(max_digits=12, decimal_places=4)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(periods__gte=1), name="order_item_periods_positive"),
            models.CheckConstraint(
                condition=Q(kind="wallet_topup") | Q(plan__isnull=False, plan_price__isnull=False),
                name="order_item_renewal_has_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plan_id} x {self.periods}"


class ReceiptSeries(models.Model):
    """A gap-free counter. Checkouts never touch it: a paid order gets a receipt row without a
    number, and ``receipts_number`` later numbers committed receipts in a short transaction of
    its own, so a rolled-back checkout can never leave a gap and checkouts never queue on it."""

    code = models.CharField(max_length=32, primary_key=True)
    next_number = models.PositiveBigIntegerField(default=1)

    def __str__(self) -> str:
        return self.code


class Receipt(models.Model):
    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="receipt")
    series = models.ForeignKey(ReceiptSeries, on_delete=models.PROTECT, related_name="receipts")
    number = models.PositiveBigIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    total = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["series", "number"]
        constraints = [models.UniqueConstraint(fields=["series", "number"], name="receipt_series_number_unique")]
        indexes = [models.Index(fields=["series", "number", "issued_at"])]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.series_id}-{self.number:06d}" if self.number else f"{self.series_id}-…"


class RefundReason(models.TextChoices):
    """Why staff refunded, as a fixed list: the customer reads the label in their own language
    (free text typed by staff would reach them in the staff member's language)."""

    CUSTOMER_REQUEST = "customer_request", _("Cancelled at your request")
    WRONG_PLAN = "wrong_plan", _("The wrong plan was bought")
    DUPLICATE = "duplicate", _("Charged twice for the same renewal")
    SERVICE_PROBLEM = "service_problem", _("A problem with our service")
    NOT_DELIVERED = "not_delivered", _("What was bought could not be delivered")
    GOODWILL = "goodwill", _("A goodwill gesture")
    OTHER = "other", _("Other reason")


class Refund(models.Model):
    class Destination(models.TextChoices):
        ORIGINAL = "original", _("Back to how it was paid")
        WALLET = "wallet", _("To the customer's wallet")

    class Status(models.TextChoices):
        PENDING = "pending", _("Processing")
        SUCCEEDED = "succeeded", _("Refunded")
        FAILED = "failed", _("Failed")

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    idempotency_key = models.CharField(max_length=100, unique=True)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)
    destination = models.CharField(max_length=16, choices=Destination.choices)
    card_amount = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    wallet_amount = models.DecimalField(max_digits=12, decimal_places=4, default=0)
    # For staff and the audit trail (the code's label and staff's note): never shown to the customer.
    reason = models.CharField(max_length=200)
    # What the customer is told: the code's label in their language, and staff's note as theirs.
    reason_code = models.CharField(max_length=20, choices=RefundReason.choices, default=RefundReason.OTHER)
    note = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    period_policy = models.CharField(max_length=8, blank=True)
    provider_reference = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey("customers.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
            models.UniqueConstraint(
                fields=["order"], condition=Q(status="pending"), name="refund_one_pending_per_order"
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.pk} of order {self.order_id}: {self.amount} {self.currency} {self.status}"


class CreditNote(models.Model):
    """The customer's document for a refund that succeeded: exactly one per refund, numbered
    gap-free in a series of its own per market and year (``US-CR-2026``), the same way receipts
    are (issued unnumbered inside the refund's transaction, numbered after commit by
    ``credit_notes_number``)."""

    refund = models.OneToOneField(Refund, on_delete=models.PROTECT, related_name="credit_note")
    series = models.ForeignKey(ReceiptSeries, on_delete=models.PROTECT, related_name="credit_notes")
    number = models.PositiveBigIntegerField(null=True, blank=True)
    issued_at = models.DateTimeField(default=timezone.now)
    amount = models.DecimalField(max_digits=12, decimal_places=4)
    currency = models.CharField(max_length=3)

    class Meta:
        ordering = ["series", "number"]
        constraints = [
            models.UniqueConstraint(fields=["series", "number"], name="credit_note_series_number_unique"),
            models.CheckConstraint(condition=Q(amount__gt=0), name="credit_note_amount_positive"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.series_id}-{self.number:06d}" if self.number else f"{self.series_id}-…"
