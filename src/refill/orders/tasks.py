from django.tasks import task

from .creditnotes import credit_notes_number
from .services import receipts_number


@task()
def number_receipts() -> int:
    """Backstop for a process that died between a checkout (or a refund) and numbering its
    receipt (or credit note)."""
    return receipts_number() + credit_notes_number()
