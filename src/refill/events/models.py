from __future__ import annotations

from django.db import models
from django.utils import timezone


class Event(models.Model):
    """Something that happened that other apps care about, written in the transaction of the change
    itself. The line and the customer are plain references (no foreign key): events sit below every
    app that emits them and outlive what they tell of."""

    kind = models.CharField(max_length=60)
    line_id = models.BigIntegerField(null=True, blank=True)
    customer_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # For events a sweep finds (a line expiring within 7 days): the same happening is written once.
    key = models.CharField(max_length=120, null=True, blank=True, unique=True)

    class Meta:
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk}"


class Delivery(models.Model):
    """One event to one handler: pending until the handler has returned once (its effects and the
    mark commit together). The unique pair makes a second delivery row impossible; ``line_id`` is
    the event's, copied so that "an earlier event of this line is still pending for this handler"
    is one indexed query."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DONE = "done"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    handler = models.CharField(max_length=200)
    line_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event", "handler"], name="event_delivery_once_per_handler")]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["handler", "line_id", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.handler} ({self.status})"
