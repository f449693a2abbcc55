"""The customer's support pages: the contact form (anyone), their tickets and the thread of each
(logged-in customers), and an anonymous ticket reached by its emailed secret link."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from refill.errors import RefillError
from refill.lines.models import Line
from refill.ops.request_context import current_client_ip
from refill.orders.receipts import order_reference
from refill.orders.selectors import customer_orders

from . import selectors, services
from .forms import ContactForm, ReplyForm
from .limits import rate_allows, reply_rate_allows, safe_file_name
from .models import CATEGORY_FOR_TOPIC, Attachment, Category, Ticket

SENT_SESSION_KEY = "support_sent"


def _client_ip(request: HttpRequest) -> str | None:
    return current_client_ip() or request.META.get("REMOTE_ADDR")


def _private(response: HttpResponse) -> HttpResponse:
    """A page reached by a secret link: kept by no cache, and its address (which holds the
    secret) sent to no other site as a referrer."""
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


def _customer_or_none(request: HttpRequest):
    return getattr(request.user, "customer", None) if request.user.is_authenticated else None


def _customer(request: HttpRequest):
    customer = _customer_or_none(request)
    if customer is None:
        raise Http404
    return customer


def _prefill(request: HttpRequest, customer) -> dict:
    """``?category=<key>&line=<id>&topic=<help topic>&order=<id>``: a line that is not the
    customer's is ignored; an order that is not theirs is not found (404), as its own page is. An
    order fills in its line, its reference in the subject and the refunds topic ("A problem with
    this order" on the order's page)."""
    initial = _order_prefill(request, customer)
    category = request.GET.get("category", "")
    if category in Category.values:
        initial["category"] = category
    line = request.GET.get("line", "")
    if customer is not None and line.isdigit():
        owned = Line.objects.filter(pk=int(line), owner=customer).first()
        if owned is not None:
            initial["line"] = owned.pk
    topic = slugify(request.GET.get("topic", ""))[:80]
    if topic:
        initial["topic"] = topic
        # From a help article: the category its topic is about, unless the link named one.
        initial.setdefault("category", CATEGORY_FOR_TOPIC.get(topic, Category.OTHER))
    return initial


# refill.help.topics.REFUNDS (a topic key never changes; help's pages import support's).
REFUNDS_TOPIC = "refunds"


def _order_words(order) -> tuple[str, str]:
    """The subject a request about ``order`` starts with, and the line that names it in the message:
    by its receipt number once it has one (what the customer was given), else by its number."""
    reference = order_reference(order)
    if reference != str(order.pk):
        return (
            _("A problem with my order (receipt %(reference)s)") % {"reference": reference},
            _("About the order with receipt number %(reference)s.") % {"reference": reference},
        )
    return (
        _("A problem with order %(reference)s") % {"reference": reference},
        _("About order %(reference)s.") % {"reference": reference},
    )


def _order_prefill(request: HttpRequest, customer) -> dict:
    raw = request.GET.get("order", "")
    if not raw.isdigit():
        return {}
    order = customer_orders(customer).filter(pk=int(raw[:18])).first() if customer is not None else None
    if order is None:
        raise Http404
    initial = {"order": order.pk, "subject": _order_words(order)[0]}
    if order.line_id is not None:
        initial["line"] = order.line_id
    if not request.GET.get("topic"):
        initial["topic"] = REFUNDS_TOPIC
        initial["category"] = CATEGORY_FOR_TOPIC.get(REFUNDS_TOPIC, Category.OTHER)
    return initial


def contact(request: HttpRequest) -> HttpResponse:
    customer = _customer_or_none(request)
    if request.method != "POST":
        form = ContactForm(customer=customer, initial=_prefill(request, customer))
        return render(request, "support/contact.html", {"form": form})
    form = ContactForm(request.POST, request.FILES, customer=customer)
    if not form.is_valid():
        return render(request, "support/contact.html", {"form": form}, status=400)
    user_id = request.user.pk if request.user.is_authenticated else None
    data = form.cleaned_data
    body = data["body"]
    if data.get("order") is not None:
        # Staff read which order it is about in the request itself, whatever the subject became.
        body = _order_words(data["order"])[1] + "\n\n" + body
    if not rate_allows(ip=_client_ip(request), user_id=user_id, email=data.get("contact_email", "")):
        return render(request, "support/rate_limited.html", status=429)
    created = services.ticket_create(
        customer=customer,
        user=request.user if customer is not None else None,
        category=data["category"],
        subject=data["subject"],
        body=body,
        files=data["attachments"],
        language=translation.get_language() or "en",
        line=data.get("line"),
        line_number=data.get("line_number", ""),
        contact_name=data.get("contact_name", ""),
        contact_email=data.get("contact_email", ""),
        topic=data.get("topic") or "",
    )
    request.session[SENT_SESSION_KEY] = created.ticket.reference
    return redirect("support:sent")


def sent(request: HttpRequest) -> HttpResponse:
    """The confirmation of the request just sent in this session, with its reference."""
    reference = request.session.get(SENT_SESSION_KEY)
    ticket = Ticket.objects.filter(reference=reference).first() if reference else None
    if ticket is None:
        return redirect("support:contact")
    return render(request, "support/sent.html", {"ticket": ticket})


@login_required
def tickets(request: HttpRequest) -> HttpResponse:
    customer = _customer(request)
    return render(request, "support/tickets.html", {"tickets": selectors.tickets_for_customer(customer)})


def _ticket_page(request: HttpRequest, ticket: Ticket, form: ReplyForm, *, secret: str = "", status: int = 200):
    return render(
        request,
        "support/ticket.html",
        {"ticket": ticket, "thread": selectors.thread(ticket, staff=False), "form": form, "secret": secret},
        status=status,
    )


def _reply(request: HttpRequest, ticket: Ticket, *, user, secret: str = "") -> HttpResponse:
    form = ReplyForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        valid = form.is_valid()
        if valid and ticket.is_open and not reply_rate_allows(ip=_client_ip(request), ticket_id=ticket.pk):
            return render(request, "support/rate_limited.html", {"reply": True}, status=429)
        closed = not ticket.is_open
        if valid and not closed:
            try:
                services.ticket_customer_reply(
                    ticket=ticket, user=user, body=form.cleaned_data["body"], files=form.cleaned_data["attachments"]
                )
            except RefillError:  # closed by staff since the page was read
                closed = True
            else:
                messages.success(request, _("Your reply was sent."))
                return redirect(request.path)
        if valid and closed:
            ticket.refresh_from_db()
            form.add_error(None, _("This request is closed. Please send a new one."))
        return _ticket_page(request, ticket, form, secret=secret, status=400)
    return _ticket_page(request, ticket, form, secret=secret)


@login_required
def ticket(request: HttpRequest, reference: str) -> HttpResponse:
    found = selectors.owned_ticket(_customer(request), reference)
    return _reply(request, found, user=request.user)


@login_required
@require_POST
def ticket_resolve(request: HttpRequest, reference: str) -> HttpResponse:
    found = selectors.owned_ticket(_customer(request), reference)
    services.ticket_customer_resolve(ticket=found)
    messages.success(request, _("Thank you. We marked your request as resolved."))
    return redirect("support:ticket", reference=found.reference)


def _download(attachment: Attachment) -> FileResponse:
    """A stored file, always as a download: the type read from its bytes when it was kept (any
    other value is sent as opaque bytes), never sniffed by the browser, never run as a page."""
    content_type = attachment.content_type
    if content_type not in Attachment.ContentType.values:
        content_type = "application/octet-stream"
    elif content_type == Attachment.ContentType.TEXT:
        content_type = "text/plain; charset=utf-8"  # checked to be UTF-8 when it was kept
    response = FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=safe_file_name(attachment.original_name),
        content_type=content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def attachment(request: HttpRequest, reference: str, pk: int) -> FileResponse:
    found = selectors.owned_ticket(_customer(request), reference)
    return _download(selectors.owned_attachment(found, pk))


def guest_ticket(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    found = selectors.ticket_by_secret(reference, secret)
    return _private(_reply(request, found, user=None, secret=secret))


@require_POST
def guest_resolve(request: HttpRequest, reference: str, secret: str) -> HttpResponse:
    found = selectors.ticket_by_secret(reference, secret)
    services.ticket_customer_resolve(ticket=found)
    messages.success(request, _("Thank you. We marked your request as resolved."))
    return redirect("support:guest_ticket", reference=found.reference, secret=secret)


def guest_attachment(request: HttpRequest, reference: str, secret: str, pk: int) -> FileResponse:
    found = selectors.ticket_by_secret(reference, secret)
    return _private(_download(selectors.owned_attachment(found, pk)))
