"""The back office's "Ways to pay" page per market (issue 28): staff move a way up or down and switch it
on or off without any script, save with a reason (audited, before and after), and cannot switch on a
way whose payment adapter is not configured or does not take it: the page shows it off with why and
the server refuses it, changing nothing. Only staff who may change markets get the page."""

import re

import pytest
from django.test import override_settings
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.catalog.models import MarketPayMethod
from refill.catalog.selectors import market_pay_methods_on
from refill.domain.payment_methods import FAMILIES
from refill.integrations.payments.base import Capabilities, Capability
from refill.integrations.payments.sandbox import SandboxGateway
from tests.factories import login, make_market, make_staff

pytestmark = pytest.mark.django_db


class NoSavingGateway(SandboxGateway):
    """Takes typed cards and Alipay, cannot save a card (the sandbox's books are its servers)."""

    name = "nosaving"
    capabilities = Capabilities(features=frozenset({Capability.SERVER_TOKENISATION}), wallets=("alipay",))


ADAPTERS = {
    "sandbox": "refill.integrations.payments.sandbox.SandboxGateway",
    "nosaving": f"{__name__}.NoSavingGateway",
}


@pytest.fixture
def us():
    return make_market()


@pytest.fixture
def manager(client):
    user = make_staff("catalog", "catalog@example.com")
    login(client, user)
    return user


def page_url(market) -> str:
    return reverse("backoffice:catalog_pay_methods", args=[market.pk])


def listed(html: str) -> list[str]:
    """The ways in the order the page lists them."""
    return re.findall(r'<input type="hidden" name="method" value="([a-z_]+)">', html)


def switched_on(html: str) -> set[str]:
    return set(re.findall(r'name="on" value="([a-z_]+)"[^>]*\bchecked\b', html))


def form(order, on, **extra) -> dict:
    return {"method": list(order), "on": list(on), **extra}


def test_a_market_without_a_setting_shows_every_way_on_in_the_default_order(client, manager, us):
    cn = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    html = client.get(page_url(us)).content.decode()
    assert listed(html) == list(FAMILIES) and switched_on(html) == set(FAMILIES)
    assert 'data-testid="pay-methods-default"' in html
    # China's default puts the wallet, Alipay and WeChat Pay first (domain.payment_methods)
    assert listed(client.get(page_url(cn)).content.decode())[:3] == ["wallet", "alipay", "wechat_pay"]
    # and the catalog overview says so, with the link to the page
    overview = client.get(reverse("backoffice:catalog")).content.decode()
    assert page_url(us) in overview and 'data-testid="pay-methods"' in overview


def test_up_and_down_reorder_without_saving_then_save_is_audited(client, manager, us):
    order = list(FAMILIES)
    on = [family for family in FAMILIES if family not in ("alipay", "wechat_pay")]
    # "PayPal up" twice: the page comes back reordered, with the switches as posted, nothing saved
    moved = client.post(page_url(us), form(order, on, move="up:paypal"))
    assert moved.status_code == 200 and 'data-testid="pay-methods-unsaved"' in moved.content.decode()
    order = listed(moved.content.decode())
    moved = client.post(page_url(us), form(order, switched_on(moved.content.decode()), move="up:paypal"))
    order = listed(moved.content.decode())
    assert order[:6] == ["wallet", "saved", "wallet_card", "paypal", "card", "apple_pay"]
    assert switched_on(moved.content.decode()) == set(on)
    assert not MarketPayMethod.objects.exists() and not AuditEvent.objects.filter(action__startswith="market.").exists()
    # the first cannot go up, the last cannot go down
    assert re.search(r'data-testid="up-wallet" disabled', moved.content.decode())
    assert re.search(r'data-testid="down-pin" disabled', moved.content.decode())

    saved = client.post(page_url(us), form(order, on, action="save", reason="US customers pay with PayPal"))
    assert saved.status_code == 302 and saved.url == reverse("backoffice:catalog")
    assert market_pay_methods_on(us) == [family for family in order if family in on]
    event = AuditEvent.objects.get(action="market.pay_methods_changed")
    assert event.actor == manager and event.reason == "US customers pay with PayPal"
    assert event.object_id == str(us.pk)
    assert event.data["before"] == {"on": list(FAMILIES), "off": []} and event.data["was_default"] is True
    assert event.data["after"]["off"] == ["alipay", "wechat_pay"]
    assert event.data["after"]["on"][3] == "paypal"
    # the overview lists the market's own order now
    overview = client.get(reverse("backoffice:catalog")).content.decode()
    shown = re.search(r'data-testid="pay-methods">([^<]*)', overview).group(1)
    assert shown.startswith("The wallet · Saved cards · Wallet first, the rest by card · PayPal · A new card")

    # the same list again: nothing changed, no second audit row
    again = client.post(page_url(us), form(order, on, action="save", reason="again"))
    assert again.status_code == 302
    assert AuditEvent.objects.filter(action="market.pay_methods_changed").count() == 1


