from datetime import timedelta

from django.conf import settings
from django.tasks import task
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from .models import Heartbeat


@task()
def worker_heartbeat() -> str:
    """Enqueued by the scheduler; running it proves a worker is taking tasks."""
    now = timezone.now()
    Heartbeat.objects.update_or_create(name="worker", defaults={"at": now})
    return now.isoformat()


@task()
def reap_stuck_tasks() -> int:
    """A task still running long after any task should finish belonged to a worker that was
    killed: put it back in the queue for another worker. Every task is safe to run again."""
    cutoff = timezone.now() - timedelta(seconds=settings.REFILL_TASK_STUCK_AFTER)
    return DBTaskResult.objects.filter(status="RUNNING", started_at__lt=cutoff).update(status="READY", started_at=None)
