from django.tasks import task

from .delivery import events_deliver, events_sweep
from .retention import events_prune


@task()
def deliver_events(event_ids: list[int]) -> int:
    return events_deliver(event_ids=event_ids)


@task()
def sweep_events() -> int:
    return events_sweep()


@task()
def prune_events() -> int:
    return events_prune()
