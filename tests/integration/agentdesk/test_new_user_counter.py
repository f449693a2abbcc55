"""The counter as a new user found it (h13, after issue 23): the auto-renew form names the
customer's cards (brand only: the agent never sees a card's digits) and leaves the backup card
unticked until asked; a line in grace says "Ended on", as the portal does."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.lines.models import Line
from tests.factories import make_saved_card
from tests.pagetext import visible_text

from .conftest import verify_by_pin

pytestmark = pytest.mark.django_db


@pytest.fixture
def verified(client, agent, customer_line):
    customer, line = customer_line
    verify_by_pin(client, line)
    return customer, line


def cards(customer):
    make_saved_card(customer, token="t1", is_default=True)
    make_saved_card(customer, token="t2", brand="mastercard", last4="4444", exp_month=11, is_backup=True)


def desk(client, line) -> str:
    return client.get(reverse("agentdesk:desk"), {"msisdn": line.msisdn}).content.decode()


def test_the_counters_auto_renew_form_names_the_cards_and_leaves_the_backup_unticked(client, verified):
    customer, line = verified
    cards(customer)
    page = desk(client, line)
    text = visible_text(page)
    assert "Then charge the customer's default card (Visa)" in text
    assert "If that fails, charge the customer's backup card (Mastercard)" in text
    assert "4242" not in text and "4444" not in text  # the agent never sees a card's digits
    backup = next(tag for tag in page.split("<input") if 'name="use_backup_method"' in tag)
    assert "checked" not in backup.split(">")[0]


@pytest.mark.parametrize(("language", "ended"), [("en", "Ended on"), ("zh-hans", "到期于")])
def test_a_line_in_grace_says_ended_on_at_the_counter(client, verified, language, ended):
    from django.conf import settings

    _, line = verified
    Line.objects.filter(pk=line.pk).update(status="grace", period_end=timezone.now() - timedelta(days=2))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    text = visible_text(desk(client, line))
    assert ended in text
    # "Valid until" beside the line's end (the verification's own "valid until 21:06" is another fact)
    assert not re.search(r"Valid until \w{3}|有效期至 ?\d{4}年", text)
