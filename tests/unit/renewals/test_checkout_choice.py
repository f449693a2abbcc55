"""The idempotency key's choice part, one helper for every face (issue 27): as written when it fits,
else a digest of that length; the same keys the faces made before, so a retry spanning an upgrade
still finds its order."""

import hashlib
from decimal import Decimal

from refill.renewals.checkout_choice import choice_key


def test_a_choice_that_fits_is_written_as_it_is():
    assert choice_key("us-30day", 2, "SPRING", limit=40) == "us-30day:2:SPRING"
    assert choice_key("gift-plan", 1, "", limit=40) == "gift-plan:1:"
    assert choice_key("amount", 1, Decimal("20.00"), limit=40) == "amount:1:20.00"


def test_a_long_choice_is_a_digest_of_the_limit():
    long_code = "X" * 60
    expected = hashlib.sha256(f"us-30day:1:{long_code}".encode()).hexdigest()[:30]
    assert choice_key("us-30day", 1, long_code, limit=30) == expected and len(expected) == 30
