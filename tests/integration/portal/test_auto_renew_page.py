"""The portal's auto-renew page: the owner turns it on with caps; bad input changes nothing."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refill.audit.models import AuditEvent
from refill.renewals.models import AutoRenew
from tests.factories import login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def line(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    customer, user = make_customer("owner@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    login(client, user)
    return line


FORM = {"enabled": "on", "cap_per_renewal": "30", "cap_per_month": "", "use_wallet": "on", "use_default_method": "on"}


def test_turn_on_with_a_cap(client, line):
    url = reverse("portal:auto_renew", args=[line.pk])
    page = client.get(url).content.decode()
    assert "Renew this line automatically" in page and "You have no saved card" in page
    response = client.post(url, FORM)
    assert response.status_code == 302
    settings = AutoRenew.objects.get(line=line)
    assert settings.enabled and settings.cap_per_renewal == 30 and settings.cap_per_month is None
    assert not settings.use_backup_method
    assert AuditEvent.objects.filter(action="autorenew.update").exists()
    assert "Auto-renew is on" in client.get(reverse("portal:home")).content.decode()


def test_bad_caps_are_refused_and_change_nothing(client, line):
    url = reverse("portal:auto_renew", args=[line.pk])
    response = client.post(url, {**FORM, "cap_per_renewal": "-5"})
    assert response.status_code == 400 and "above zero" in response.content.decode()
    response = client.post(url, {**FORM, "cap_per_month": "lots"})
    assert response.status_code == 400
    assert not AutoRenew.objects.filter(enabled=True).exists()


def test_chinese_and_other_customers(client, line):
    line.owner.preferred_language = "zh-hans"
    line.owner.save()
    other, other_user = make_customer("other@example.com")
    other_line = make_line(other, line.market, line.plan, msisdn="+12025550199")
    assert client.get(reverse("portal:auto_renew", args=[other_line.pk])).status_code == 404
    client.post(reverse("portal:set_language"), {"language": "zh-hans"})
    page = client.get(reverse("portal:auto_renew", args=[line.pk])).content.decode()
    assert "自动续费" in page


# Issue 23, item 5 -------------------------------------------------------------------------------


def _save_card(customer, number="4242424242424242", *, backup=False):
    from refill.payments.models import PaymentMethod
    from refill.payments.services import method_add
    from tests.factories import card_token

    gateway, _token = card_token(number)
    from refill.integrations.payments.base import CardDetails

    method = method_add(customer=customer, gateway=gateway,
                        card=CardDetails(number=number, exp_month=12, exp_year=2039, cvc="123"))  # fmt: skip
    if backup:
        PaymentMethod.objects.filter(pk=method.pk).update(is_backup=True, is_default=False)
    return method


@pytest.fixture
def monthly(client):
    market = make_market()
    plan = make_plan(market, "us-month", price="35.00", validity_kind="months", validity_count=1, data_mb=None,
                     name_en="Monthly Unlimited", name_zh_hans="包月无限")  # fmt: skip
    customer, user = make_customer("capped@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550150")
    login(client, user)
    return line


def test_a_cap_below_the_price_is_refused_naming_the_price(client, monthly):
    url = reverse("portal:auto_renew", args=[monthly.pk])
    response = client.post(url, {**FORM, "cap_per_renewal": "30"})
    page = response.content.decode()
    assert response.status_code == 400 and "$35.00" in page and "$30.00" in page
    assert "Auto-renew settings saved." not in page
    assert not AutoRenew.objects.filter(line=monthly).exists()
    response = client.post(url, {**FORM, "cap_per_renewal": "", "cap_per_month": "20"})
    assert response.status_code == 400 and "$35.00" in response.content.decode()
    assert not AutoRenew.objects.filter(line=monthly).exists()
    # At the price or above, it is kept.
    assert client.post(url, {**FORM, "cap_per_renewal": "35", "cap_per_month": "70"}).status_code == 302
    assert AutoRenew.objects.get(line=monthly).cap_per_renewal == 35


def test_caps_are_shown_in_the_currencys_minor_unit_and_finer_amounts_are_refused(client, monthly):
    url = reverse("portal:auto_renew", args=[monthly.pk])
    client.post(url, {**FORM, "cap_per_renewal": "40", "cap_per_month": "80.5"})
    page = client.get(url).content.decode()
    assert 'name="cap_per_renewal" value="40.00"' in page and 'name="cap_per_month" value="80.50"' in page
    assert "40.0000" not in page
    response = client.post(url, {**FORM, "cap_per_renewal": "40.001"})
    assert response.status_code == 400 and "2 decimal places" in response.content.decode()
    assert AutoRenew.objects.get(line=monthly).cap_per_renewal == 40


def test_the_backup_card_is_offered_only_when_there_is_one(client, monthly):
    url = reverse("portal:auto_renew", args=[monthly.pk])
    page = client.get(url).content.decode()
    assert 'name="use_backup_method"' not in page
    _save_card(monthly.owner)
    page = client.get(url).content.decode()
    assert 'name="use_backup_method"' not in page and 'data-testid="no-backup"' in page
    client.post(url, {**FORM, "cap_per_renewal": "", "use_backup_method": "on"})
    assert AutoRenew.objects.get(line=monthly).use_backup_method is False
    _save_card(monthly.owner, "5555555555554444", backup=True)
    page = client.get(url).content.decode()
    assert 'name="use_backup_method"' in page and 'data-testid="no-backup"' not in page


def test_each_checkbox_sits_beside_its_label(client, monthly):
    page = client.get(reverse("portal:auto_renew", args=[monthly.pk])).content.decode()
    boxes = re.findall(r'<input type="checkbox" name="(\w+)"', page)
    assert boxes and "enabled" in boxes
    for name in boxes:
        # the box and its label are one row (.checkbox: a flex row), the label right after the box
        row = re.search(
            rf'<div class="field checkbox">\s*<input type="checkbox" name="{name}"[^>]*>\s*<label for="id_{name}"', page
        )
        assert row, name


def test_the_page_shows_the_next_renewals_date_plan_and_amount(client, monthly):
    from refill.portal.templatetags.refill_format import day
    from tests.factories import renew

    renew(monthly, monthly.plan)
    monthly.refresh_from_db()
    url = reverse("portal:auto_renew", args=[monthly.pk])
    client.post(url, {**FORM, "cap_per_renewal": ""})
    page = client.get(url).content.decode()
    found = re.search(r'data-testid="next-renewal".*?</dl>', page, re.S)
    assert found
    block = found.group(0)
    with timezone.override("America/New_York"):
        at = day(monthly.period_end - timedelta(hours=monthly.market.auto_renew_lead_hours))
    assert at in block and "Monthly Unlimited" in block and "$35.00" in block
