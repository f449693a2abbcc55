"""The customer portal's lines: the landing page, My lines (each line as its card shows it) and a
line's auto-renew settings; and how a request finds what it may see (every object is looked up
through its owner). The checkouts, orders and account pages have their own modules."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from refill.catalog.models import Plan
from refill.formatting import days_left
from refill.lines.models import Line
from refill.lines.selectors import line_lapse_deadlines
from refill.orders.models import Order
from refill.orders.selectors import customer_orders
from refill.payments.services import methods_for
from refill.renewals.autorenew import autorenew_settings, autorenew_update
from refill.renewals.autorenew_settings import autorenew_next
from refill.renewals.models import AutoRenew
from refill.subscriptions.selectors import line_allowances, line_queued, lines_for_customer, period_current

from .forms import AutoRenewForm
from .refill_views import landing_markets


def _customer(request: HttpRequest):
    customer = getattr(request.user, "customer", None)
    if customer is None:
        raise Http404
    return customer


def _owned_line(request: HttpRequest, pk: int) -> Line:
    # Every object is looked up through its owner: another customer's line is simply not found.
    return get_object_or_404(Line.objects.select_related("market", "plan"), pk=pk, owner=_customer(request))


def _owned_order(request: HttpRequest, pk: int) -> Order:
    return get_object_or_404(customer_orders(_customer(request)).select_related("line", "line__market"), pk=pk)


def landing(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and getattr(request.user, "customer", None):
        return redirect("portal:home")
    return render(request, "portal/landing.html", {"markets": landing_markets()})


def line_validity(line: Line, now) -> dict:
    """What "Valid until" means on every page: the end of the period running now (the line's end
    when none runs); the end of the periods paid ahead is said apart ("Paid ahead until"), None
    when nothing is queued."""
    current = period_current(line, now)
    running = line.status in ("active", "retained")  # a kept number may have a plan queued too
    queued = line_queued(line, now) if running else None
    return {
        "current": current,
        "queued": queued,
        "valid_until": current.end if current is not None and running else line.period_end,
        "paid_ahead_until": queued.paid_through if queued is not None else None,
    }


def _line_card(line: Line, now) -> dict:
    """A line as its card shows it. An active line speaks of the period running now (its plan,
    end and buckets); periods paid ahead are "next", not folded into one long validity."""
    validity = line_validity(line, now)
    current, queued, valid_until = validity["current"], validity["queued"], validity["valid_until"]
    service_days = max((line.period_end - now).days, 0) if line.period_end and line.period_end > now else 0
    return {
        "line": line,
        "plan": current.plan if current else line.plan,
        "allowances": line_allowances(line, now),
        "valid_until": valid_until,
        "ended": valid_until is not None and valid_until <= now,
        "days_left": days_left(valid_until, now),
        "queued": queued,
        # "Ends soon" is about the service, not the period: a queued period keeps the line running.
        "expiring_soon": line.status == "active" and line.period_end is not None and service_days <= 3,
        "current_period": current,
        "auto_renew": hasattr(line, "auto_renew") and line.auto_renew.enabled,
        "deadlines": line_lapse_deadlines(line),
    }


@login_required
def home(request: HttpRequest) -> HttpResponse:
    customer = getattr(request.user, "customer", None)
    if customer is None:
        return render(request, "portal/no_customer.html")
    now = timezone.now()
    lines = lines_for_customer(customer)
    cards = [_line_card(line, now) for line in lines]
    # "Buy an add-on" is offered on lines in service whose market sells add-ons (one query).
    selling = set(
        Plan.objects.filter(kind=Plan.Kind.ADDON, is_active=True, market__in={line.market_id for line in lines})
        .order_by()
        .values_list("market_id", flat=True)
        .distinct()
    )
    for card in cards:
        line = card["line"]
        card["addons"] = line.market_id in selling and line.status in ("active", "retained")
    return render(request, "portal/home.html", {"cards": cards})


@login_required
def auto_renew(request: HttpRequest, pk: int) -> HttpResponse:
    """The line's auto-renew settings: on or off, spending caps, which ways to pay."""
    line = _owned_line(request, pk)
    settings = autorenew_settings(line)
    form = AutoRenewForm(request.POST or None, instance=settings)
    if request.method == "POST" and form.is_valid():
        autorenew_update(line=line, actor=request.user, **form.changes())
        messages.success(request, _("Auto-renew settings saved."))
        return redirect("portal:auto_renew", pk=line.pk)
    context = {
        "line": line,
        "form": form,
        "methods": methods_for(line.owner),
        "currency": line.market.currency,
        "upcoming": autorenew_next(line),
        "auto_renew_on": settings.pk is not None and AutoRenew.objects.filter(pk=settings.pk, enabled=True).exists(),
        "recent": line.renewal_attempts.exclude(status="due").order_by("-due_at")[:5],
    }
    return render(request, "portal/auto_renew.html", context, status=400 if form.errors else 200)
