from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from refill.domain.autorenew import quiet_until
from refill.formatting import public_url
from refill.integrations.sms.base import SmsRejected, send_sms
from refill.lines.models import Line
from refill.lines.selectors import order_activates_line
from refill.ops.bulk import bulk_insert, unsaved
from refill.orders.creditnotes import credit_note_pdf, credit_notes_number
from refill.orders.models import Order, Refund
from refill.orders.receipts import item_validity, receipt_pdf
from refill.orders.refundline import refund_line_after
from refill.orders.services import receipts_number
from refill.payments.models import PaymentMethod
from refill.promotions.texts import order_promotion_lines

from .models import Notification

logger = logging.getLogger(__name__)


CLAIM_EXPIRES = timedelta(minutes=10)


def notification_claim(*, rule: str, subject_key: str, channel: str, customer, recipient: str) -> Notification | None:
    """Claim the right to send a notification, in a short transaction of its own. Returns None if
    it was sent, skipped, or is being sent by someone else (a claim older than 10 minutes, left by
    a process that died, may be taken over)."""
    with transaction.atomic():
        notification, _ = Notification.objects.get_or_create(
            rule=rule,
            subject_key=subject_key,
            channel=channel,
            defaults={"customer": customer, "language": customer.preferred_language, "recipient": recipient},
        )
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        now = timezone.now()
        claimable = notification.status == Notification.Status.PENDING or (
            notification.status == Notification.Status.SENDING and notification.claimed_at < now - CLAIM_EXPIRES
        )
        if not claimable:
            return None
        if not recipient or not customer.notify_email:
            notification.status = Notification.Status.SKIPPED
            notification.save(update_fields=["status"])
            return None
        notification.status = Notification.Status.SENDING
        notification.claimed_at = now
        notification.save(update_fields=["status", "claimed_at"])
        return notification


def notification_deliver(notification: Notification, message: EmailMultiAlternatives, language: str) -> Notification:
    """Send outside any transaction, then mark the claimed notification sent; on failure give the
    claim back (pending) so a later run retries, and re-raise."""
    message.extra_headers["Content-Language"] = language
    try:
        message.send()
    except Exception:
        Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.PENDING, claimed_at=None)
        raise
    Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.SENT, sent_at=timezone.now())
    notification.refresh_from_db()
    return notification


