from django.tasks import task


@task()
def fulfil_paid_order(order_id: int) -> bool:
    from .services import order_fulfil_paid

    return order_fulfil_paid(order_id=order_id)


@task()
def reconcile_payments() -> int:
    from .services import payments_reconcile

    return payments_reconcile()


@task()
def autorenew_sweep() -> dict:
    from .autorenew import autorenew_sweep as sweep

    return sweep()


@task()
def send_gift_payer_confirmation(order_id: int) -> bool:
    from .gifts import gift_payer_confirmation_send

    return gift_payer_confirmation_send(order_id=order_id)


@task()
def release_stale_redemptions() -> int:
    from .services import redemptions_release_stale

    return redemptions_release_stale()
