from __future__ import annotations

from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an Idempotency-Key, per caller, kept so that the same
    request sent again gets the same answer (and nothing runs twice)."""

    class State(models.TextChoices):
        IN_FLIGHT = "in_flight"
        DONE = "done"

    owner = models.CharField(max_length=40)  # user:<id>, key:<id> or ip:<address>
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)  # SHA-256 of method, path and body
    state = models.CharField(max_length=10, choices=State.choices, default=State.IN_FLIGHT)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(blank=True, default=b"")
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="idempotency_once_per_owner")]
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.owner} {self.key} {self.state}"


class RateWindow(models.Model):
    """Requests counted per caller (API key or address) and fixed window, shared by every web
    process and machine."""

    caller = models.CharField(max_length=60)
    window_start = models.BigIntegerField()  # unix seconds
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "window_start"], name="rate_window_once")]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.caller} @{self.window_start}: {self.count}"
