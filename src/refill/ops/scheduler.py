"""The scheduler: enqueues idempotent sweeps on a fixed cadence. Correctness never depends on
it running alone: every sweep is safe to run twice, late, or on two machines at once."""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import close_old_connections
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db.models import DBTaskResult

from .models import Heartbeat

logger = logging.getLogger(__name__)


@dataclass
class Job:
    name: str
    every_seconds: int
    task_path: str
    last_run: float = 0.0


def default_jobs() -> list[Job]:
    return [
        Job("worker_heartbeat", 10, "refill.ops.tasks.worker_heartbeat"),
        Job("lapse_sweep", 60, "refill.lines.tasks.lapse_sweep"),
        Job("number_receipts", 60, "refill.orders.tasks.number_receipts"),
        Job("reconcile_payments", 30, "refill.renewals.tasks.reconcile_payments"),
        Job("autorenew_sweep", 60, "refill.renewals.tasks.autorenew_sweep"),
        Job("release_stale_redemptions", 600, "refill.renewals.tasks.release_stale_redemptions"),
        Job("deliver_notices", 60, "refill.notifications.tasks.deliver_notices"),
        Job("reminders", 300, "refill.notifications.tasks.send_reminders"),
        Job("reap_stuck_tasks", 300, "refill.ops.tasks.reap_stuck_tasks"),
        Job("card_expiry_reminders", 3600, "refill.notifications.tasks.send_card_expiry_reminders"),
        Job("expire_vouchers", 300, "refill.vouchers.tasks.expire_vouchers"),
        Job("esim_orders_resume", 60, "refill.esim.tasks.esim_orders_resume"),
        Job("esim_pool_fill", 300, "refill.esim.tasks.esim_pool_fill"),
        Job("esim_profiles_follow_lines", 300, "refill.esim.tasks.esim_profiles_follow_lines"),
        Job("esim_unpaid_lines_release", 600, "refill.esim.tasks.esim_unpaid_lines_release"),
        Job("esim_waiting_lines_deliver", 300, "refill.esim.tasks.esim_waiting_lines_deliver"),
        Job("idempotency_records_sweep", 3600, "refill.api.tasks.idempotency_records_sweep"),
        Job("webhooks_deliver", 15, "refill.webhooks.tasks.webhooks_deliver"),
        Job("bulk_jobs_resume", 300, "refill.fleets.tasks.bulk_jobs_resume"),
        Job("events_sweep", 60, "refill.events.tasks.sweep_events"),
        Job("events_prune", 3600, "refill.events.tasks.prune_events"),
    ]


def _still_waiting(job: Job) -> bool:
    return DBTaskResult.objects.filter(task_path=job.task_path, status="READY").exists()


def run_scheduler(*, once: bool = False, jobs: list[Job] | None = None) -> None:
    jobs = jobs or default_jobs()
    stopping = False

    def stop(signum, frame):
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
    while not stopping:
        now = time.monotonic()
        for job in jobs:
            if job.last_run and now - job.last_run < job.every_seconds * settings.REFILL_SCHEDULE_SCALE:
                continue
            try:
                if _still_waiting(job):
                    # The previous run has not started yet (workers are busy): one in the queue is
                    # enough, so a long backlog never piles up copies of the same sweep.
                    job.last_run = now
                    continue
                import_string(job.task_path).enqueue()
                job.last_run = now
            except Exception:
                logger.exception("scheduler: could not enqueue %s", job.name)
        Heartbeat.objects.update_or_create(name="scheduler", defaults={"at": timezone.now()})
        close_old_connections()
        if once:
            return
        for _ in range(10):
            if stopping:
                break
            time.sleep(0.1)
