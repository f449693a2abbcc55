from django.tasks import task


@task()
def idempotency_records_sweep() -> int:
    from .idempotency import idempotency_records_sweep as sweep
    from .ratelimit import rate_windows_sweep

    return sweep() + rate_windows_sweep()
