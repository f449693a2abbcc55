"""Notification kinds (rules) and states as staff read them in the back office, in their language.
A rule is stored as a code ("autorenew_upcoming", "expiry_7d", "usage_80"); the code stays the
record, the label is what is shown. A rule without a label here is shown as its code."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, pgettext_lazy

RULE_LABELS = {
    "order_confirmation": _("Order confirmation"),
    "refund": _("Refund made"),
    "autorenew_upcoming": _("Auto-renew coming up"),
    "autorenew_succeeded": _("Auto-renewed"),
    "autorenew_failed": _("Auto-renew failed"),
    "autorenew_over_cap": _("Auto-renew over the spending limit"),
    "card_expiring": _("Card expiring"),
    "expired": _("Plan ended"),
    "grace_ending": _("Grace period ending"),
    "suspended": _("Number suspended"),
    "number_release": _("Number about to be released"),
    "esim_ready": _("eSIM ready to install"),
    "esim_waiting": _("eSIM on its way"),
    "esim_refund_offer": _("eSIM delayed: refund offered"),
    "gift_paid": _("Gift paid"),
    "gift_received": _("Gift received"),
    "fleet_invite": _("Business invitation"),
    "fleet_job_done": _("Bulk renewal done"),
    "ticket_created": _("Support request received"),
    "ticket_reply": _("Support reply"),
    "ticket_customer_wrote": _("Customer wrote to support"),
}

STATUS_LABELS = {
    "pending": pgettext_lazy("notification status", "Waiting to be sent"),
    "sending": pgettext_lazy("notification status", "Sending"),
    "sent": pgettext_lazy("notification status", "Sent"),
    "skipped": pgettext_lazy("notification status", "Not sent (not needed)"),
    "failed": pgettext_lazy("notification status", "Failed"),
}

CHANNEL_LABELS = {
    "email": _("Email"),
    "sms": _("SMS"),
}


def rule_label(rule: str) -> str:
    """A notification's kind in words: "Plan ends in 7 days" for "expiry_7d"."""
    if rule in RULE_LABELS:
        return str(RULE_LABELS[rule])
    if expiry := re.fullmatch(r"expiry_(\d+)d", rule):
        days = int(expiry.group(1))
        return ngettext("Plan ends in %(days)d day", "Plan ends in %(days)d days", days) % {"days": days}
    if usage := re.fullmatch(r"usage_(\d+)", rule):
        return str(_("%(percent)s%% of an allowance used")) % {"percent": usage.group(1)}
    return rule


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def channel_label(channel: str) -> str:
    return str(CHANNEL_LABELS.get(channel, channel))
