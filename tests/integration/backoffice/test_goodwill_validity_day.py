"""What staff read after a goodwill extension, and its choices, give the new validity as a day,
as every other validity does (refill.formatting.day_text), never a time of day (issue 26)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import translation

from refill.formatting import day_text
from tests.factories import login, make_customer, make_line, make_staff, renew

pytestmark = pytest.mark.django_db
CLOCK = re.compile(r"\d{1,2}:\d{2}")


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_goodwill_message_and_choices_give_a_day(us, us_plan, language):
    with time_machine.travel(datetime(2026, 5, 4, 15, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        customer, _ = make_customer("outage-day@example.com")
        line = make_line(customer, us, us_plan, msisdn="+12025550178", sim_type="physical")
        renew(line, us_plan)
        client = Client()
        login(client, make_staff("support", "support-day@example.com"))
        client.cookies["refill_language"] = language
        page = client.get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
        choices = re.findall(r'<option value="\d">([^<]*)</option>', page[page.index('data-testid="goodwill-form"') :])
        url = reverse("backoffice:customer_goodwill", args=[customer.pk, line.pk])
        answer = client.post(url, {"periods": 1, "reason": "outage", "idempotency_key": "k1"}, follow=True)
        said = [str(message) for message in answer.context["messages"]]
        line.refresh_from_db()
        with translation.override(language):
            end = day_text(line.period_end)
    assert len(choices) >= 1 and not any(CLOCK.search(choice) for choice in choices), choices
    assert len(said) == 1 and end in said[0] and not CLOCK.search(said[0]), said
