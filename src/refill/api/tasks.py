from django.tasks import task


@task()
def idempotency_records_sweep() -> int:
    from .idempotency import idempotency_records_sweep as sweep
    from .ratelimit import rate_windows_sweep

    return sweep() + rate_windows_sweep()


@task()
def webhooks_deliver() -> int:
    """Relay the lifecycle moves recorded since the last run, then send what is due."""
    from .webhooks import line_changes_publish
    from .webhooks import webhooks_deliver as deliver

    line_changes_publish()
    return deliver()
