from django.db import models


class Heartbeat(models.Model):
    """Last time a process of a kind (worker, scheduler) proved it was alive."""

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at.isoformat()}"
