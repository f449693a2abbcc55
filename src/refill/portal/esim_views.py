"""The customer's eSIM page: the QR code and activation code to install it, its install status as
the SM-DP+ reports it, and a new activation code for a new phone."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refill.catalog.models import Market, Plan
from refill.domain.activation import qr_png, qr_svg
from refill.errors import RefillError
from refill.esim.models import EsimOrder, Profile
from refill.esim.newlines import esim_wait_refund, waiting_context
from refill.esim.services import (
    EsimNotPaid,
    NoNumberAvailable,
    esim_code_may_leave,
    esim_for_new_line,
    esim_line_open,
    esim_reissue,
    esim_view,
)
from refill.esim.stock import new_lines_can_get_esim
from refill.lines.models import Line, PoolNumber
from refill.lines.selectors import customer_markets_ranked

from .views import _customer, _owned_line

POLLING = [EsimOrder.Status.ORDERING, EsimOrder.Status.RELEASED, EsimOrder.Status.DOWNLOADED]
KEPT = ["active", "grace", "suspended", "deactivated", "retained"]


def _esim_line(request: HttpRequest, pk: int) -> Line:
    line = _owned_line(request, pk)
    if line.sim_type != Line.SimType.ESIM:
        raise Http404
    return line


def _context(line: Line) -> dict:
    view = esim_view(line)
    order, profile, code, downloads_left = view.order, view.profile, view.code, view.downloads_left
    return {
        "line": line,
        "order": order,
        **waiting_context(line),
        # Paid for, and its profile is being ordered (the task after the first payment).
        "preparing": order is None and profile is not None and line.status != "pending",
        "profile": profile,
        "polling": POLLING,
        "code": str(code) if code else "",
        "ios_link": code.ios_install_link if code else "",
        "qr_svg": qr_svg(code, title=str(code.masked)) if code else "",
        "downloads_left": downloads_left,
        "reinstall_allowed": bool(
            profile and downloads_left and line.status in KEPT and (order is None or order.status != "downloaded")
        ),
    }


@login_required
def esim(request: HttpRequest, pk: int) -> HttpResponse:
    line = _esim_line(request, pk)
    response = render(request, "portal/esim.html", _context(line))
    response["Cache-Control"] = "private, no-store"  # the activation code installs the number
    return response


@login_required
def esim_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status block, polled (htmx) while the phone downloads; the page reloads when it changes."""
    line = _esim_line(request, pk)
    context = _context(line)
    response = render(request, "esim/_status.html", context)
    shown = request.GET.get("shown")
    current = context["order"].status if context["order"] is not None else "none"
    if shown and shown != current:
        response["HX-Refresh"] = "true"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def esim_qr(request: HttpRequest, pk: int) -> HttpResponse:
    code = esim_view(_esim_line(request, pk)).code
    if code is None:
        raise Http404
    response = HttpResponse(qr_png(code), content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def esim_reinstall(request: HttpRequest, pk: int) -> HttpResponse:
    """A new activation code for the line's eSIM (a new phone, or installing it again)."""
    line = _esim_line(request, pk)
    try:
        if not esim_code_may_leave(line):
            raise EsimNotPaid()  # its profile is only held: nothing is ordered or sent before it is paid
        if Profile.objects.filter(line=line).exists():
            esim_reissue(line=line, actor=request.user, reason=EsimOrder.Reason.REINSTALL)
        else:
            esim_for_new_line(line=line, profile_type=settings.REFILL_ESIM_PROFILE_TYPE, actor=request.user)
    except RefillError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("Here is your new activation code. We have emailed it to you as well."))
    return redirect("portal:esim", pk=line.pk)


@login_required
@require_POST
def esim_refund(request: HttpRequest, pk: int) -> HttpResponse:
    """The customer of a paid new line still without its eSIM, past the operator's time, takes
    their money back (full refund through the refund service)."""
    line = _esim_line(request, pk)
    try:
        refunds = esim_wait_refund(line=line, actor=request.user)
    except RefillError as error:
        messages.error(request, str(error))
    else:
        if refunds and all(refund.status == "succeeded" for refund in refunds):
            messages.success(request, _("Your money is on its way back. We have emailed you the details."))
        else:
            messages.success(request, _("Your refund has been asked for. We email you as soon as it is made."))
    return redirect("portal:esim", pk=line.pk)


@login_required
def line_new(request: HttpRequest) -> HttpResponse:
    """Get a new number with an eSIM: choose the country, the plan and the number, then pay for
    the first period on the renewal page. The eSIM's activation code comes once it is paid."""
    customer = _customer(request)
    markets = [
        market
        for market in Market.objects.order_by("code")
        if PoolNumber.objects.filter(market=market, status=PoolNumber.Status.AVAILABLE).exists()
    ]
    market = next((m for m in markets if m.code == (request.POST.get("market") or request.GET.get("market"))), None)
    # Unless chosen, the customer's own market (the wallet's default currency follows the same rule).
    market = market or next(iter(customer_markets_ranked(customer, markets)), None)
    plans, numbers = [], []
    if market is not None:
        for plan in Plan.objects.filter(market=market, is_active=True, kind=Plan.Kind.BASE).order_by("sort_order"):
            price = plan.current_price(market.currency)
            if price is not None:
                plan.price_now = price.amount
                plans.append(plan)
        numbers = list(
            PoolNumber.objects.filter(market=market, status=PoolNumber.Status.AVAILABLE).order_by(
                "available_since", "pk"
            )[:12]
        )
    error = ""
    # Said before the customer chooses: no eSIM could be given to a new line now.
    in_stock = new_lines_can_get_esim()
    chosen_plan, chosen = request.POST.get("plan", ""), request.POST.get("msisdn", "")
    if request.method == "POST" and market is not None:
        plan = next((p for p in plans if p.code == chosen_plan), None)
        if plan is None:
            error = _("Choose a plan.")
        elif chosen and chosen not in {n.msisdn for n in numbers}:
            error = str(NoNumberAvailable())
        else:
            try:
                line = esim_line_open(customer=customer, market=market, plan=plan, msisdn=chosen, actor=request.user)
            except RefillError as refused:
                error = str(refused)
            else:
                return redirect(f"{reverse('portal:renew', args=[line.pk])}?plan={plan.code}")
    if chosen and chosen not in {n.msisdn for n in numbers}:
        chosen = ""  # taken meanwhile: the page offers the others
    context = {
        "markets": markets, "market": market, "plans": plans, "numbers": numbers, "error": error,
        "in_stock": new_lines_can_get_esim() if error else in_stock,  # a refusal may be the last one taken
        # A refused choice is shown chosen again (the first plan and any number otherwise).
        "chosen_plan": chosen_plan if any(p.code == chosen_plan for p in plans) else (plans[0].code if plans else ""),
        "chosen_number": chosen,
    }  # fmt: skip
    return render(request, "portal/line_new.html", context, status=400 if error else 200)
