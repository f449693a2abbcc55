"""The eSIM alerts staff see on the back office's first page: profile types at or below their
low-stock threshold, and paid new lines waiting for a profile (details on the inventory page)."""

from django import template

from refill.esim.models import NewLineWait
from refill.esim.stock import stock_levels

register = template.Library()


@register.inclusion_tag("esim/_staff_alerts.html", takes_context=True)
def esim_alerts(context):
    perms = context.get("perms")
    if not perms or not perms["esim"]["view_profile"]:
        return {"show": False}
    return {
        "show": True,
        "low": [level for level in stock_levels() if level.low],
        "waiting": NewLineWait.objects.filter(status=NewLineWait.Status.WAITING).count(),
    }
