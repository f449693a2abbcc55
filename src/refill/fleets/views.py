"""The business fleet pages (/fleet/): dashboard, lines and groups, bulk jobs with their results,
payment and invoice. Every member sees them; only administrators act."""

from __future__ import annotations

import uuid
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from refill.domain.lifecycle import LineStatus
from refill.ledger.services import wallet_balance
from refill.lines.models import STATUS_LABELS, Line
from refill.ops.safetext import csv_response
from refill.orders.errors import PaymentInProgress, RefillError, decline_message
from refill.orders.paying import PayWith
from refill.orders.settling import payment_resume
from refill.payments.bank_step import bank_step
from refill.payments.card_form import CardForm, card_page
from refill.payments.models import Payment
from refill.payments.port import TokenizationError
from refill.payments.services import methods_for

from . import groups as fleet_groups
from . import selectors, services
from .access import fleet_member
from .errors import JobNotPayable
from .forms import BulkJobForm, GroupForm
from .members import member_add, member_remove, member_set_role
from .models import BulkJob, BulkJobLine, FleetMember, LineGroup
from .numbers import MAX_CSV_BYTES, RELEASED, numbers_from_csv, numbers_from_text


def fleet_view(view):
    """A fleet page: a logged-in member of a business, who gets ``request.fleet`` (the business)
    and ``request.fleet_admin``."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        member = fleet_member(request.user)
        if member is None:
            raise Http404
        request.fleet = request.user.customer
        request.fleet_admin = member.role == FleetMember.Role.ADMIN
        return view(request, *args, **kwargs)

    return wrapper


def _admin_only(request: HttpRequest) -> HttpResponse | None:
    if not request.fleet_admin:
        return HttpResponseForbidden(_("Only an administrator of this business can do this."))
    return None


def _job(request: HttpRequest, pk: int) -> BulkJob:
    return get_object_or_404(
        BulkJob.objects.select_related("plan", "funding", "created_by"), pk=pk, customer=request.fleet
    )


@fleet_view
def dashboard(request: HttpRequest) -> HttpResponse:
    context = selectors.dashboard(request.fleet)
    context["jobs"] = BulkJob.objects.filter(customer=request.fleet)[:5]
    return render(request, "fleets/dashboard.html", context)


def _status_labels() -> list[tuple[str, str]]:
    return [(status.value, STATUS_LABELS[status]) for status in LineStatus if status.value not in RELEASED]


@fleet_view
def lines(request: HttpRequest) -> HttpResponse:
    group, status, query = request.GET.get("group", ""), request.GET.get("status", ""), request.GET.get("q", "").strip()
    found = selectors.fleet_lines(request.fleet, group=group, status=status, query=query)
    page = Paginator(found, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "fleets/lines.html",
        {
            "page": page,
            "auto_renew": selectors.auto_renew_of(list(page.object_list)),
            "groups": LineGroup.objects.filter(customer=request.fleet),
            "group": group,
            "status": status,
            "query": query,
            "statuses": _status_labels(),
            "form": BulkJobForm(customer=request.fleet, initial={"idempotency_key": uuid.uuid4().hex}),
        },
    )


@fleet_view
@require_POST
def lines_group(request: HttpRequest) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    raw = request.POST.get("group", "")
    group = get_object_or_404(LineGroup, pk=raw, customer=request.fleet) if raw.isdigit() else None
    ids = [int(pk) for pk in request.POST.getlist("line") if pk.isdigit()]
    if not ids:
        messages.error(request, _("Select at least one line."))
    else:
        moved = fleet_groups.lines_group(customer=request.fleet, user=request.user, line_ids=ids, group=group)
        messages.success(request, _("%(count)s lines moved.") % {"count": moved})
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("fleets:lines")
    return redirect(back)


@fleet_view
def groups(request: HttpRequest) -> HttpResponse:
    form = GroupForm(request.POST or None)
    error = None
    if request.method == "POST":
        if denied := _admin_only(request):
            return denied
        if form.is_valid():
            try:
                fleet_groups.group_save(customer=request.fleet, user=request.user, name=form.cleaned_data["name"])
            except RefillError as exc:
                error = str(exc)
            else:
                messages.success(request, _("Group added."))
                return redirect("fleets:groups")
    found = LineGroup.objects.filter(customer=request.fleet)
    counts = dict(
        Line.objects.filter(owner=request.fleet, fleet_group__isnull=False)
        .values_list("fleet_group__group_id")
        .annotate(n=Count("pk"))
        .values_list("fleet_group__group_id", "n")
    )
    rows = [{"group": group, "lines": counts.get(group.pk, 0)} for group in found]
    status = 400 if request.method == "POST" else 200
    return render(request, "fleets/groups.html", {"rows": rows, "form": form, "error": error}, status=status)


@fleet_view
@require_POST
def group_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    group = get_object_or_404(LineGroup, pk=pk, customer=request.fleet)
    try:
        if request.POST.get("delete"):
            fleet_groups.group_delete(group=group, user=request.user)
            messages.success(request, _("Group removed; its lines are in no group now."))
        else:
            fleet_groups.group_save(
                customer=request.fleet, user=request.user, name=request.POST.get("name", ""), group=group
            )
            messages.success(request, _("Group renamed."))
    except RefillError as exc:
        messages.error(request, str(exc))
    return redirect("fleets:groups")


@fleet_view
def jobs(request: HttpRequest) -> HttpResponse:
    form = BulkJobForm(request.POST or None, request.FILES or None, customer=request.fleet)
    error = None
    if request.method == "POST":
        if denied := _admin_only(request):
            return denied
        if form.is_valid():
            data = form.cleaned_data
            try:
                numbers = _numbers(request, data)
                job = services.bulk_job_create(
                    customer=request.fleet,
                    user=request.user,
                    action=data["action"],
                    numbers=numbers,
                    plan=data["plan"],
                    periods=data["periods"] or 1,
                    idempotency_key=f"web:{data['idempotency_key']}",
                    language=translation.get_language(),
                )
            except RefillError as exc:
                error = str(exc)
            else:
                return redirect("fleets:job", pk=job.pk)
    if request.method != "POST":
        form = BulkJobForm(customer=request.fleet, initial={"idempotency_key": uuid.uuid4().hex})
    page = Paginator(BulkJob.objects.filter(customer=request.fleet).select_related("plan", "created_by"), 25)
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "fleets/jobs.html",
        {"page": page.get_page(request.GET.get("page")), "form": form, "error": error},
        status=status,
    )


def _numbers(request: HttpRequest, data: dict) -> list[str]:
    """The job's numbers: lines selected on the lines page, typed, or in the CSV file."""
    selected = [int(pk) for pk in request.POST.getlist("line") if pk.isdigit()]
    numbers = list(
        Line.objects.filter(owner=request.fleet, pk__in=selected).order_by("msisdn").values_list("msisdn", flat=True)
    )
    numbers += numbers_from_text(data.get("numbers") or "")
    upload = data.get("csv_file")
    if upload is not None:
        numbers += numbers_from_csv(upload.read(MAX_CSV_BYTES + 1))
    return numbers


