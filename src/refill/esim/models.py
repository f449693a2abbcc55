"""eSIM profile inventory and the orders placed with the SM-DP+ for it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refill.domain.activation import ActivationCode
from refill.domain.esim import NetworkState, SmdpState

SMDP_LABELS = {
    SmdpState.AVAILABLE: _("In stock"),
    SmdpState.ALLOCATED: _("Reserved"),
    SmdpState.LINKED: _("Reserved for a phone"),
    SmdpState.CONFIRMED: _("Confirmed"),
    SmdpState.RELEASED: _("Ready to install"),
    SmdpState.DOWNLOADED: _("Downloaded to the phone"),
    SmdpState.INSTALLED: _("Installed"),
    SmdpState.DELETED: _("Deleted from the phone"),
    SmdpState.ERROR: _("Installation failed"),
    SmdpState.UNAVAILABLE: _("Out of use"),
}


class ProfileBatch(models.Model):
    """One SIM vendor file imported into the inventory. The same file imported again is this
    batch again (found by its SHA-256), and changes nothing."""

    file_name = models.CharField(max_length=200)
    sha256 = models.CharField(max_length=64, unique=True)
    vendor = models.CharField(max_length=100, blank=True)
    imported_at = models.DateTimeField(default=timezone.now)
    imported_by = models.ForeignKey("customers.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    rows = models.PositiveIntegerField(default=0)
    imported = models.PositiveIntegerField(default=0)
    already_known = models.PositiveIntegerField(default=0)
    # One entry per rejected row: {"row": n, "iccid": "...", "errors": ["..."]}
    rejected = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-imported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported} profiles)"


class Profile(models.Model):
    """One eSIM profile. Its state at the SM-DP+, its state on the network and the line it is
    assigned to are three separate facts, each with the time it last changed."""

    iccid = models.CharField(max_length=20, unique=True)
    imsi = models.CharField(max_length=15, unique=True)
    profile_type = models.CharField(max_length=64)
    batch = models.ForeignKey(ProfileBatch, on_delete=models.PROTECT, related_name="profiles")
    smdp_state = models.CharField(
        max_length=12, choices=[(s.value, SMDP_LABELS[s]) for s in SmdpState], default=SmdpState.AVAILABLE
    )
    smdp_state_at = models.DateTimeField(default=timezone.now)
    network_state = models.CharField(
        max_length=10, choices=[(s.value, s.value) for s in NetworkState], default=NetworkState.INACTIVE
    )
    network_state_at = models.DateTimeField(default=timezone.now)
    line = models.OneToOneField(
        "lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="esim_profile"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    # Downloads the SM-DP+ has released this profile for (the first one included).
    downloads = models.PositiveSmallIntegerField(default=0)
    eid = models.CharField(max_length=32, blank=True)  # the device it was last downloaded to

    class Meta:
        ordering = ["iccid"]
        indexes = [models.Index(fields=["profile_type", "smdp_state"], name="esim_profile_stock")]

    def __str__(self) -> str:
        return self.iccid

    @property
    def smdp_label(self) -> str:
        return str(SMDP_LABELS[SmdpState(self.smdp_state)])


class EsimOrder(models.Model):
    """One download order at the SM-DP+ (DownloadOrder, then ConfirmOrder with release): a
    matching ID that one phone may use to download the profile."""

    class Reason(models.TextChoices):
        POOL = "pool", _("Kept ready")
        NEW_LINE = "new_line", _("New line")
        REISSUE = "reissue", _("New phone")
        REINSTALL = "reinstall", _("Re-install")

    class Status(models.TextChoices):
        ORDERING = "ordering", _("Being prepared")
        RELEASED = "released", _("Ready to install")
        DOWNLOADED = "downloaded", _("Downloaded to the phone")
        INSTALLED = "installed", _("Installed")
        FAILED = "failed", _("Installation failed")
        CANCELLED = "cancelled", _("Cancelled")

    profile = models.ForeignKey(Profile, on_delete=models.PROTECT, related_name="orders")
    line = models.ForeignKey("lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=12, choices=Reason.choices)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ORDERING)
    smdp_address = models.CharField(max_length=253, blank=True)
    matching_id = models.CharField(max_length=255, blank=True)
    eid = models.CharField(max_length=32, blank=True)
    # The functionCallIdentifier of each ES2+ call made for this order: a retry sends the same one.
    download_call_id = models.CharField(max_length=64)
    confirm_call_id = models.CharField(max_length=64)
    cancel_call_id = models.CharField(max_length=64, blank=True)
    error_code = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    released_at = models.DateTimeField(null=True, blank=True)
    downloaded_at = models.DateTimeField(null=True, blank=True)
    installed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One order a phone may still use per profile: a re-issue cancels the old one first.
            models.UniqueConstraint(
                fields=["profile"],
                condition=Q(status__in=["ordering", "released", "downloaded"]),
                name="esim_one_open_order",
            ),
            models.UniqueConstraint(
                fields=["smdp_address", "matching_id"], condition=~Q(matching_id=""), name="esim_matching_id_once"
            ),
        ]

    def __str__(self) -> str:
        return f"eSIM order {self.pk} ({self.status})"

    @property
    def activation_code(self):
        if not self.matching_id:
            return None
        return ActivationCode(self.smdp_address, self.matching_id)


class ProfileEvent(models.Model):
    """A download progress notification received from the SM-DP+, kept whatever became of it."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        UNCHANGED = "unchanged", _("Nothing to change")
        REFUSED = "refused", _("Refused")

    requester = models.CharField(max_length=100)
    call_id = models.CharField(max_length=64)  # its functionCallIdentifier: a replay is recognised by it
    iccid = models.CharField(max_length=20)
    profile = models.ForeignKey(Profile, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    order = models.ForeignKey(EsimOrder, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    point = models.PositiveSmallIntegerField()
    succeeded = models.BooleanField()
    eid = models.CharField(max_length=32, blank=True)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    detail = models.CharField(max_length=200, blank=True)
    payload = models.JSONField(default=dict)

    class Meta:
        ordering = ["-received_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["requester", "call_id"], name="esim_event_once")]

    def __str__(self) -> str:
        return f"{self.iccid} point {self.point} ({self.outcome})"


class StockAlert(models.Model):
    """The operator's low-stock threshold for one profile type: the back office warns when the
    profiles a new line can still get (kept ready or in stock) fall to it. A type without one uses
    ``REFILL_ESIM_LOW_STOCK``."""

    profile_type = models.CharField(max_length=64, unique=True)
    low_at = models.PositiveIntegerField()
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey("customers.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["profile_type"]

    def __str__(self) -> str:
        return f"{self.profile_type} ≤ {self.low_at}"


class NewLineWait(models.Model):
    """A new eSIM line paid for while no profile could be given to it (none in stock, or the SM-DP+
    refused it). Delivery is tried again by ``esim_waiting_lines_deliver`` (after each import and
    on a schedule); after ``REFILL_ESIM_REFUND_AFTER_HOURS`` the customer is offered their money
    back."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting for an eSIM")
        DELIVERED = "delivered", _("eSIM sent")
        REFUNDED = "refunded", _("Refunded")

    line = models.OneToOneField("lines.Line", on_delete=models.PROTECT, related_name="esim_wait")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    reason = models.CharField(max_length=40)  # the last refusal's code, for staff
    since = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # One sweep at a time tries a line: the one that moved this forward holds it until then.
    lease_until = models.DateTimeField(null=True, blank=True)
    refund_offered_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["since", "pk"]
        indexes = [models.Index(fields=["status", "since"], name="esim_wait_open")]

    def __str__(self) -> str:
        return f"line {self.line_id} {self.status}"
