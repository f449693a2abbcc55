from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """A message owed by a rule, sent at most once per (rule, subject key)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENDING = "sending"
        SENT = "sent"
        SKIPPED = "skipped"
        # The provider refused it for good (a bad number, say); ``error`` says why.
        FAILED = "failed"

    rule = models.CharField(max_length=40)
    subject_key = models.CharField(max_length=80)
    channel = models.CharField(max_length=8, default="email")
    customer = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="notifications")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    language = models.CharField(max_length=16)
    recipient = models.CharField(max_length=254, blank=True)
    line = models.ForeignKey("lines.Line", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # Rendered once, in the customer's language, when the rule fires; sent as written.
    subject = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)
    # Not before this instant (SMS quiet hours in the customer's time zone).
    send_after = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "subject_key", "channel"], name="notification_once_per_rule_subject"
            )
        ]
        indexes = [models.Index(fields=["status", "send_after"])]

    def __str__(self) -> str:
        return f"{self.rule} {self.subject_key} {self.channel} {self.status}"