@fleet_view
def job(request: HttpRequest, pk: int) -> HttpResponse:
    return render(request, "fleets/job.html", _job_context(request, _job(request, pk), CardForm()))


def _job_context(request: HttpRequest, found: BulkJob, card_form: CardForm) -> dict:
    """The job page: its summary, a page of its lines (filtered by ``?status=``), and the payment
    form while an administrator may pay it."""
    status = request.GET.get("status", "")
    rows = found.lines.select_related("order", "line").order_by("position")
    if status in BulkJobLine.Status.values:
        rows = rows.filter(status=status)
    payable = found.status == BulkJob.Status.AWAITING_PAYMENT and not services.funding_open(found)
    context = {
        "job": found,
        "page": Paginator(rows, 200).get_page(request.GET.get("page")),
        "status": status,
        "counts": services.line_counts(found),
        "statuses": BulkJobLine.Status.choices,
        "running": found.status in (BulkJob.Status.CHECKING, BulkJob.Status.APPLYING)
        or (found.status == BulkJob.Status.AWAITING_PAYMENT and not payable),
        "payable": payable and request.fleet_admin,
        "expired": payable and found.checked_at < timezone.now() - services.JOB_PAYABLE_FOR,
        "unrenewed": services.unrenewed_amount(found),
    }
    if context["payable"]:
        context |= _pay_context(request, found, card_form)
    return context


