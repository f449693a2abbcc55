from django.tasks import task


@task()
def process_provider_event(event_pk: int) -> str:
    from .services import provider_event_process

    return provider_event_process(event_pk=event_pk).status
