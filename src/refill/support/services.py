"""Writes of the support app: tickets, their messages and files, and the staff actions on them.
Every staff action is audited in the same transaction; customers are told through
``refill.notifications.services.notice`` (their language and channel preferences), anonymous
contacts by one email in the language of their request, after the commit."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from refill.audit.services import audit_record
from refill.errors import RefillError
from refill.notifications.services import notice

from .limits import CheckedFile, safe_file_name
from .models import AccessKey, Attachment, Message, Ticket

logger = logging.getLogger(__name__)

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_PREFIX = "SR-"
# A second identical request or reply within this time is a double click on "Send": the first one
# stands and nothing new is stored or sent.
DUPLICATE_WINDOW = timedelta(minutes=2)


class TicketRefused(RefillError):
    code = "ticket_refused"


def reference_new() -> str:
    return REFERENCE_PREFIX + "".join(secrets.choice(CROCKFORD) for _ in range(8))


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _access_key_new(ticket: Ticket) -> str:
    """A new secret link key for an anonymous ticket; only its hash is stored."""
    secret = secrets.token_urlsafe(24)
    AccessKey.objects.create(ticket=ticket, secret_hash=secret_hash(secret))
    return secret


def ticket_url(ticket: Ticket, secret: str = "") -> str:
    site = settings.REFILL_PUBLIC_URL
    if ticket.customer_id:
        return f"{site}/support/{ticket.reference}/"
    return f"{site}/support/t/{ticket.reference}/{secret}/"


def _files_save(message: Message, files: list[CheckedFile], saved: list[str]) -> None:
    for item in files:
        attachment = Attachment(
            message=message,
            original_name=safe_file_name(item.name),
            content_type=item.content_type,
            size=item.size,
        )
        item.upload.seek(0)
        attachment.file.save(item.name, item.upload, save=False)
        saved.append(attachment.file.name)
        attachment.save(force_insert=True)


def _with_files(work, files: list[CheckedFile]):
    """Run ``work(saved)`` in one transaction; if it fails, the files it wrote are removed too, so
    a refused request leaves neither rows nor files behind."""
    saved: list[str] = []
    try:
        with transaction.atomic():
            return work(saved)
    except BaseException:
        storage = Attachment._meta.get_field("file").storage
        for name in saved:
            storage.delete(name)
        raise


@dataclass(frozen=True)
class TicketCreated:
    ticket: Ticket
    message: Message
    secret: str = ""  # anonymous tickets: the secret of the emailed link (shown nowhere else)
    duplicate: bool = False  # the same request was sent moments ago: this is that one, unchanged


def _ticket_duplicate(*, customer, contact_email: str, category: str, subject: str, body: str, now):
    """The ticket this very request (same sender, category, subject and first message) opened
    within ``DUPLICATE_WINDOW``, if any."""
    found = Ticket.objects.filter(
        created_at__gte=now - DUPLICATE_WINDOW,
        category=category,
        subject=subject,
        messages__kind=Message.Kind.CUSTOMER,
        messages__body=body,
    )
    if customer is not None:
        found = found.filter(customer=customer)
    else:
        found = found.filter(customer__isnull=True, contact_email=contact_email)
    return found.order_by("-created_at", "-pk").first()


def creating_marker(*, sender: str, category: str, subject: str, body: str) -> str:
    """The cache key that marks this request as being stored right now."""
    digest = hashlib.sha256("\0".join([sender, category, subject, body]).encode()).hexdigest()
    return f"support:creating:{digest}"


def ticket_create(
    *,
    customer,
    user,
    category: str,
    subject: str,
    body: str,
    files: list[CheckedFile],
    language: str,
    line=None,
    line_number: str = "",
    contact_name: str = "",
    contact_email: str = "",
    topic: str = "",
) -> TicketCreated:
    """Open a ticket with its first message and files, in one transaction; then email its
    reference (customers: by ``notice`` in their language; anonymous contacts: once, in
    ``language``, with a secret link to the ticket)."""
    if line is not None and (customer is None or line.owner_id != customer.pk):
        raise TicketRefused()
    if customer is None and not contact_email:
        raise TicketRefused()
    if customer is not None:
        contact_email = contact_email or customer.email_address()
        contact_name = contact_name or customer.display_name
    if line is not None:
        line_number = line.msisdn

    def work(saved: list[str]) -> TicketCreated:
        now = timezone.now()
        if customer is not None:
            # Two clicks of one customer are serialized here, so the second one sees the first.
            type(customer).objects.select_for_update().filter(pk=customer.pk).first()
        duplicate = _ticket_duplicate(
            customer=customer,
            contact_email=contact_email,
            category=category,
            subject=subject[:200],
            body=body,
            now=now,
        )
        if duplicate is not None:
            first = duplicate.messages.order_by("created_at", "pk").first()
            return TicketCreated(ticket=duplicate, message=first, duplicate=True)
        for _attempt in range(5):
            try:
                with transaction.atomic():
                    ticket = Ticket.objects.create(
                        reference=reference_new(),
                        customer=customer,
                        contact_name=contact_name[:200],
                        contact_email=contact_email,
                        language=language,
                        category=category,
                        line=line,
                        line_number=line_number,
                        topic=topic[:80],
                        subject=subject[:200],
                        awaiting_since=now,
                        created_at=now,
                        updated_at=now,
                    )
                break
            except IntegrityError:  # the same reference drawn twice: 1 in 2**40, draw again
                continue
        else:
            raise TicketRefused()
        message = Message.objects.create(
            ticket=ticket, kind=Message.Kind.CUSTOMER, author=user if customer else None, body=body, created_at=now
        )
        _files_save(message, files, saved)
        secret = ""
        if customer is not None:
            notice(
                rule="ticket_created",
                subject_key=f"ticket:{ticket.reference}",
                customer=customer,
                line=line,
                context={"ticket": ticket, "ticket_url": ticket_url(ticket)},
                channels=("email",),
            )
        else:
            secret = _access_key_new(ticket)
            url = ticket_url(ticket, secret)
            transaction.on_commit(lambda: _contact_email(ticket, "ticket_created", {"ticket_url": url}))
        return TicketCreated(ticket=ticket, message=message, secret=secret)

    if customer is not None:
        return _with_files(work, files)  # two clicks are serialized on the customer's row
    # An anonymous sender has no row to lock: of two clicks in flight at once, the second waits (a
    # few seconds at most) for the first to be committed, then finds it. The mark is in the cache
    # every process shares.
    marker = creating_marker(sender=contact_email, category=category, subject=subject[:200], body=body)
    if not cache.add(marker, 1, timeout=30):
        for _wait in range(30):
            time.sleep(0.1)
            if not cache.get(marker):
                break
    try:
        return _with_files(work, files)
    finally:
        cache.delete(marker)


def _email(*, to: str, language: str, ticket: Ticket, template: str, context: dict) -> None:
    """One plain-text email about ``ticket`` in ``language``, from ``notifications/<template>``.
    A failure is logged (with the reference only: never the address or a link's secret)."""
    with translation.override(language):
        context = {"ticket": ticket, "site_url": settings.REFILL_PUBLIC_URL, **context}
        subject = render_to_string(f"notifications/{template}_subject.txt", context).strip()
        body = render_to_string(f"notifications/{template}.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=body, to=[to])
    message.extra_headers["Content-Language"] = language
    try:
        message.send()
    except Exception:
        # The ticket exists and staff see it in the queue; the email is a courtesy.
        logger.exception("support ticket %s: the %s email could not be sent", ticket.reference, template)


def _contact_email(ticket: Ticket, template: str, context: dict) -> None:
    """One email to an anonymous ticket's contact, in the language of their request."""
    _email(to=ticket.contact_email, language=ticket.language, ticket=ticket, template=template, context=context)


def _assignee_email(ticket: Ticket, message: Message, assignee) -> None:
    """Tell the staff member a ticket is assigned to that its customer wrote: in the install's
    language (staff read the back office in it), with a link to the ticket's back-office page."""
    url = settings.REFILL_PUBLIC_URL + reverse("support_admin:ticket", args=[ticket.reference])
    _email(
        to=assignee.email,
        language=settings.LANGUAGE_CODE,
        ticket=ticket,
        template="ticket_customer_wrote",
        context={"message": message, "ticket_url": url, "assignee": assignee},
    )


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


# The customer's side ----------------------------------------------------------------------------


def _reply_duplicate(*, ticket: Ticket, user, body: str, files: list[CheckedFile], now) -> Message | None:
    """The customer's last message if it is this very one (same author, text and file names),
    sent within ``DUPLICATE_WINDOW``."""
    last = ticket.messages.exclude(kind=Message.Kind.NOTE).order_by("-created_at", "-pk").first()
    if (
        last is None
        or last.kind != Message.Kind.CUSTOMER
        or last.author_id != (user.pk if user is not None else None)
        or last.body != body
        or last.created_at < now - DUPLICATE_WINDOW
    ):
        return None
    names = sorted(last.attachments.values_list("original_name", flat=True))
    return last if names == sorted(safe_file_name(item.name) for item in files) else None


def ticket_customer_reply(*, ticket: Ticket, user, body: str, files: list[CheckedFile]) -> Message:
    """The customer (or the anonymous contact, ``user`` None) writes again: a ticket waiting for
    them, or resolved, is open again and back in the queue. A closed ticket takes no more. The
    staff member the ticket is assigned to is emailed once per message, after the commit; the
    same message sent twice in a row (a double click) is kept, and told, once."""

    def work(saved: list[str]) -> Message:
        current = _locked(ticket)
        if current.status == Ticket.Status.CLOSED:
            raise TicketRefused()
        now = timezone.now()
        # The ticket's row lock makes a second click wait for the first, then find it here.
        duplicate = _reply_duplicate(ticket=current, user=user, body=body, files=files, now=now)
        if duplicate is not None:
            return duplicate
        message = Message.objects.create(
            ticket=current, kind=Message.Kind.CUSTOMER, author=user, body=body, created_at=now
        )
        _files_save(message, files, saved)
        if current.status in (Ticket.Status.WAITING, Ticket.Status.RESOLVED):
            current.status = Ticket.Status.OPEN
            current.resolved_at = None
        current.awaiting_since = current.awaiting_since or now
        current.updated_at = now
        current.save(update_fields=["status", "resolved_at", "awaiting_since", "updated_at"])
        assignee = current.assignee
        if assignee is not None and assignee.is_active and assignee.email:
            transaction.on_commit(lambda: _assignee_email(current, message, assignee))
        return message

    message = _with_files(work, files)
    ticket.refresh_from_db()
    return message


def ticket_customer_resolve(*, ticket: Ticket) -> Ticket:
    """The customer says their problem is solved."""
    with transaction.atomic():
        current = _locked(ticket)
        if current.status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
            return current
        now = timezone.now()
        current.status, current.resolved_at, current.awaiting_since, current.updated_at = (
            Ticket.Status.RESOLVED,
            now,
            None,
            now,
        )
        current.save(update_fields=["status", "resolved_at", "awaiting_since", "updated_at"])
    ticket.refresh_from_db()
    return ticket


# Staff actions (each audited) -------------------------------------------------------------------


def ticket_assign(*, ticket: Ticket, actor, assignee) -> Ticket:
    """Give the ticket to ``assignee`` (a staff member who may act on tickets), or to nobody."""
    if assignee is not None and not (
        assignee.is_staff and assignee.is_active and assignee.has_perm("support.change_ticket")
    ):
        raise TicketRefused()
    with transaction.atomic():
        current = _locked(ticket)
        before = current.assignee_id
        current.assignee = assignee
        current.updated_at = timezone.now()
        if current.status == Ticket.Status.NEW:
            current.status = Ticket.Status.OPEN
        current.save(update_fields=["assignee", "updated_at", "status"])
        audit_record(
            actor=actor,
            action="support.ticket_assign",
            obj=current,
            data={"from": before, "to": assignee.pk if assignee else None},
        )
    ticket.refresh_from_db()
    return ticket


def ticket_status_set(*, ticket: Ticket, actor, status: str) -> Ticket:
    if status not in Ticket.Status.values:
        raise TicketRefused()
    with transaction.atomic():
        current = _locked(ticket)
        before = current.status
        now = timezone.now()
        current.status = status
        current.updated_at = now
        if status in (Ticket.Status.RESOLVED, Ticket.Status.CLOSED):
            current.resolved_at = current.resolved_at or now
            current.awaiting_since = None
        elif status == Ticket.Status.WAITING:
            current.awaiting_since = None
            current.resolved_at = None
        else:
            current.resolved_at = None
            current.awaiting_since = current.awaiting_since or now
        current.save(update_fields=["status", "updated_at", "resolved_at", "awaiting_since"])
        audit_record(actor=actor, action="support.ticket_status", obj=current, data={"from": before, "to": status})
    ticket.refresh_from_db()
    return ticket


def ticket_note_add(*, ticket: Ticket, actor, body: str) -> Message:
    """An internal note: staff only, never shown or sent to the customer."""
    with transaction.atomic():
        current = _locked(ticket)
        message = Message.objects.create(ticket=current, kind=Message.Kind.NOTE, author=actor, body=body)
        current.updated_at = message.created_at
        current.save(update_fields=["updated_at"])
        audit_record(actor=actor, action="support.ticket_note", obj=current, data={"message": message.pk})
    return message


def ticket_reply(*, ticket: Ticket, actor, body: str, files: list[CheckedFile] = ()) -> Message:
    """Answer the customer: the reply joins the thread, the ticket waits for the customer, and
    they are told in their language (the template's words; the staff text as written): a
    customer by email and SMS as they allow, an anonymous contact by email with a secret link.
    ``files`` (checked by ``attachments_check``) go with the reply; a failure saves none of them."""

    def work(saved: list[str]) -> Message:
        current = _locked(ticket)
        if current.status == Ticket.Status.CLOSED:
            raise TicketRefused()
        now = timezone.now()
        message = Message.objects.create(
            ticket=current, kind=Message.Kind.REPLY, author=actor, body=body, created_at=now
        )
        _files_save(message, list(files), saved)
        before = current.status
        if current.status in (Ticket.Status.NEW, Ticket.Status.OPEN):
            current.status = Ticket.Status.WAITING
        current.awaiting_since = None
        current.updated_at = now
        current.save(update_fields=["status", "awaiting_since", "updated_at"])
        audit_record(
            actor=actor,
            action="support.ticket_reply",
            obj=current,
            data={"message": message.pk, "from": before, "to": current.status, "files": len(files)},
        )
        if current.customer_id:
            notice(
                rule="ticket_reply",
                subject_key=f"ticket-message:{message.pk}",
                customer=current.customer,
                line=current.line,
                context={"ticket": current, "message": message, "ticket_url": ticket_url(current)},
            )
        elif current.contact_email:
            url = ticket_url(current, _access_key_new(current))
            transaction.on_commit(
                lambda: _contact_email(current, "ticket_reply", {"message": message, "ticket_url": url})
            )
        return message

    message = _with_files(work, list(files))
    ticket.refresh_from_db()
    return message
