"""The fleet's batch payment uses the one card form (issue 26/27): a card it refuses is said by its
field and in the summary, the number comes back typed, nothing is charged; the expiry as people
type it pays."""

import re

import pytest

from refill.fleets.services import bulk_job_check
from refill.payments.models import Payment
from tests.factories import login

from .test_bulk_jobs import make_job

pytestmark = pytest.mark.django_db


def test_a_past_expiry_is_refused_by_field_and_the_number_kept_then_1240_pays(fleet, client):
    login(client, fleet.admin)
    job = bulk_job_check(job_id=make_job(fleet, [fleet.lines[0].msisdn]).pk)
    card = {"pay_with": "card", "card_number": "4242-4242-4242-4242", "card_cvc": "123", "card_holder": "Acme"}
    refused = client.post(f"/fleet/jobs/{job.pk}/pay/", card | {"card_expiry": "01/21"})
    page = refused.content.decode()
    assert refused.status_code == 400 and "no-store" in refused["Cache-Control"]
    error = re.search(r'id="id_card_expiry_error" data-testid="card_expiry-error">([^<]+)<', page).group(1)
    assert "This card has expired" in error
    assert re.search(r'data-testid="card-error-summary">.*This card has expired', page, re.S)
    assert 'value="4242-4242-4242-4242"' in page and not Payment.objects.exists()
    paid = client.post(f"/fleet/jobs/{job.pk}/pay/", card | {"card_expiry": "1240"})
    assert paid.status_code == 302 and Payment.objects.get().status == "succeeded"
