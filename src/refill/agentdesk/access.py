"""Who may use the shop counter, and which line a session may serve: an agent of an active shop,
a live line of its market, verified (by the customer's shop PIN or a code sent to the number) in
this session within VERIFICATION_LIFETIME."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from refill.customers.models import User
from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn
from refill.lines.models import Line

from .services import (
    VERIFICATION_LIFETIME,
    LineNotVerified,
    NoShop,
    shop_of,
)

# Numbers a shop may still serve (not released, not ported away).
LIVE_LINES = Line.objects.select_related("owner", "market", "plan").exclude(status__in=["available", "ported_out"])

# The one line this agent's session may serve, until when: {"line": pk, "shop": pk, "until": epoch}.
VERIFIED = "agentdesk.verified"


def agent_required(view=None, *, landing: bool = False):
    """Shop agents of an active shop only (staff are not agents). An agent without a shop is told
    why on the desk's landing page and refused (403) everywhere else. Sets ``request.shop``."""

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            user = request.user
            if user.role != User.Role.AGENT or user.is_staff:
                raise PermissionDenied
            shop = shop_of(user)
            if shop is None:
                status = 200 if landing and request.method == "GET" else 403
                return render(request, "agentdesk/no_shop.html", {"reason": NoShop().message}, status=status)
            request.shop = shop
            # Times on the desk's pages are the shop's (its market's zone), not the server's.
            with timezone.override(shop.market.time_zone):
                return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def desk_url(line: Line) -> str:
    """The desk with ``line``'s number looked up again."""
    return f"{reverse('agentdesk:desk')}?{urlencode({'msisdn': line.msisdn})}"


def shop_line(request: HttpRequest, pk: int) -> Line:
    """A live line of the shop's market; any other is not found."""
    return get_object_or_404(LIVE_LINES.filter(market=request.shop.market), pk=pk)


def verified_until(request: HttpRequest, line: Line) -> datetime | None:
    """Until when this session may serve ``line``, or None (not verified, or no longer)."""
    held = request.session.get(VERIFIED) or {}
    if held.get("line") != line.pk or held.get("shop") != request.shop.pk:
        return None
    until = datetime.fromtimestamp(held.get("until", 0), tz=UTC)
    return until if until > timezone.now() else None


def mark_verified(request: HttpRequest, line: Line) -> None:
    """This session may serve ``line`` for the next VERIFICATION_LIFETIME."""
    until = timezone.now() + VERIFICATION_LIFETIME
    request.session[VERIFIED] = {"line": line.pk, "shop": request.shop.pk, "until": until.timestamp()}
    messages.success(
        request,
        _("Customer verified. You can serve %(number)s for the next 15 minutes.") % {"number": line.msisdn_display},
    )


def verified_line(view):
    """Resolve the ``pk`` of a line of the shop's market and refuse (403) unless this session
    verified its customer in the last VERIFICATION_LIFETIME."""

    @wraps(view)
    def wrapper(request, pk: int, *args, **kwargs):
        line = shop_line(request, pk)
        if verified_until(request, line) is None:
            context = {"reason": LineNotVerified().message, "line": line, "desk_url": desk_url(line)}
            return render(request, "agentdesk/refused.html", context, status=403)
        return view(request, line, *args, **kwargs)

    return wrapper


def find_line(raw: str, shop) -> Line | None:
    """The live line of the shop's market a typed number means, or None."""
    try:
        number = normalize_msisdn(raw, shop.market.region)
    except InvalidIdentifier:
        return None
    return LIVE_LINES.filter(msisdn=number, market=shop.market).first()
