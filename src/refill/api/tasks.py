from django.tasks import task

from .idempotency import idempotency_records_sweep as sweep
from .ratelimit import rate_windows_sweep


@task()
def idempotency_records_sweep() -> int:
    return sweep() + rate_windows_sweep()
