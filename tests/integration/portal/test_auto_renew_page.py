"""The portal's auto-renew page: the owner turns it on with caps; bad input changes nothing."""

import pytest
from django.urls import reverse

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
