"""Two "Download my data" requests at the same instant (two tabs, a double tap, a script): at most
one export a minute holds (docs/privacy.md), because the check and its audit row are written under a
lock on the customer row. Real processes race on the database (tests/race.py)."""

import pytest

from refill.audit.models import AuditEvent
from tests.factories import make_customer
from tests.integration.privacy.race_targets import HOLD_SECONDS
from tests.race import race

pytestmark = [pytest.mark.race, pytest.mark.django_db(transaction=True)]


def test_two_exports_at_once_cannot_both_pass(tmp_path):
    customer, _ = make_customer("twotabs@example.com")
    results = race(tmp_path, "tests.integration.privacy.race_targets:export", [{"customer_id": customer.pk}] * 2)
    assert all(result["ok"] for result in results), results
    windows = [result["value"] for result in results]
    # The racers really ran at the same time: each started before the other had finished.
    assert max(w["start"] for w in windows) < min(w["end"] for w in windows), windows
    assert sorted(w["outcome"] for w in windows) == ["export_too_soon", "exported"], windows
    # The refused one waited for the other (it was not refused before the first had built its file).
    exported = next(w for w in windows if w["outcome"] == "exported")
    refused = next(w for w in windows if w["outcome"] == "export_too_soon")
    assert refused["end"] >= exported["start"] + HOLD_SECONDS, windows
    assert AuditEvent.objects.filter(action="privacy.export", object_id=str(customer.pk)).count() == 1
