"""A market's ways to pay (issue 28): which ways its checkouts offer and in what order. Staff move a
way up or down and switch it on or off; nothing is saved until "Save" with a reason, through the
catalog's service (which writes the audit row). The up and down buttons post the whole list and get
the page back reordered, so no script is needed. A way whose payment adapter is not configured, or
does not take it, is shown switched off with why, and the service refuses to switch it on."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from refill.catalog import selectors, services
from refill.catalog.models import PAY_METHOD_NAMES, Market
from refill.customers.staff import require_perm
from refill.domain import payment_methods as pay_rule
from refill.payments.selectors import pay_methods_unavailable


@dataclass(frozen=True)
class WayRow:
    """One way to pay as the page shows it."""

    method: str
    name: str
    enabled: bool
    why_not: str  # why it cannot be switched on now ("" when it can)
    first: bool
    last: bool


def _posted(data: QueryDict) -> list[tuple[str, bool]]:
    """The list as the page posted it: each way in its order, with its switch."""
    on = set(data.getlist("on"))
    return [(method, method in on) for method in data.getlist("method")]


def _listable(ways: list[tuple[str, bool]], stored: list[selectors.PayMethodSetting]) -> list[tuple[str, bool]]:
    """``ways`` if it is every way once, else the stored list (an old page, a hand-made request):
    the page can only show a whole list."""
    if sorted(method for method, _on in ways) == sorted(pay_rule.FAMILIES):
        return ways
    return [(setting.method, setting.enabled) for setting in stored]


def _moved(ways: list[tuple[str, bool]], move: str) -> list[tuple[str, bool]]:
    """``ways`` with one way moved a place up or down (``move`` is "up:<way>" or "down:<way>")."""
    direction, _sep, method = move.partition(":")
    places = [way for way, _on in ways]
    if method not in places or direction not in ("up", "down"):
        return ways
    at = places.index(method)
    to = at - 1 if direction == "up" else at + 1
    if not 0 <= to < len(ways):
        return ways
    moved = list(ways)
    moved[at], moved[to] = moved[to], moved[at]
    return moved


def _rows(ways: list[tuple[str, bool]], unavailable: dict[str, str]) -> list[WayRow]:
    return [
        WayRow(
            method=method,
            name=str(PAY_METHOD_NAMES[method]),
            enabled=enabled and method not in unavailable,
            why_not=unavailable.get(method, ""),
            first=place == 0,
            last=place == len(ways) - 1,
        )
        for place, (method, enabled) in enumerate(ways)
    ]


@require_perm("catalog.change_market")
def market_pay_methods_view(request: HttpRequest, pk: int) -> HttpResponse:
    market = get_object_or_404(Market, pk=pk)
    stored = selectors.market_pay_methods(market)
    unavailable = pay_methods_unavailable()
    has_setting = market.pay_methods.exists()
    errors: list[str] = []
    reason_errors: list[str] = []
    moved = False
    reason = ""
    if request.method == "POST":
        ways = _posted(request.POST)
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("move"):
            ways, moved = _moved(_listable(ways, stored), request.POST["move"]), True
        elif request.POST.get("action") == "save":
            try:
                changed = services.market_pay_methods_update(
                    market=market, methods=ways, cannot_switch_on=unavailable, actor=request.user, reason=reason
                )
            except ValidationError as exc:
                errors = [str(message) for error in exc.error_dict.get("methods", []) for message in error.messages]
                reason_errors = [
                    str(message) for error in exc.error_dict.get("reason", []) for message in error.messages
                ]
            else:
                saved = _("The ways to pay of %(market)s were saved.") % {"market": market.display_name}
                messages.success(request, saved if changed else _("Nothing changed."))
                return redirect("backoffice:catalog")
    else:
        ways = []
    context = {
        "market": market,
        "rows": _rows(_listable(ways, stored), unavailable),
        "has_setting": has_setting,
        "moved": moved,
        "errors": errors,
        "reason": reason,
        "reason_errors": reason_errors,
        "reason_max": services.REASON_MAX_LENGTH,
    }
    status = 400 if errors or reason_errors else 200
    return render(request, "backoffice/catalog_pay_methods.html", context, status=status)
