"""Background steps of a bulk job (the database task backend; enqueued inside the transaction that
asks for them, so they run only once it commits)."""

from __future__ import annotations

from django.tasks import task


@task()
def bulk_job_check(job_id: int) -> None:
    from .services import bulk_job_check as check

    check(job_id=job_id)


@task()
def bulk_job_apply(job_id: int) -> None:
    from .apply import bulk_job_apply as apply

    apply(job_id=job_id)


@task()
def bulk_jobs_resume() -> int:
    from .apply import bulk_jobs_resume as resume

    return resume()
