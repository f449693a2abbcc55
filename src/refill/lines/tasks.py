from django.tasks import task

from .services import lines_lapse_sweep


@task()
def lapse_sweep() -> int:
    return lines_lapse_sweep()
