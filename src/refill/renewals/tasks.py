from django.tasks import task

from refill.orders.fulfilment import order_fulfil_paid
from refill.orders.payable import redemptions_release_stale
from refill.orders.settling import payments_reconcile

from .autorenew import autorenew_sweep as sweep


@task()
def fulfil_paid_order(order_id: int) -> bool:
    # The checkout now enqueues refill.orders.tasks.fulfil_paid_order; this name still runs the
    # task rows a worker queued under it before an upgrade (the queue stores the task's path).
    return order_fulfil_paid(order_id=order_id)


@task()
def reconcile_payments() -> int:
    return payments_reconcile()


@task()
def autorenew_sweep() -> dict:
    return sweep()


@task()
def send_gift_payer_confirmation(order_id: int) -> bool:
    # gifts enqueues this task (imported at its top): the task reaches its service when it runs.
    from .gifts import gift_payer_confirmation_send

    return gift_payer_confirmation_send(order_id=order_id)


@task()
def release_stale_redemptions() -> int:
    return redemptions_release_stale()
