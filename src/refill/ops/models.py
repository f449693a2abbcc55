from django.db import models


class Heartbeat(models.Model):
    """Last time a process of a kind (worker, scheduler) proved it was alive."""

    name = models.CharField(max_length=32, primary_key=True)
    at = models.DateTimeField()
    detail = models.CharField(max_length=200, blank=True)

    def __str__(self) -> str:
        return f"{self.name} at {self.at.isoformat()}"


class ProviderBudget(models.Model):
    """Calls reserved with a provider in one second, shared by every worker on every machine (the
    provider's rate limit is global, so the budget is too). ``used`` counts reservations, so it can
    exceed the calls actually made; a worker is only granted what is left under the limit."""

    gateway = models.CharField(max_length=32)
    second = models.BigIntegerField()
    used = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["gateway", "second"], name="provider_budget_once")]

    def __str__(self) -> str:
        return f"{self.gateway} @{self.second}: {self.used}"