def _pay_context(request: HttpRequest, found: BulkJob, card_form: CardForm) -> dict:
    balance = wallet_balance(request.fleet, found.currency)
    methods = list(methods_for(request.fleet))
    return {"balance": balance, "wallet_covers": balance >= found.total, "methods": methods, "card_form": card_form}


@sensitive_post_parameters("card_number", "card_cvc", "card_expiry")
@card_page
@fleet_view
@require_POST
def job_pay(request: HttpRequest, pk: int) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    found = _job(request, pk)
    if found.status != BulkJob.Status.AWAITING_PAYMENT:
        messages.error(request, str(JobNotPayable()))
        return redirect("fleets:job", pk=found.pk)
    how = request.POST.get("pay_with", "")
    card_form = CardForm(request.POST if how == "card" else None)
    pay_with = None
    if how == "wallet":
        pay_with = PayWith()
    elif how.startswith("method:") and how[7:].isdigit():
        method = next((m for m in methods_for(request.fleet) if m.pk == int(how[7:])), None)
        if method is not None:
            pay_with = PayWith(saved_method=method)
    elif how == "card" and card_form.is_valid():
        pay_with = PayWith(card=card_form.card_details())
    error, decline = None, False
    if pay_with is None:
        error = _("Choose how to pay.") if how != "card" else None
    else:
        try:
            payment = services.bulk_job_pay(
                job=found,
                user=request.user,
                pay_with=pay_with,
                return_url=request.build_absolute_uri(reverse("fleets:job_return", args=[found.pk])),
            )
        except TokenizationError as exc:
            error, decline = decline_message(exc.code), True
        except PaymentInProgress:
            return redirect("fleets:job", pk=found.pk)
        except RefillError as exc:
            error = str(exc)
        else:
            if payment is not None and payment.status == Payment.Status.REQUIRES_ACTION:
                return redirect(payment.action_url)
            if payment is not None and payment.status == Payment.Status.FAILED:
                error, decline = decline_message(payment.decline_code), True
            else:
                messages.success(request, _("Paid. The lines are being renewed."))
                return redirect("fleets:job", pk=found.pk)
    found.refresh_from_db()
    # The refusal is shown with the payment form, whatever the job's state became meanwhile.
    context = _job_context(request, found, card_form)
    if "card_form" not in context:  # the job left the state where it is paid: the form still shows
        context |= _pay_context(request, found, card_form)
    context |= {"payable": True, "expired": False, "error": error}
    return render(request, "fleets/job.html", context, status=402 if decline else 400)


@fleet_view
def job_return(request: HttpRequest, pk: int) -> HttpResponse:
    """Back from the bank's confirmation step for the batch's card payment."""
    found = _job(request, pk)
    if found.funding_id:
        waiting = found.funding.payments.filter(status=Payment.Status.REQUIRES_ACTION).first()
        if waiting is not None:
            waiting = payment_resume(payment=waiting, actor=request.user)
            step = bank_step(request, found.funding, waiting)
            if step is not None:
                return step
    return redirect("fleets:job", pk=found.pk)


def _job_step(request: HttpRequest, pk: int, step, done: str = "") -> HttpResponse:
    """An administrator's step on a job waiting for its payment (check again, cancel)."""
    if denied := _admin_only(request):
        return denied
    try:
        step(job=_job(request, pk), user=request.user)
    except RefillError as exc:
        messages.error(request, str(exc))
    else:
        if done:
            messages.success(request, done)
    return redirect("fleets:job", pk=pk)


