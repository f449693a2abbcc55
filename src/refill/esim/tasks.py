from django.tasks import task


@task()
def esim_pool_fill() -> int:
    from .services import esim_pool_fill as fill

    return fill()


@task()
def esim_orders_resume() -> int:
    from .services import esim_orders_resume as resume

    return resume()


@task()
def esim_profiles_follow_lines() -> int:
    from .services import esim_profiles_follow_lines as follow

    return follow()