def test_saving_needs_a_reason_and_changes_nothing_without_one(client, manager, us):
    answer = client.post(page_url(us), form(FAMILIES, ["card"], action="save", reason=" "))
    assert answer.status_code == 400
    assert "Give a reason" in answer.content.decode()
    assert not MarketPayMethod.objects.exists() and not AuditEvent.objects.filter(action__startswith="market.").exists()


def test_a_list_that_leaves_nothing_to_pay_with_is_refused(client, manager, us):
    answer = client.post(page_url(us), form(FAMILIES, ["pin"], action="save", reason="only PINs"))
    assert answer.status_code == 400 and 'data-testid="pay-methods-errors"' in answer.content.decode()
    # a list that is not every way once (an old page, a hand-made post) is refused too
    answer = client.post(page_url(us), {"method": ["card", "card"], "on": ["card"], "action": "save", "reason": "x"})
    assert answer.status_code == 400
    assert not MarketPayMethod.objects.exists()


@override_settings(REFILL_PAYMENT_ROUTES={"paypal": "paypal"})
def test_a_way_whose_adapter_is_not_configured_is_shown_off_with_why_and_refused(client, manager, us):
    # PayPal is routed to an adapter called "paypal" that this installation does not configure.
    html = client.get(page_url(us)).content.decode()
    assert re.search(r'data-testid="on-paypal"[^>]*\bdisabled\b', html)
    assert "paypal" not in switched_on(html)
    why = re.search(r'data-testid="why-paypal">([^<]*)<', html).group(1)
    assert why == "PayPal: no “paypal” payment adapter is configured."
    # switched on anyway by a hand-made post: refused with why, nothing saved, nothing audited
    answer = client.post(page_url(us), form(FAMILIES, FAMILIES, action="save", reason="PayPal please"))
    assert answer.status_code == 400
    assert "PayPal: no “paypal” payment adapter is configured." in answer.content.decode()
    assert not MarketPayMethod.objects.exists() and not AuditEvent.objects.filter(action__startswith="market.").exists()
    # the same list with PayPal off is saved
    without = [family for family in FAMILIES if family != "paypal"]
    assert client.post(page_url(us), form(FAMILIES, without, action="save", reason="no PayPal yet")).status_code == 302
    assert "paypal" not in market_pay_methods_on(us)


@override_settings(REFILL_PAYMENT_ADAPTERS=ADAPTERS, REFILL_PAYMENT_GATEWAY="nosaving")
def test_ways_the_routed_adapter_does_not_declare_cannot_be_switched_on(client, manager, us):
    html = client.get(page_url(us)).content.decode()
    # saved cards need an adapter that saves cards; Apple Pay, PayPal and WeChat Pay one that takes them
    for way in ("saved", "apple_pay", "paypal", "wechat_pay"):
        assert re.search(rf'data-testid="on-{way}"[^>]*\bdisabled\b', html), way
    for way in ("card", "wallet_card", "alipay", "wallet", "pin"):
        assert not re.search(rf'data-testid="on-{way}"[^>]*\bdisabled\b', html), way
    answer = client.post(page_url(us), form(FAMILIES, ["card", "saved"], action="save", reason="saved cards"))
    assert answer.status_code == 400
    assert "Saved cards: the “nosaving” payment adapter cannot save cards." in answer.content.decode()
    assert not MarketPayMethod.objects.exists()


def test_only_staff_who_may_change_markets_get_the_page(client, us):
    support = make_staff("support", "support@example.com")
    login(client, support)
    assert client.get(page_url(us)).status_code == 403
    assert client.post(page_url(us), form(FAMILIES, ["card"], action="save", reason="x")).status_code == 403
    assert not MarketPayMethod.objects.exists()
