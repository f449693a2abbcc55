"""The back office's own permissions: pages that are not about one model. No table."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class BackOffice(models.Model):
    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("view_reports", _("Can see the reports")),
            ("view_customer", _("Can find customers and see their 360 page")),
            ("act_for_customer", _("Can act for a customer (resend, re-issue, goodwill, adjust)")),
        ]

    def __str__(self) -> str:
        return "back office"
