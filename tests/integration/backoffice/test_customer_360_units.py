"""The customer 360 shows a line's allowances as the customer's own line card does (GB / MB,
minutes, SMS, in the staff member's language), and auto-renew with its spending caps and the ways
it would pay, in the engine's order: the wallet, the primary card, the backup card."""

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from refill.ledger.services import wallet_adjust
from refill.payments.models import PaymentMethod
from refill.renewals.autorenew import autorenew_update
from refill.subscriptions.models import Bucket
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_saved_card, make_staff, renew
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db


def member(role: str, language: str = "en") -> Client:
    user = make_staff(role, f"{role}-units@example.com")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    login(client, user)
    return client


def shown_text(html: str, testid: str) -> str:
    """The visible text of the first element marked ``data-testid=testid``."""
    match = re.search(rf'<(\w+)[^>]*data-testid="{re.escape(testid)}"[^>]*>(.*?)</\1>', html, re.S)
    assert match, testid
    return " ".join(visible_text(match.group(2)).split())


@pytest.fixture
def line():
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", data_mb=20480, voice_minutes=500, sms=100)
    customer, _user = make_customer("units@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550177")
    renew(line, plan)
    Bucket.objects.filter(line=line, kind="data").update(used=1536)  # 1.5 GB used
    Bucket.objects.filter(line=line, kind="voice").update(used=42)
    return line


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_allowances_read_as_on_the_customers_line_card(line, language):
    customer = line.owner
    customer.preferred_language = language
    customer.save()
    portal = Client()
    login(portal, customer.users.get())
    card = portal.get(reverse("portal:home")).content.decode()
    page = member("support", language).get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    for kind in ("data", "voice", "sms"):
        label_and_value = r'.*?<span>(.*?)</span>\s*<span class="allowance-value">(.*?)</span>'
        on_card = re.search(rf'data-testid="allowance-{kind}"' + label_and_value, card, re.S)
        on_360 = re.search(rf'data-testid="allowance-{kind}"><dt>(.*?)</dt><dd>(.*?)</dd>', page, re.S)
        # The same label and the same figures in the same words as the line card.
        assert [visible_text(x).strip() for x in on_360.groups()] == [visible_text(x).strip() for x in on_card.groups()]
    expected = {"en": "18.5 GB left of 20 GB", "zh-hans": "18.5 GB"}[language]
    assert expected in shown_text(page, "allowance-data")
    # and the balances table reads in units too, never a bare count of megabytes
    assert shown_text(page, "bucket-granted") in {"20 GB", "500 min", "100 SMS", "500 分钟", "100 条短信"}
    assert "20480" not in visible_text(page)


def test_auto_renew_shows_caps_and_the_ways_it_would_pay_in_order(line):
    customer = line.owner
    autorenew_update(
        line=line, actor=None, enabled=True, cap_per_renewal=Decimal("30.00"), cap_per_month=Decimal("60.00")
    )
    make_saved_card(customer, token="tok_a", exp_year=2030, is_default=True)
    make_saved_card(
        customer, token="tok_b", brand="mastercard", last4="4444", exp_month=1, exp_year=2031, is_backup=True
    )
    make_saved_card(  # removed: never used
        customer, token="tok_c", brand="amex", last4="0005", exp_month=1, exp_year=2031,
        removed_at="2026-01-01T00:00:00Z",
    )  # fmt: skip
    wallet_adjust(customer=customer, currency="USD", amount=Decimal("7.50"), reason="test", key="units-wallet")
    page = member("support").get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    assert shown_text(page, "autorenew-state") == "On"
    assert shown_text(page, "autorenew-cap") == "$30.00"
    assert shown_text(page, "autorenew-month-cap") == "$60.00"
    ways = re.findall(r'data-testid="autorenew-method-(\w+)"', page)
    assert ways == ["wallet", "default", "backup"]
    assert "$7.50" in shown_text(page, "autorenew-method-wallet")
    assert "4242" in shown_text(page, "autorenew-method-default")
    assert "4444" in shown_text(page, "autorenew-method-backup")
    assert "0005" not in shown_text(page, "autorenew-methods")

    # The customer turned the wallet and the backup off, and removed their only card: the 360 says so.
    autorenew_update(line=line, actor=None, use_wallet=False, use_backup_method=False, cap_per_renewal=None)
    PaymentMethod.objects.filter(customer=customer).update(is_default=False, removed_at="2026-01-01T00:00:00Z")
    page = member("finance").get(reverse("backoffice:customer", args=[customer.pk])).content.decode()
    assert re.findall(r'data-testid="autorenew-method-(\w+)"', page) == ["default"]
    assert "none saved" in shown_text(page, "autorenew-method-default")
    assert shown_text(page, "autorenew-cap") == "No limit"
