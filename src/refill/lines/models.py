from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.domain.identifiers import InvalidIdentifier, format_msisdn, msisdn_region, normalize_iccid, normalize_msisdn
from refill.domain.lifecycle import LineStatus
from refill.formatting import PhoneNumberText

STATUS_LABELS = {
    LineStatus.PENDING: _("Pending activation"),
    LineStatus.ACTIVE: _("Active"),
    LineStatus.GRACE: _("Grace period"),
    LineStatus.SUSPENDED: _("Suspended"),
    LineStatus.DEACTIVATED: _("Deactivated"),
    LineStatus.AGING: _("Number being released"),
    LineStatus.AVAILABLE: _("Number released"),
    LineStatus.RETAINED: _("Number kept"),
    LineStatus.PORTED_OUT: _("Ported out"),
}


class Line(models.Model):
    class SimType(models.TextChoices):
        ESIM = "esim", _("eSIM")
        PHYSICAL = "physical", _("Physical SIM")

    # Unique among lines that still hold their number; a released number may serve a new line.
    msisdn = models.CharField(max_length=16)
    # Unique among lines that still hold their number: a SIM released with one may serve a new line.
    iccid = models.CharField(max_length=20)
    sim_type = models.CharField(max_length=16, choices=SimType.choices)
    owner = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="lines")
    market = models.ForeignKey("catalog.Market", on_delete=models.PROTECT, related_name="lines")
    plan = models.ForeignKey("catalog.Plan", on_delete=models.PROTECT, related_name="lines")
    # Domain rule 4: a plan change waits for the next renewal, which then uses this plan (auto-renew
    # too); cleared once a period of it is granted.
    next_plan = models.ForeignKey("catalog.Plan", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=[(s.value, s.value) for s in LineStatus], default="pending")
    status_changed_at = models.DateTimeField(default=timezone.now)
    # Denormalised from the periods for display and sweeps; only ever moves forward (invariant 5).
    period_end = models.DateTimeField(null=True, blank=True)
    # The day of month a calendar-month plan keeps (rule 3), set by the first monthly period.
    anchor_day = models.PositiveSmallIntegerField(null=True, blank=True)
    label = models.CharField(max_length=60, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["msisdn"]
        indexes = [
            models.Index(fields=["status", "period_end"]),
            models.Index(fields=["msisdn"]),
            models.Index(fields=["iccid"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["msisdn"],
                condition=~models.Q(status__in=["available", "ported_out"]),
                name="line_msisdn_held_once",
            ),
            models.UniqueConstraint(
                fields=["iccid"],
                condition=~models.Q(status__in=["available", "ported_out"]),
                name="line_iccid_held_once",
            ),
        ]

    def __str__(self) -> str:
        return self.msisdn

    def save(self, *args, **kwargs) -> None:
        # No row with a malformed number or SIM serial, whoever writes it (service, admin, import).
        self.msisdn = normalize_msisdn(self.msisdn, msisdn_region(self.msisdn) if self.msisdn.startswith("+") else None)
        self.iccid = normalize_iccid(self.iccid)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        region = self.market.region if self.market_id else None
        errors = {}
        try:
            self.msisdn = normalize_msisdn(self.msisdn, region)
        except InvalidIdentifier:
            errors["msisdn"] = _("Enter a valid phone number for this market.")
        try:
            self.iccid = normalize_iccid(self.iccid)
        except InvalidIdentifier as exc:
            errors["iccid"] = str(exc)
        if errors:
            raise ValidationError(errors)

    @property
    def msisdn_display(self) -> str:
        # In a page's text it never breaks between its groups (formatting.PhoneNumberText).
        return PhoneNumberText(format_msisdn(self.msisdn))

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS[LineStatus(self.status)])

    @property
    def paid_time_ended(self) -> bool:
        """Whether the line's paid time is over (grace and after): its end is then said as "Ended
        on", as the portal's card says it, never "Valid until" a date in the past."""
        return self.period_end is not None and self.period_end <= timezone.now()

    @property
    def renewal_plan(self):
        """The plan the next renewal uses: a plan change waiting for it, else the current plan."""
        return self.next_plan if self.next_plan_id else self.plan


class LineStatusChange(models.Model):
    """Every lifecycle transition, with its cause (append-only)."""

    line = models.ForeignKey(Line, on_delete=models.PROTECT, related_name="status_changes")
    from_status = models.CharField(max_length=16)
    to_status = models.CharField(max_length=16)
    cause = models.CharField(max_length=64)
    reference = models.CharField(max_length=64, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.line_id}: {self.from_status} -> {self.to_status} ({self.cause})"


class PoolNumber(models.Model):
    """A number released by a line: it ages (nobody gets it, so calls for the old owner die
    out), then becomes available for a new activation."""

    class Status(models.TextChoices):
        AGING = "aging", _("Aging")
        AVAILABLE = "available", _("Available")
        ASSIGNED = "assigned", _("Assigned")

    msisdn = models.CharField(max_length=16, unique=True)
    market = models.ForeignKey("catalog.Market", on_delete=models.PROTECT, related_name="pool_numbers")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.AGING)
    released_line = models.ForeignKey(Line, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    available_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["market", "status"])]

    def __str__(self) -> str:
        return f"{self.msisdn} {self.status}"
