from django.tasks import task

from .creditnotes import credit_notes_number
from .fulfilment import order_fulfil_paid
from .services import receipts_number


@task()
def number_receipts() -> int:
    """Backstop for a process that died between a checkout (or a refund) and numbering its
    receipt (or credit note)."""
    return receipts_number() + credit_notes_number()


@task()
def fulfil_paid_order(order_id: int) -> bool:
    """Fulfil an order whose payments cover it, after the payment's own transaction (a retry when
    fulfilment failed there, or the later half of a batch). Idempotent."""
    return order_fulfil_paid(order_id=order_id)
