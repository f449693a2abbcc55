"""Auto-renew: the customer's settings per line, and each attempt the engine makes."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.orders.errors import autorenew_reason


class AutoRenew(models.Model):
    """Per line: whether the engine renews it before it ends, within which caps, paid how."""

    # What customers, agents and the API may change.
    SETTINGS = (
        "enabled",
        "cap_per_renewal",
        "cap_per_month",
        "use_wallet",
        "use_default_method",
        "use_backup_method",
        "retention_fallback",
    )

    line = models.OneToOneField("lines.Line", on_delete=models.PROTECT, related_name="auto_renew")
    enabled = models.BooleanField(default=False)
    # In the line's market currency; empty means no cap.
    cap_per_renewal = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    cap_per_month = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    use_wallet = models.BooleanField(default=True)
    use_default_method = models.BooleanField(default=True)
    use_backup_method = models.BooleanField(default=True)
    # When the plan cannot be renewed, buy its "keep my number" plan instead of lapsing.
    retention_fallback = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(cap_per_renewal__isnull=True) | Q(cap_per_renewal__gt=0), name="autorenew_cap_positive"
            ),
            models.CheckConstraint(
                condition=Q(cap_per_month__isnull=True) | Q(cap_per_month__gt=0), name="autorenew_month_cap_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"auto-renew {'on' if self.enabled else 'off'} for line {self.line_id}"


class RenewalAttempt(models.Model):
    """One try of the engine to renew a line's period ending at ``cycle_end``. Attempt 1 is made
    ``auto_renew_lead`` before the end; failures schedule the next one (domain.md's retry schedule).
    The unique (line, cycle_end, number) is what makes a sweep run twice, late, or on two machines
    make each attempt once."""

    class Status(models.TextChoices):
        DUE = "due", _("Due")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Renewed")
        FAILED = "failed", _("Failed")
        OVER_CAP = "over_cap", _("Over the spending cap")
        SKIPPED = "skipped", _("Not needed")

    line = models.ForeignKey("lines.Line", on_delete=models.PROTECT, related_name="renewal_attempts")
    cycle_end = models.DateTimeField()
    number = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.DUE)
    plan = models.ForeignKey("catalog.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=40, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["line", "cycle_end", "number"], name="renewal_attempt_once"),
        ]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"line {self.line_id} until {self.cycle_end:%Y-%m-%d %H:%M} #{self.number}: {self.status}"

    @property
    def reason_text(self) -> str:
        """Why this attempt did not renew, in the customer's words (never the stored code)."""
        return str(autorenew_reason(self.reason)) if self.reason else ""
