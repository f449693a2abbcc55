"""The back office's support pages: the queue and one ticket with its thread, internal notes and
files; staff assign, change the status, add notes and reply. Every action is audited by its
service. Support and administrators act; finance may look; catalog managers see nothing."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refill.customers.models import LANGUAGE_CHOICES
from refill.customers.staff import require_perm
from refill.errors import RefillError

from . import selectors, services
from .forms import AssignForm, StaffReplyForm, StaffTextForm, StatusForm
from .models import Category, Ticket
from .views import _download

VIEW = "support.view_ticket"
ACT = "support.change_ticket"


def _ticket(reference: str) -> Ticket:
    return get_object_or_404(Ticket.objects.select_related("customer", "assignee", "line"), reference=reference)


@require_perm(VIEW)
def queue(request: HttpRequest) -> HttpResponse:
    filters = {
        "status": request.GET.get("status", ""),
        "category": request.GET.get("category", ""),
        "assignee": request.GET.get("assignee", ""),
        "query": request.GET.get("q", "")[:100],
    }
    found = selectors.tickets_queue(user=request.user, **filters)
    page = Paginator(found, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "support/backoffice/queue.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Ticket.Status.choices,
            "categories": Category.choices,
        },
    )


def _page(request: HttpRequest, ticket: Ticket, *, status: int = 200, **forms) -> HttpResponse:
    can_act = request.user.has_perm(ACT)
    languages = dict(LANGUAGE_CHOICES)
    context = {
        "ticket": ticket,
        "thread": selectors.thread(ticket, staff=True),
        "can_act": can_act,
        "contact_language": languages.get(ticket.contact_language, ticket.contact_language),
        "assign_form": forms.get("assign_form") or AssignForm(initial={"assignee": ticket.assignee_id}),
        "status_form": forms.get("status_form") or StatusForm(initial={"status": ticket.status}),
        "reply_form": forms.get("reply_form") or StaffReplyForm(prefix="reply"),
        "note_form": forms.get("note_form") or StaffTextForm(prefix="note"),
    }
    return render(request, "support/backoffice/ticket.html", context, status=status)


@require_perm(VIEW)
def ticket(request: HttpRequest, reference: str) -> HttpResponse:
    return _page(request, _ticket(reference))


@require_perm(VIEW)
def attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    return _download(selectors.staff_attachment(_ticket(reference), pk))


def _done(request: HttpRequest, ticket: Ticket, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("support_admin:ticket", reference=ticket.reference)


@require_perm(ACT)
@require_POST
def assign(request: HttpRequest, reference: str) -> HttpResponse:
    found = _ticket(reference)
    if request.POST.get("me"):
        assignee = request.user
        form = None
    else:
        form = AssignForm(request.POST)
        if not form.is_valid():
            return _page(request, found, status=400, assign_form=form)
        assignee = form.cleaned_data["assignee"]
    try:
        services.ticket_assign(ticket=found, actor=request.user, assignee=assignee)
    except RefillError:
        form = form or AssignForm(request.POST)
        form.is_valid()
        form.add_error(None, _("This staff member cannot take support requests."))
        return _page(request, found, status=400, assign_form=form)
    return _done(request, found, _("Assigned."))


@require_perm(ACT)
@require_POST
def status(request: HttpRequest, reference: str) -> HttpResponse:
    found = _ticket(reference)
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _page(request, found, status=400, status_form=form)
    services.ticket_status_set(ticket=found, actor=request.user, status=form.cleaned_data["status"])
    return _done(request, found, _("Status changed."))


@require_perm(ACT)
@require_POST
def note(request: HttpRequest, reference: str) -> HttpResponse:
    found = _ticket(reference)
    form = StaffTextForm(request.POST, prefix="note")
    if not form.is_valid():
        return _page(request, found, status=400, note_form=form)
    services.ticket_note_add(ticket=found, actor=request.user, body=form.cleaned_data["body"])
    return _done(request, found, _("Internal note added."))


@require_perm(ACT)
@require_POST
def reply(request: HttpRequest, reference: str) -> HttpResponse:
    found = _ticket(reference)
    form = StaffReplyForm(request.POST, request.FILES, prefix="reply")
    if not form.is_valid():
        return _page(request, found, status=400, reply_form=form)
    try:
        services.ticket_reply(
            ticket=found, actor=request.user, body=form.cleaned_data["body"], files=form.cleaned_data["attachments"]
        )
    except RefillError:
        form.add_error(None, _("This request is closed: reopen it before replying."))
        return _page(request, found, status=400, reply_form=form)
    return _done(request, found, _("Reply sent to the customer."))
