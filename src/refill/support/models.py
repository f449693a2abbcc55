"""Support requests: a ticket (with a reference the customer quotes), its thread of messages
(customer messages, staff replies, internal notes) and the files attached to them."""

from __future__ import annotations

import os
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refill.customers.models import LANGUAGE_CHOICES


@deconstructible
class AttachmentStorage(FileSystemStorage):
    """Private files under ``REFILL_SUPPORT_ATTACHMENTS_DIR``: no URL, served only through views
    that check the owner. The folder is read from the settings on every use, so a test (or an
    operator's environment) may point it elsewhere."""

    def __init__(self) -> None:
        super().__init__(base_url=None)

    @property
    def base_location(self) -> str:  # type: ignore[override]
        return str(settings.REFILL_SUPPORT_ATTACHMENTS_DIR)

    @property
    def location(self) -> str:  # type: ignore[override]
        return os.path.abspath(self.base_location)

    def url(self, name):  # never served as a plain file
        raise ValueError("support attachments have no public URL")


class Category(models.TextChoices):
    RENEWING = "renewing", _("Renewing my line")
    PAYMENT_REFUSED = "payment_refused", _("My payment was refused")
    SITE_NOT_LOADING = "site_not_loading", _("The site or app does not load")
    ESIM_INSTALL = "esim_install", _("Installing my eSIM")
    LINE_SUSPENDED = "line_suspended", _("My line is suspended")
    ACCOUNT = "account", _("My account or login")
    OTHER = "other", _("Something else")


# The category a request sent from a help article (``refill.help.topics``) is about.
CATEGORY_FOR_TOPIC = {
    "renew": Category.RENEWING,
    "auto-renew": Category.RENEWING,
    "refill-pins": Category.RENEWING,
    "payment-declined": Category.PAYMENT_REFUSED,
    "site-not-loading": Category.SITE_NOT_LOADING,
    "page-not-found": Category.SITE_NOT_LOADING,
    "esim-install": Category.ESIM_INSTALL,
    "line-status": Category.LINE_SUSPENDED,
    "password-reset": Category.ACCOUNT,
    "access-denied": Category.ACCOUNT,
    "plans-prices": Category.RENEWING,
    "keep-number": Category.RENEWING,
    "wallet": Category.RENEWING,
    "refunds": Category.OTHER,
    "receipts": Category.OTHER,
    "roaming": Category.OTHER,
    "port-in": Category.OTHER,
    "port-out": Category.OTHER,
    "contact-support": Category.OTHER,
    "esim-new-phone": Category.ESIM_INSTALL,
    "esim-troubleshooting": Category.ESIM_INSTALL,
    "esim-iphone": Category.ESIM_INSTALL,
    "esim-samsung": Category.ESIM_INSTALL,
    "esim-pixel": Category.ESIM_INSTALL,
    "two-factor": Category.ACCOUNT,
    "delete-account": Category.ACCOUNT,
}


class Ticket(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting for the customer")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", pgettext_lazy("support ticket status", "Closed")

    # "SR-" and 8 Crockford base32 characters (40 random bits): quoted on the phone, never guessed.
    reference = models.CharField(max_length=11, unique=True)
    # None for a request sent without logging in; such a ticket is reached by its secret link.
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    # The language the request was written in (the page's language then).
    language = models.CharField(max_length=16, choices=LANGUAGE_CHOICES, default="en")
    category = models.CharField(max_length=24, choices=Category.choices)
    # A customer's own line, or (anonymous) the number they typed, in E.164.
    line = models.ForeignKey("lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    line_number = models.CharField(max_length=16, blank=True)
    # The help centre topic the customer came from, if any.
    topic = models.SlugField(max_length=80, blank=True)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Since when the customer has been waiting for us (their oldest unanswered message); the queue
    # shows the longest wait first. None once staff answered or the ticket is done.
    awaiting_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["status", "awaiting_since"]),
            models.Index(fields=["customer", "-created_at"]),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.CLOSED

    @property
    def contact_language(self) -> str:
        """The language we write to the contact in: a customer's saved one, else the request's."""
        return self.customer.preferred_language if self.customer_id else self.language


class AccessKey(models.Model):
    """A secret link to an anonymous ticket: each email that carries a link carries a new secret,
    and only its sha256 is kept, so the database alone opens no ticket. Every key stays valid while
    the ticket lives (an older email's link keeps working)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="access_keys")
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.ticket.reference} key {self.pk}"


class Message(models.Model):
    class Kind(models.TextChoices):
        CUSTOMER = "customer", _("Customer message")
        REPLY = "reply", _("Staff reply")
        NOTE = "note", _("Internal note")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.ticket.reference} {self.kind} {self.pk}"


def _attachment_name(instance: Attachment, filename: str) -> str:
    # A random name: the customer's file name is kept in ``original_name`` only, never on disk.

    return f"{instance.message.ticket.reference}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    class ContentType(models.TextChoices):
        PNG = "image/png", "PNG"
        JPEG = "image/jpeg", "JPEG"
        PDF = "application/pdf", "PDF"
        TEXT = "text/plain", _("Text")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(storage=AttachmentStorage(), upload_to=_attachment_name, max_length=200)
    original_name = models.CharField(max_length=200)
    # Judged from the bytes, never from the name or the browser's word.
    content_type = models.CharField(max_length=32, choices=ContentType.choices)
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.original_name
