from django.tasks import task

from .outbox import webhooks_deliver as deliver


@task()
def webhooks_deliver() -> int:
    """Send what is due."""
    return deliver()
