"""The scheduler never piles up copies of a sweep behind busy workers, and a task left running by
a killed worker is put back in the queue."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from refill.ops.scheduler import Job, run_scheduler
from refill.ops.tasks import reap_stuck_tasks

pytestmark = pytest.mark.django_db(transaction=True)


def test_one_waiting_copy_of_a_sweep_is_enough():
    jobs = [Job("heartbeat", 0, "refill.ops.tasks.worker_heartbeat")]
    for _ in range(3):
        run_scheduler(once=True, jobs=jobs)
        jobs[0].last_run = 0
    assert DBTaskResult.objects.filter(task_path="refill.ops.tasks.worker_heartbeat").count() == 1


def test_a_task_left_running_by_a_killed_worker_is_queued_again():
    from refill.ops.tasks import worker_heartbeat

    result = worker_heartbeat.enqueue()
    DBTaskResult.objects.filter(pk=result.id).update(status="RUNNING", started_at=timezone.now() - timedelta(hours=1))
    fresh = worker_heartbeat.enqueue()
    DBTaskResult.objects.filter(pk=fresh.id).update(status="RUNNING", started_at=timezone.now())
    assert reap_stuck_tasks.call() == 1
    assert DBTaskResult.objects.get(pk=result.id).status == "READY"
    assert DBTaskResult.objects.get(pk=fresh.id).status == "RUNNING"  # still within its time
