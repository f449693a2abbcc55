"""The email that brings a customer their eSIM: the QR code (inline image), the activation code,
the one-tap link for iPhone and the install steps, in their language."""

from __future__ import annotations

import logging
from email.message import MIMEPart

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from refill.domain.activation import qr_png
from refill.notifications.models import Notification
from refill.notifications.services import notification_claim, notification_deliver

from .models import EsimOrder, NewLineWait
from .newlines import refund_after
from .services import esim_code_may_leave

logger = logging.getLogger(__name__)

QR_CID = "esim-qr@refill"


def esim_ready_send(*, order_id: int) -> Notification | None:
    """Send the order's activation code once (None if the order has no code for a customer, or
    its line was never paid for: it is sent when the first payment delivers the line's eSIM)."""
    order = EsimOrder.objects.select_related("line", "line__owner", "profile").get(pk=order_id)
    if order.line is None or order.status != EsimOrder.Status.RELEASED or not order.matching_id:
        return None
    if not esim_code_may_leave(order.line):
        logger.warning("eSIM activation code for order %s not sent: line %s is not paid for", order.pk, order.line_id)
        return None
    customer = order.line.owner
    key = f"esim:{order.pk}"
    notification = notification_claim(
        rule="esim_ready", subject_key=key, channel="email", customer=customer, recipient=customer.email_address()
    )
    if notification is None:
        return Notification.objects.get(rule="esim_ready", subject_key=key, channel="email")
    code = order.activation_code
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        context = {
            "customer": customer,
            "line": order.line,
            "order": order,
            "code": str(code),
            "ios_link": code.ios_install_link,
            "qr_cid": QR_CID,
            "page_url": settings.REFILL_PUBLIC_URL.rstrip("/") + reverse("portal:esim", args=[order.line.pk]),
        }
        subject = render_to_string("esim/email_subject.txt", context).strip()
        text = render_to_string("esim/email.txt", context)
        html = render_to_string("esim/email.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[notification.recipient])
    message.attach_alternative(html, "text/html")
    image = MIMEPart()
    image.set_content(qr_png(code, scale=6), maintype="image", subtype="png", disposition="inline", cid=f"<{QR_CID}>")
    message.attach(image)
    notification = notification_deliver(notification, message, customer.preferred_language)
    logger.info("eSIM activation code sent for order %s (%s)", order.pk, code.masked)
    return notification


def esim_waiting_send(*, wait_id: int, kind: str) -> Notification | None:
    """Tell the customer of a paid new line that waits for its eSIM what happens next (``kind``
    "waiting"), or that they may now take their money back ("refund_offer"); each once. Nothing is
    sent once the eSIM went out or the money went back."""
    wait = NewLineWait.objects.select_related("line", "line__owner").get(pk=wait_id)
    if wait.status != NewLineWait.Status.WAITING or kind not in ("waiting", "refund_offer"):
        return None
    customer = wait.line.owner
    rule, key = f"esim_{kind}", f"esim-wait:{wait.pk}"
    notification = notification_claim(rule=rule, subject_key=key, channel="email", customer=customer,
                          recipient=customer.email_address())  # fmt: skip
    if notification is None:
        return Notification.objects.filter(rule=rule, subject_key=key, channel="email").first()
    with translation.override(customer.preferred_language), timezone.override(customer.time_zone):
        context = {
            "customer": customer,
            "line": wait.line,
            "wait": wait,
            "kind": kind,
            "refund_from": wait.since + refund_after(),
            "page_url": settings.REFILL_PUBLIC_URL.rstrip("/") + reverse("portal:esim", args=[wait.line.pk]),
        }
        subject = render_to_string("esim/waiting_subject.txt", context).strip()
        text = render_to_string("esim/waiting.txt", context)
        html = render_to_string("esim/waiting.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, to=[notification.recipient])
    message.attach_alternative(html, "text/html")
    return notification_deliver(notification, message, customer.preferred_language)
