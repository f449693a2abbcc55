"""Business fleets: who of a business may do what, how its lines are grouped, and the bulk jobs
(renew, change plan, auto-renew on or off) run over many of its lines at once."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class FleetMember(models.Model):
    """A login of a business customer and its role there: an admin acts on the fleet (bulk jobs,
    groups, payment), a viewer only sees it."""

    class Role(models.TextChoices):
        ADMIN = "admin", _("Administrator")
        VIEWER = "viewer", _("Viewer")

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="fleet_member")
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.VIEWER)

    def __str__(self) -> str:
        return f"{self.user} ({self.role})"


class LineGroup(models.Model):
    """A business's own grouping of its lines (a site, a device type)."""

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="line_groups")
    name = models.CharField(max_length=60)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["customer", "name"], name="line_group_name_unique")]

    def __str__(self) -> str:
        return self.name


class GroupedLine(models.Model):
    """A line's group (at most one)."""

    line = models.OneToOneField("lines.Line", on_delete=models.CASCADE, related_name="fleet_group")
    group = models.ForeignKey(LineGroup, on_delete=models.CASCADE, related_name="members")

    def __str__(self) -> str:
        return f"{self.line_id} in {self.group_id}"


class BulkJob(models.Model):
    """One bulk action over many lines of a business, run in the background. A renewal job checks
    and prices every line first (``checking``), then waits for the one payment of the batch
    (``awaiting_payment``), then renews the lines it paid for (``applying``). Lines that fail are
    never charged for."""

    class Action(models.TextChoices):
        RENEW = "renew", _("Renew")
        CHANGE_PLAN = "change_plan", _("Change plan at next renewal")
        AUTO_RENEW_ON = "auto_renew_on", _("Turn auto-renew on")
        AUTO_RENEW_OFF = "auto_renew_off", _("Turn auto-renew off")

    class Status(models.TextChoices):
        CHECKING = "checking", _("Checking the lines")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        APPLYING = "applying", _("Renewing")
        DONE = "done", _("Done")
        FAILED = "failed", _("Nothing done")
        CANCELLED = "cancelled", _("Cancelled")

    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="bulk_jobs")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    idempotency_key = models.CharField(max_length=80)
    action = models.CharField(max_length=16, choices=Action.choices)
    # renew: the plan for every line (empty: each line's next or current plan); change_plan: the plan.
    plan = models.ForeignKey("catalog.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    periods = models.PositiveSmallIntegerField(default=1)
    # Bumped when the lines are priced again (old prices expired): new orders need new keys.
    round = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CHECKING)
    reason = models.CharField(max_length=200, blank=True)  # why nothing was done (status failed)
    language = models.CharField(max_length=16, default="en")
    currency = models.CharField(max_length=3, blank=True)
    total = models.DecimalField(max_digits=14, decimal_places=4, default=0)
    # The one payment of a renewal batch: a card charge into the business's wallet (``funding``),
    # from which each line's order is paid; empty when the wallet paid the whole batch.
    funding = models.OneToOneField(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="funded_job"
    )
    invoice_number = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    checked_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["customer", "idempotency_key"], name="bulk_job_customer_key_unique"),
            models.CheckConstraint(condition=Q(periods__gte=1, periods__lte=12), name="bulk_job_periods_range"),
        ]

    def __str__(self) -> str:
        return f"bulk job {self.pk}"


class BulkJobLine(models.Model):
    """One number of a bulk job and what became of it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        READY = "ready", _("Ready")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    job = models.ForeignKey(BulkJob, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()  # its row in the selection or the CSV file
    msisdn = models.CharField(max_length=32)  # as given; the line's number once found
    line = models.ForeignKey("lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(max_length=200, blank=True)
    order = models.ForeignKey("orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)  # the line's validity after a renewal

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="bulk_job_line_position_unique")]
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self) -> str:
        return f"{self.job_id}#{self.position} {self.msisdn}"
