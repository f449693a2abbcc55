"""Reads of the support app. Every object a customer asks for is looked up through its owner
here (``owned_*``): someone else's ticket or file is simply not found (404)."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from refill.customers.models import User
from refill.domain.identifiers import InvalidIdentifier, normalize_msisdn

from .models import Attachment, Message, Ticket
from .services import secret_hash

OPEN_STATUSES = (Ticket.Status.NEW, Ticket.Status.OPEN, Ticket.Status.WAITING)
VISIBLE_TO_CUSTOMER = (Message.Kind.CUSTOMER, Message.Kind.REPLY)


def tickets_for_customer(customer) -> QuerySet[Ticket]:
    return Ticket.objects.filter(customer=customer).select_related("line").order_by("-created_at", "-pk")


def owned_ticket(customer, reference: str) -> Ticket:
    if customer is None:
        raise Http404
    return get_object_or_404(Ticket.objects.select_related("line", "customer"), reference=reference, customer=customer)


def ticket_by_secret(reference: str, secret: str) -> Ticket:
    """An anonymous ticket, for whoever holds one of its emailed secrets (compared in constant time)."""
    ticket = Ticket.objects.filter(reference=reference, customer__isnull=True).first()
    wanted = secret_hash(secret or "")
    known = list(ticket.access_keys.values_list("secret_hash", flat=True)) if ticket else []
    matched = False
    for stored in known:
        matched |= hmac.compare_digest(stored, wanted)
    if ticket is None or not matched:
        raise Http404
    return ticket


def thread(ticket: Ticket, *, staff: bool) -> list[Message]:
    """The ticket's messages, oldest first, with their files; internal notes only for staff."""
    messages = ticket.messages.select_related("author").prefetch_related("attachments")
    if not staff:
        messages = messages.filter(kind__in=VISIBLE_TO_CUSTOMER)
    return list(messages)


def owned_attachment(ticket: Ticket, pk: int) -> Attachment:
    """A file of a message the customer may see on their ticket (never one on an internal note)."""
    return get_object_or_404(Attachment, pk=pk, message__ticket=ticket, message__kind__in=VISIBLE_TO_CUSTOMER)


def staff_attachment(ticket: Ticket, pk: int) -> Attachment:
    return get_object_or_404(Attachment, pk=pk, message__ticket=ticket)


def staff_who_may_act() -> QuerySet[User]:
    """Staff who may be given a ticket: active, and holding the permission to act on tickets."""
    act = Q(groups__permissions__codename="change_ticket", groups__permissions__content_type__app_label="support")
    act |= Q(user_permissions__codename="change_ticket", user_permissions__content_type__app_label="support")
    return (
        User.objects.filter(is_staff=True, is_active=True)
        .filter(act | Q(is_superuser=True))
        .distinct()
        .order_by("email")
    )


def tickets_queue(
    *, user, status: str = "", category: str = "", assignee: str = "", query: str = ""
) -> QuerySet[Ticket]:
    """The staff queue: open tickets by default (``status`` "all" for every one), the customer who
    has waited longest first, then the oldest."""
    tickets = Ticket.objects.select_related("customer", "assignee", "line")
    if status == "all":
        pass
    elif status in Ticket.Status.values:
        tickets = tickets.filter(status=status)
    else:
        tickets = tickets.filter(status__in=OPEN_STATUSES)
    if category:
        tickets = tickets.filter(category=category)
    if assignee == "me":
        tickets = tickets.filter(assignee=user)
    elif assignee == "unassigned":
        tickets = tickets.filter(assignee__isnull=True)
    text = query.strip()
    if text:
        wanted = Q(reference__iexact=text) | Q(contact_email__icontains=text)
        wanted |= Q(customer__users__email__icontains=text)
        digits = "".join(ch for ch in text if ch.isdigit())
        if len(digits) >= 3:
            wanted |= Q(line_number__endswith=digits)
            try:
                wanted |= Q(line_number=normalize_msisdn(text, settings.REFILL_DEFAULT_REGION))
            except InvalidIdentifier:
                pass
        tickets = tickets.filter(wanted).distinct()
    # Who waits for us comes first (longest wait first); then tickets waiting on the customer.
    return tickets.order_by(F("awaiting_since").asc(nulls_last=True), "created_at", "pk")
