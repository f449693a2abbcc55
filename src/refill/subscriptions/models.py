from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _


class Period(models.Model):
    """One paid validity window [start, end) of a line's base plan."""

    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="periods")
    plan = models.ForeignKey("catalog.Plan", on_delete=models.PROTECT, related_name="+")
    order_item = models.ForeignKey("orders.OrderItem", on_delete=models.PROTECT, related_name="granted_periods")
    # Which of the item's N periods this is (1-based): (order_item, sequence) is unique, so one paid
    # item can never grant more periods than it paid for.
    sequence = models.PositiveIntegerField()
    start = models.DateTimeField()
    end = models.DateTimeField()
    # Set by a refund: the period counts only until this instant (never edited otherwise).
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["line", "start"]
        constraints = [
            # Only periods that still count: a refund may revoke a period before it starts, and the
            # time after it is then renewed (or the later periods moved up) from that same start.
            models.UniqueConstraint(
                fields=["line", "start"], condition=Q(revoked_at__isnull=True), name="period_line_start_unique"
            ),
            models.UniqueConstraint(fields=["order_item", "sequence"], name="period_item_sequence_unique"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="period_end_after_start"),
        ]

    def __str__(self) -> str:
        return f"{self.line_id} [{self.start.isoformat()}, {self.end.isoformat()})"


class Bucket(models.Model):
    """An allowance balance. Usage takes the bucket that expires first, then by grant order."""

    class Kind(models.TextChoices):
        DATA = "data", _("Data")
        VOICE = "voice", _("Minutes")
        SMS = "sms", _("SMS")

    class Source(models.TextChoices):
        PERIOD = "period", _("Plan")
        ADDON = "addon", _("Add-on")
        PROMOTION = "promotion", _("Promotion")
        ADJUSTMENT = "adjustment", _("Adjustment")

    # Indexed by (line, kind, expires_at) below, which serves the foreign key too.
    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="buckets", db_index=False)
    period = models.ForeignKey(Period, null=True, blank=True, on_delete=models.PROTECT, related_name="buckets")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    # Data in MB, voice in minutes, SMS in messages. unlimited=True ignores granted.
    granted = models.PositiveBigIntegerField()
    used = models.PositiveBigIntegerField(default=0)
    unlimited = models.BooleanField(default=False)
    valid_from = models.DateTimeField()
    expires_at = models.DateTimeField()
    source = models.CharField(max_length=16, choices=Source.choices)
    rolled_over = models.BooleanField(default=False)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The add-on order item that paid for this bucket (empty for every other source). One bucket per
    # kind per item, by the constraint below: one paid add-on can never grant twice, as
    # (order_item, sequence) does for periods. Looked up through that constraint's index.
    order_item = models.ForeignKey(
        "orders.OrderItem",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="granted_buckets",
        db_index=False,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["expires_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(unlimited=True) | Q(used__lte=F("granted")), name="bucket_remaining_non_negative"
            ),
            models.CheckConstraint(condition=Q(expires_at__gt=F("valid_from")), name="bucket_expires_after_start"),
            models.UniqueConstraint(
                fields=["order_item", "kind"], condition=Q(order_item__isnull=False), name="bucket_item_kind_unique"
            ),
            models.CheckConstraint(
                condition=Q(order_item__isnull=True) | Q(source="addon"), name="bucket_item_is_addon"
            ),
        ]
        indexes = [models.Index(fields=["line", "kind", "expires_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.used}/{self.granted}"

    @property
    def remaining(self) -> int:
        return max(self.granted - self.used, 0)

    @property
    def used_percent(self) -> int:
        if self.unlimited or not self.granted:
            return 0
        return min(100, round(100 * self.used / self.granted))


class UsageRecord(models.Model):
    """One usage record from the network, applied once (its id is the network's), taken from the
    line's buckets first-expiring-first; what no bucket covered is overage."""

    # Unique by a constraint, not unique=True: on PostgreSQL that would add a second (LIKE) index,
    # and every index is paid for by every record the network sends.
    record_id = models.CharField(max_length=64)
    # Indexed by (line, occurred_at) below. No database constraint: PostgreSQL would check each
    # record's line at commit, a sixth of a usage batch's database time, for ids usage_apply has just
    # read from the lines table in the same transaction; and lines are never deleted (PROTECT
    # still refuses it through the ORM).
    line = models.ForeignKey(
        "lines.Line", on_delete=models.PROTECT, related_name="usage_records", db_index=False, db_constraint=False
    )
    kind = models.CharField(max_length=8, choices=Bucket.Kind.choices)
    amount = models.PositiveBigIntegerField()
    occurred_at = models.DateTimeField()
    overage = models.PositiveBigIntegerField(default=0)
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["line", "occurred_at"])]
        constraints = [models.UniqueConstraint(fields=["record_id"], name="usage_record_once")]

    def __str__(self) -> str:
        return f"{self.record_id} {self.kind} {self.amount}"
