from __future__ import annotations

import logging

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation

from refill.orders.models import Order
from refill.orders.services import receipts_number

from .models import Notification

logger = logging.getLogger(__name__)


def order_confirmation_send(*, order_id: int) -> Notification:
    """Email the renewal confirmation in the customer's language, once."""
    receipts_number()  # the email always carries the receipt's number
    order = Order.objects.select_related("customer", "line", "line__market", "receipt").get(pk=order_id)
    customer = order.customer
    recipient = customer.users.filter(email__isnull=False).values_list("email", flat=True).first() or ""
    with transaction.atomic():
        notification, _ = Notification.objects.get_or_create(
            rule="order_confirmation",
            subject_key=f"order:{order.pk}",
            channel="email",
            defaults={"customer": customer, "language": customer.preferred_language, "recipient": recipient},
        )
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        if notification.status != Notification.Status.PENDING:
            return notification
        if not recipient or not customer.notify_email:
            notification.status = Notification.Status.SKIPPED
            notification.save(update_fields=["status"])
            return notification
        with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
            item = order.items.select_related("plan").get()
            periods = list(item.granted_periods.order_by("start").all())
            context = {
                "order": order,
                "item": item,
                "plan_name": item.plan.name,
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
        message.extra_headers["Content-Language"] = customer.preferred_language
        message.send()
        notification.status = Notification.Status.SENT
        notification.sent_at = timezone.now()
        notification.save(update_fields=["status", "sent_at"])
        logger.info("order confirmation sent for order %s", order.pk)
        return notification
