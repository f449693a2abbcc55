from django.tasks import task


@task()
def idempotency_records_sweep() -> int:
    from .idempotency import idempotency_records_sweep as sweep

    return sweep()
