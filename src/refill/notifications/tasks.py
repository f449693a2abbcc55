from django.tasks import task

from .services import order_confirmation_send


@task()
def send_order_confirmation(order_id: int) -> str:
    return order_confirmation_send(order_id=order_id).status
