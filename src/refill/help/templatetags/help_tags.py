"""``{% help_url "payment-declined" %}``: the address of the help article for a topic, for the
market of the page's customer (their first line's; else the install's default market), or for
``market=`` when given; the help index when no article is published for it."""

from __future__ import annotations

from django import template

from refill.help import selectors

register = template.Library()


@register.simple_tag(takes_context=True)
def help_url(context, topic: str, market=None) -> str:
    if market is None:
        request = context.get("request")
        if request is not None:
            # One lookup per page, however many links it has.
            if not hasattr(request, "_help_market"):
                request._help_market = selectors.request_market(request)
            market = request._help_market
    return selectors.help_url(topic, market=market)
