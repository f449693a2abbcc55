from __future__ import annotations

import logging
from datetime import timedelta

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from refill.orders.models import Order
from refill.orders.services import receipts_number

from .models import Notification

logger = logging.getLogger(__name__)


CLAIM_EXPIRES = timedelta(minutes=10)


def _claim(*, rule: str, subject_key: str, channel: str, customer, recipient: str) -> Notification | None:
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


def _deliver(notification: Notification, message: EmailMultiAlternatives, language: str) -> Notification:
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


def order_confirmation_send(*, order_id: int) -> Notification:
    """Email the order confirmation in the customer's language, at most once. The SMTP exchange
    happens outside any database transaction: nothing is locked while the mail server answers."""
    receipts_number()  # the email always carries the receipt's number
    order = Order.objects.select_related("customer", "line", "line__market", "receipt").get(pk=order_id)
    customer = order.customer
    recipient = customer.users.filter(email__isnull=False).values_list("email", flat=True).first() or ""
    notification = _claim(
        rule="order_confirmation",
        subject_key=f"order:{order.pk}",
        channel="email",
        customer=customer,
        recipient=recipient,
    )
    if notification is None:
        return Notification.objects.get(rule="order_confirmation", subject_key=f"order:{order.pk}", channel="email")
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        item = order.items.select_related("plan").get()
        periods = list(item.granted_periods.order_by("start").all())
        context = {
            "order": order,
            "item": item,
            "plan_name": item.plan.name if item.plan_id else "",
            "customer": customer,
            "line": order.line,
            "receipt": order.receipt,
            "valid_from": periods[0].start if periods else None,
            "valid_until": periods[-1].end if periods else None,
        }
        subject = render_to_string("notifications/order_confirmation_subject.txt", context).strip()
        text = render_to_string("notifications/order_confirmation.txt", context)
        html = render_to_string("notifications/order_confirmation.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient])
    message.attach_alternative(html, "text/html")
    from refill.orders.receipts import receipt_pdf

    order.refresh_from_db()
    message.attach(f"receipt-{order.receipt.display_number}.pdf", receipt_pdf(order), "application/pdf")
    notification = _deliver(notification, message, customer.preferred_language)
    logger.info("order confirmation sent for order %s", order.pk)
    return notification


def refund_notice_send(*, refund_id: int) -> Notification:
    """Tell the customer, in their language, that money is on its way back."""
    from refill.orders.models import Refund

    refund = Refund.objects.select_related("order", "order__customer", "order__line").get(pk=refund_id)
    customer = refund.order.customer
    recipient = customer.users.filter(email__isnull=False).values_list("email", flat=True).first() or ""
    notification = _claim(
        rule="refund", subject_key=f"refund:{refund.pk}", channel="email", customer=customer, recipient=recipient
    )
    if notification is None:
        return Notification.objects.get(rule="refund", subject_key=f"refund:{refund.pk}", channel="email")
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        context = {"refund": refund, "order": refund.order, "customer": customer}
        subject = render_to_string("notifications/refund_subject.txt", context).strip()
        text = render_to_string("notifications/refund.txt", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient])
    return _deliver(notification, message, customer.preferred_language)


def card_expiry_reminders_send(*, today=None) -> int:
    """Remind customers a month before a saved card expires: once per card and expiry date, in
    their language. Safe to run twice: the notification row is claimed before sending."""
    import datetime as dt

    from refill.payments.models import PaymentMethod

    today = today or timezone.now().date()
    horizon = today + dt.timedelta(days=31)
    sent = 0
    for method in PaymentMethod.objects.filter(removed_at__isnull=True, exp_year__isnull=False).select_related(
        "customer"
    ):
        if not method.exp_month:
            continue
        last_day = dt.date(method.exp_year + method.exp_month // 12, method.exp_month % 12 + 1, 1) - dt.timedelta(
            days=1
        )
        if not today <= last_day <= horizon:
            continue
        customer = method.customer
        recipient = customer.users.filter(email__isnull=False).values_list("email", flat=True).first() or ""
        key = f"method:{method.pk}:{method.exp_year}-{method.exp_month:02d}"
        notification = _claim(
            rule="card_expiring", subject_key=key, channel="email", customer=customer, recipient=recipient
        )
        if notification is None:
            continue
        with translation.override(customer.preferred_language):
            context = {"method": method, "last_day": last_day}
            subject = render_to_string("notifications/card_expiring_subject.txt", context).strip()
            text = render_to_string("notifications/card_expiring.txt", context)
        message = EmailMultiAlternatives(subject=subject, body=text, to=[recipient])
        try:
            _deliver(notification, message, customer.preferred_language)
        except Exception:
            logger.exception("card expiry reminder for method %s failed", method.pk)
            continue
        sent += 1
    return sent
