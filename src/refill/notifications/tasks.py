import logging

from django.tasks import task

from .reminders import reminders_sweep
from .services import card_expiry_reminders_send, notices_deliver, order_confirmation_send, refund_notice_send

logger = logging.getLogger(__name__)


@task()
def send_order_confirmation(order_id: int) -> str:
    return order_confirmation_send(order_id=order_id).status


@task()
def resend_order_confirmation(order_id: int, resend: str) -> str:
    return order_confirmation_send(order_id=order_id, resend=resend).status


@task()
def send_order_confirmations(order_ids: list[int]) -> int:
    """The confirmations of orders paid together (a batch of auto-renewals): each sent once; one
    that fails does not hold back the others, and the task fails so that it shows."""
    failed = []
    for order_id in order_ids:
        try:
            order_confirmation_send(order_id=order_id)
        except Exception:
            logger.exception("order %s: the confirmation could not be sent", order_id)
            failed.append(order_id)
    if failed:
        raise RuntimeError(f"confirmations not sent for orders {failed}")
    return len(order_ids)


@task()
def send_refund_notice(refund_id: int) -> str:
    return refund_notice_send(refund_id=refund_id).status


@task()
def send_card_expiry_reminders() -> int:
    return card_expiry_reminders_send()


@task()
def deliver_notices() -> int:
    return notices_deliver()


@task()
def send_reminders() -> int:
    return reminders_sweep()
