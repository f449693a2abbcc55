from django.tasks import task

from .services import vouchers_expire_sweep


@task()
def expire_vouchers() -> int:
    return vouchers_expire_sweep()
