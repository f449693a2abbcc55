from django.tasks import task
from django.utils import timezone

from .models import Heartbeat


@task()
def worker_heartbeat() -> str:
    """Enqueued by the scheduler; running it proves a worker is taking tasks."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": now})
    return now.isoformat()
