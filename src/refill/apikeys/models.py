"""API keys for partners and the network: stored as a public prefix and a hash of the secret."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

SCOPES = {
    "read": _("Read plans, lines and orders"),
    "renew": _("Renew lines and place orders"),
    "vouchers": _("Redeem refill PINs"),
    "usage:write": _("Send usage records"),
    "esim": _("Manage eSIM profiles"),
}


class ApiKey(models.Model):
    class Kind(models.TextChoices):
        PARTNER = "partner", _("Partner")
        NETWORK = "network", _("Network")

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.PARTNER)
    # The key is rfk_<prefix>_<secret>; only the prefix and SHA-256 of the secret are kept.
    prefix = models.CharField(max_length=12, unique=True)
    digest = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey("customers.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey("customers.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.name} (rfk_{self.prefix}_…)"

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return self.active and scope in self.scopes
