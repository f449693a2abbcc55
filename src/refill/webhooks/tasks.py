from django.tasks import task

from .outbox import line_changes_publish
from .outbox import webhooks_deliver as deliver


@task()
def webhooks_deliver() -> int:
    """Relay the lifecycle moves recorded since the last run, then send what is due."""
    line_changes_publish()
    return deliver()