@fleet_view
@require_POST
def job_recheck(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_step(request, pk, services.bulk_job_recheck)


@fleet_view
@require_POST
def job_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _job_step(request, pk, services.bulk_job_cancel, _("The job was cancelled. Nothing was charged."))


RESULT_COLUMNS = ("row", "number", "status", "reason", "plan", "periods", "amount", "currency", "order", "valid_until")


@fleet_view
def job_result(request: HttpRequest, pk: int) -> HttpResponse:
    """The job's result, a row per number given, as CSV."""
    found = _job(request, pk)
    # The numbers are as the customer typed them: the writer keeps "=1+2" from running as a formula.
    response, writer = csv_response(f"bulk-job-{found.pk}.csv")
    writer.writerow(RESULT_COLUMNS)
    plans = {}
    for row in found.lines.select_related("order").order_by("position").iterator(chunk_size=1000):
        plan = ""
        if row.order_id:
            if row.order_id not in plans:
                plans[row.order_id] = row.order.items.select_related("plan").first()
            item = plans.pop(row.order_id)
            plan = item.plan.code if item and item.plan_id else ""
        elif found.plan_id:
            plan = found.plan.code
        writer.writerow(
            [
                row.position,
                row.msisdn,
                row.status,
                row.reason,
                plan,
                found.periods if found.action == BulkJob.Action.RENEW else "",
                row.amount if row.amount is not None else "",
                found.currency if row.amount is not None else "",
                row.order_id or "",
                row.period_end.isoformat() if row.period_end else "",
            ]
        )
    return response


@fleet_view
def job_invoice(request: HttpRequest, pk: int) -> HttpResponse:
    """The batch's one invoice: every line renewed, with its price and tax, and how it was paid."""
    found = _job(request, pk)
    if not found.invoice_number:
        raise Http404
    rows = list(
        found.lines.filter(status=BulkJobLine.Status.DONE)
        .select_related("order")
        .prefetch_related("order__items__plan")
        .order_by("position")
    )
    orders = [row.order for row in rows]
    totals = {
        "subtotal": sum((o.total - o.tax if o.tax_inclusive else o.subtotal - o.discount for o in orders), start=0),
        "tax": sum((o.tax for o in orders), start=0),
        "total": sum((o.total for o in orders), start=0),
    }
    card = None
    if found.funding_id:
        card = found.funding.payments.filter(status=Payment.Status.SUCCEEDED, method=Payment.Method.CARD).first()
    return render(
        request,
        "fleets/invoice.html",
        {
            "job": found,
            "rows": rows,
            "totals": totals,
            "card": card,
            "unrenewed": services.unrenewed_amount(found),
            "refunds": found.funding.refunds.all() if found.funding_id else [],
            "operator": settings.REFILL_OPERATOR,
            "tax_rate": orders[0].tax_rate if orders else None,
        },
    )


@fleet_view
def members(request: HttpRequest) -> HttpResponse:
    error = None
    if request.method == "POST":
        if denied := _admin_only(request):
            return denied
        try:
            member_add(
                customer=request.fleet,
                user=request.user,
                email=request.POST.get("email", ""),
                role=request.POST.get("role", ""),
            )
        except RefillError as exc:
            error = str(exc)
        else:
            messages.success(request, _("Added. They were sent an email to set their password."))
            return redirect("fleets:members")
    found = (
        FleetMember.objects.filter(user__customer=request.fleet, user__is_active=True)
        .select_related("user")
        .order_by("user__email")
    )
    return render(
        request,
        "fleets/members.html",
        {"members": found, "roles": FleetMember.Role.choices, "error": error},
        status=400 if error else 200,
    )


@fleet_view
@require_POST
def member_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if denied := _admin_only(request):
        return denied
    member = get_object_or_404(FleetMember, pk=pk, user__customer=request.fleet, user__is_active=True)
    try:
        if request.POST.get("remove"):
            member_remove(member=member, user=request.user)
            messages.success(request, _("Removed: that login is closed."))
        else:
            member_set_role(member=member, user=request.user, role=request.POST.get("role", ""))
            messages.success(request, _("Role changed."))
    except RefillError as exc:
        messages.error(request, str(exc))
    return redirect("fleets:members")