def order_confirmation_send(*, order_id: int, resend: str = "") -> Notification:
    """Email the order confirmation in the customer's language, at most once (a resend, asked by
    staff, is once per ``resend`` key). The SMTP exchange happens outside any database transaction:
    nothing is locked while the mail server answers."""
    receipts_number()  # the email always carries the receipt's number
    order = Order.objects.select_related("customer", "line", "line__market", "receipt").get(pk=order_id)
    customer = order.customer
    recipient = customer.email_address()
    subject_key = f"order:{order.pk}" + (f":resend:{resend}" if resend else "")
    notification = notification_claim(
        rule="order_confirmation",
        subject_key=subject_key,
        channel="email",
        customer=customer,
        recipient=recipient,
    )
    if notification is None:
        return Notification.objects.get(rule="order_confirmation", subject_key=subject_key, channel="email")
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        item = order.items.select_related("plan").get()
        valid_from, valid_until = item_validity(item)
        context = {
            "order": order,
            "item": item,
            "addon": item.kind == "addon",
            "plan_name": item.plan.name if item.plan_id else "",
            "customer": customer,
            "line": order.line,
            "receipt": order.receipt,
            "valid_from": valid_from,
            "valid_until": valid_until,
            "promotions": order_promotion_lines(order),
        }
        if order.line_id:  # absolute links, as every email's (REFILL_PUBLIC_URL)
            context["esim_url"] = public_url(reverse("portal:esim", args=[order.line_id]))
            context["lines_url"] = public_url(reverse("portal:home"))
        # A new number's first purchase is an activation: a welcome, not a renewal confirmation.
        name = "welcome" if item.kind == "renewal" and order_activates_line(order) else "order_confirmation"
        subject = render_to_string(f"notifications/{name}_subject.txt", context).strip()
        text = render_to_string(f"notifications/{name}.txt", context)
        html = render_to_string(f"notifications/{name}.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient])
    message.attach_alternative(html, "text/html")

    order.refresh_from_db()
    message.attach(f"receipt-{order.receipt.display_number}.pdf", receipt_pdf(order), "application/pdf")
    notification = notification_deliver(notification, message, customer.preferred_language)
    logger.info("order confirmation sent for order %s", order.pk)
    return notification


def refund_notice_send(*, refund_id: int) -> Notification:
    """Tell the customer, in their language, that money is on its way back."""
    credit_notes_number()  # the email carries the credit note's number
    refund = Refund.objects.select_related("order", "order__customer", "order__line", "order__receipt").get(
        pk=refund_id
    )
    customer = refund.order.customer
    recipient = customer.email_address()
    notification = notification_claim(
        rule="refund", subject_key=f"refund:{refund.pk}", channel="email", customer=customer, recipient=recipient
    )
    if notification is None:
        return Notification.objects.get(rule="refund", subject_key=f"refund:{refund.pk}", channel="email")
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        # The receipt's number, never the internal order id; the reason as a translated label
        # ("other" only through staff's note), and staff's note labelled as theirs.
        credit_note = getattr(refund, "credit_note", None)
        context = {
            "refund": refund,
            "order": refund.order,
            "customer": customer,
            "receipt": getattr(refund.order, "receipt", None),
            "credit_note": credit_note,
            "show_reason": refund.reason_code != "other",
            "order_url": f"{settings.REFILL_PUBLIC_URL}/orders/{refund.order.pk}/",
            "line_after": refund_line_after(refund),  # the line's new end, if the refund moved it
        }
        subject = render_to_string("notifications/refund_subject.txt", context).strip()
        text = render_to_string("notifications/refund.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient])
    if credit_note is not None:
        message.attach(f"credit-note-{credit_note.display_number}.pdf", credit_note_pdf(credit_note), "application/pdf")
    return notification_deliver(notification, message, customer.preferred_language)


def card_expiry_reminders_send(*, today=None) -> int:
    """Remind customers a month before a saved card expires: once per card and expiry date, by
    email and SMS as they allow, in their language. Safe to run twice: notices are owed once."""
    today = today or timezone.now().date()
    horizon = today + dt.timedelta(days=31)
    owed = 0
    methods = PaymentMethod.objects.filter(removed_at__isnull=True, exp_year__isnull=False, exp_month__isnull=False)
    for method in methods.select_related("customer"):
        if not method.exp_month:
            continue
        last_day = dt.date(method.exp_year + method.exp_month // 12, method.exp_month % 12 + 1, 1) - dt.timedelta(
            days=1
        )
        if not today <= last_day <= horizon:
            continue
        key = f"method:{method.pk}:{method.exp_year}-{method.exp_month:02d}"
        context = {"method": method, "last_day": last_day}
        if notice(rule="card_expiring", subject_key=key, customer=method.customer, context=context):
            owed += 1
    return owed


# Notices owed by a rule (reminders, auto-renew outcomes, lifecycle) -----------------------------


def _phone_for(customer, line) -> str:
    """Line notices go by SMS to the line itself; account notices to the customer's mobile number."""
    if line is not None:
        return line.msisdn
    return customer.users.filter(phone__isnull=False).values_list("phone", flat=True).first() or ""


@dataclass(frozen=True)
class Notice:
    """A notice owed to a customer: the ``rule`` notice about ``subject_key`` (see ``notices_owe``)."""

    rule: str
    subject_key: str
    customer: Any
    context: dict
    line: Any = None
    channels: tuple[str, ...] = ("email", "sms")
    template: str = ""


def notice(
    *,
    rule: str,
    subject_key: str,
    customer,
    line=None,
    context: dict,
    now=None,
    channels=("email", "sms"),
    template: str = "",
) -> list[Notification]:
    """Owe the customer one notice (``notices_owe`` with one), sent as soon as the caller commits."""
    owed = Notice(rule, subject_key, customer, context, line, tuple(channels), template)
    return notices_owe([owed], now=now)


def notices_owe(notices: list[Notice], *, now=None, deliver_later: bool = False) -> list[Notification]:
    """Owe customers notices: each once per channel the customer allows (email, SMS), rendered now
    in their language from ``notifications/<template>_subject.txt``, ``<template>.txt`` and
    ``<template>_sms.txt`` (the template defaults to the rule's name). SMS falling in quiet hours
    (the line's market's; the install's for a notice about no line) waits until they end. Rows
    already owed are left alone, so a sweep that runs twice owes nothing twice. Returns the rows
    owed now. They are sent once the caller's transaction commits: by this process, or
    (``deliver_later``, for batch work) by a worker's delivery task."""
    now = now or timezone.now()
    known = set(
        Notification.objects.filter(
            rule__in={n.rule for n in notices}, subject_key__in={n.subject_key for n in notices}
        ).values_list("rule", "subject_key", "channel")
    )
    site = settings.REFILL_PUBLIC_URL
    quiet_hours: dict[int | None, tuple[int, int]] = {None: tuple(settings.REFILL_SMS_QUIET_HOURS)}

    def quiet_for(line) -> tuple[int, int]:
        """(start, end) hours: the line's market's, read once per market and call."""
        market_id = getattr(line, "market_id", None)
        if market_id not in quiet_hours:
            quiet_hours[market_id] = (line.market.quiet_start_hour, line.market.quiet_end_hour)
        return quiet_hours[market_id]

    rows = []
    for owed in notices:
        customer, line, template = owed.customer, owed.line, owed.template or owed.rule
        channels = []
        if customer.notify_email and "email" in owed.channels:
            email = customer.email_address()
            if email:
                channels.append(("email", email))
        if customer.notify_sms and "sms" in owed.channels:
            phone = _phone_for(customer, line)
            if phone:
                channels.append(("sms", phone))
        channels = [(c, r) for c, r in channels if (owed.rule, owed.subject_key, c) not in known]
        if not channels:
            continue
        with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
            context = {"customer": customer, "line": line, "site_url": site, **owed.context}
            if line is not None:
                context["autorenew_url"] = f"{site}/lines/{line.pk}/auto-renew/"
                context["renew_url"] = f"{site}/lines/{line.pk}/renew/"
            if context.get("order") is not None:
                context["receipt_url"] = f"{site}/orders/{context['order'].pk}/"
            for channel, recipient in channels:
                if channel == "email":
                    subject = render_to_string(f"notifications/{template}_subject.txt", context).strip()
                    body = render_to_string(f"notifications/{template}.txt", context)
                    send_after = now
                else:
                    subject, body = "", render_to_string(f"notifications/{template}_sms.txt", context).strip()
                    quiet_start, quiet_end = quiet_for(line)
                    send_after = quiet_until(now, customer.zone, start_hour=quiet_start, end_hour=quiet_end) or now
                rows.append(
                    unsaved(
                        Notification,
                        rule=owed.rule,
                        subject_key=owed.subject_key,
                        channel=channel,
                        customer=customer,
                        line=line,
                        language=customer.preferred_language,
                        recipient=recipient,
                        subject=subject[:200],
                        body=body,
                        send_after=send_after,
                    )
                )
    if not rows:
        return []
    try:
        with transaction.atomic():
            owed_now = bulk_insert(rows)
    except IntegrityError:
        # Another sweep owed some of them meanwhile: keep only the rows this call inserts.
        owed_now = [row for row in rows if _insert_once(row)]
    if owed_now:
        ids = [n.pk for n in owed_now]
        if deliver_later:
            from .tasks import deliver_notices

            deliver_notices.enqueue()
        else:
            # After the caller's transaction commits (at once outside one): never send while holding locks.
            transaction.on_commit(lambda: notices_deliver(now=now, ids=ids))
    return owed_now


def _insert_once(row: Notification) -> bool:
    stored, created = Notification.objects.get_or_create(
        rule=row.rule,
        subject_key=row.subject_key,
        channel=row.channel,
        defaults={
            field: getattr(row, field)
            for field in ("customer", "line", "language", "recipient", "subject", "body", "send_after")
        },
    )
    row.pk = stored.pk
    return created


def notices_deliver(*, now=None, ids: list[int] | None = None, batch: int = 500) -> int:
    """Send owed notices that are due. Each is claimed by one conditional update (pending ->
    sending), so two workers never send the same one; a claim left by a dead process is taken over
    after 10 minutes. A failed send is given back and retried by the next run."""
    from .reminders import reminder_gone

    now = now or timezone.now()
    due = Notification.objects.filter(send_after__isnull=False, send_after__lte=now).filter(
        Q(status=Notification.Status.PENDING)
        | Q(status=Notification.Status.SENDING, claimed_at__lt=now - CLAIM_EXPIRES)
    )
    if ids is not None:
        due = due.filter(pk__in=ids)
    sent = 0
    for notification in due.order_by("send_after", "pk")[:batch]:
        claimed = Notification.objects.filter(pk=notification.pk, status=notification.status).update(
            status=Notification.Status.SENDING, claimed_at=timezone.now()
        )
        if not claimed:
            continue
        # Checked again now, not only when owed: a renewal since then may have made it untrue.
        line = (
            Line.objects.select_related("auto_renew").filter(pk=notification.line_id).first()
            if notification.line_id
            else None
        )
        gone = reminder_gone(notification, line)
        if gone is not None:
            logger.info("notice %s (%s) not sent: %s", notification.pk, notification.rule, gone)
            Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.SKIPPED, error=gone)
            continue
        try:
            if notification.channel == "sms":
                send_sms(to=notification.recipient, body=notification.body)
            else:
                message = EmailMultiAlternatives(
                    subject=notification.subject, body=notification.body, to=[notification.recipient]
                )
                message.extra_headers["Content-Language"] = notification.language
                message.send()
        except SmsRejected as exc:
            logger.warning("notice %s (%s) refused for good: %s", notification.pk, notification.rule, exc)
            Notification.objects.filter(pk=notification.pk).update(
                status=Notification.Status.FAILED, error=str(exc)[:200]
            )
            continue
        except Exception:
            logger.exception("notice %s (%s) could not be sent; it will be retried", notification.pk, notification.rule)
            Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.PENDING, claimed_at=None)
            continue
        Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.SENT, sent_at=timezone.now())
        sent += 1
    return sent
