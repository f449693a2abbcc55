"""Functions run by tests/race.py in separate processes for the privacy race tests."""

import time

from refill.customers import privacy
from refill.customers.models import Customer, User

HOLD_SECONDS = 0.5


def export(*, customer_id: int) -> dict:
    """One "Download my data" request. Building the file is held open for HOLD_SECONDS, as a large
    account's export would be, so that the other racer arrives while this one is inside the check:
    only the lock on the customer row can keep the second out. Returns the racer's window."""
    build = privacy.customer_data

    def slow_build(customer):
        time.sleep(HOLD_SECONDS)
        return build(customer)

    privacy.customer_data = slow_build
    customer = Customer.objects.get(pk=customer_id)
    actor = User.objects.filter(customer=customer).first()
    start = time.time()
    try:
        data = privacy.customer_export(customer=customer, actor=actor)
        outcome = "exported" if data["customer"] else "empty"
    except privacy.ExportTooSoon as refused:
        outcome = refused.code
    return {"outcome": outcome, "start": start, "end": time.time()}
