"""Why a fleet action is refused: stable codes, translated messages."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from refill.errors import RefillError


class FleetRefused(RefillError):
    code = "fleet_refused"
    message = _("This cannot be done.")


class NotFleetAdmin(FleetRefused):
    code = "fleet_admin_only"
    message = _("Only an administrator of this business can do this.")


class JobNotPayable(FleetRefused):
    code = "bulk_job_not_payable"
    message = _("This job is not waiting for a payment.")


class JobPricesExpired(FleetRefused):
    code = "bulk_job_prices_expired"
    message = _("These prices were checked more than 20 hours ago. Check the lines again before paying.")
