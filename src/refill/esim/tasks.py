from django.tasks import task


@task()
def send_esim_ready(order_id: int) -> str | None:
    from .emails import esim_ready_send

    notification = esim_ready_send(order_id=order_id)
    return notification.status if notification else None


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


@task()
def esim_deliver_new_lines(line_ids: list[int]) -> int:
    from .services import esim_deliver_new_lines as deliver

    return deliver(line_ids)


@task()
def esim_unpaid_lines_release() -> int:
    from .services import esim_unpaid_lines_release as release

    return release()


@task()
def esim_waiting_lines_deliver() -> int:
    from .newlines import esim_waiting_lines_deliver as deliver

    return deliver()


@task()
def send_esim_waiting(wait_id: int, kind: str) -> str | None:
    from .emails import esim_waiting_send

    notification = esim_waiting_send(wait_id=wait_id, kind=kind)
    return notification.status if notification else None
