"""Refill any number without an account, on the web (portal.refill_views): the home page's plans
per market, the number, a plan of the number's market only, and a card, a payment app (the
sandbox provider's page and back) or a refill PIN; the same checks and limits as the API's gift
refill; bad input and refusals keep the number and the plan and change nothing."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from refill.catalog.models import Market, Plan
from refill.domain import payment_methods as rule
from refill.ledger.services import wallet_balance
from refill.notifications.models import Notification
from refill.orders.models import Order
from refill.payments.models import Payment
from refill.payments.selectors import provider_wallets_offered
from refill.renewals.gifts import gift_payer_confirmation_send
from refill.subscriptions.models import Period
from refill.vouchers.models import RedemptionAttempt, Voucher
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db
CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}
DECLINED = {**CARD, "card_number": "4000 0000 0000 0002"}
BANK_STEP = {**CARD, "card_number": "4000 0000 0000 3162"}
NUMBER = "+12025550143"


@pytest.fixture
def world():
    us = make_market()
    cn = make_market(
        "cn", name="Mainland China", name_zh_hans="中国大陆", region="CN", currency="CNY",
        time_zone="Asia/Shanghai", tax_rate=Decimal("0.06"), tax_inclusive=True,
    )  # fmt: skip
    plan = make_plan(us, "us-30day", price="25.00", name_en="30-Day Plan", name_zh_hans="30天套餐")
    make_plan(us, "us-annual", price="300.00", validity_kind="years", validity_count=1, max_prepaid_periods=2)
    make_plan(us, "us-boost", price="10.00", kind="addon")
    make_plan(cn, "cn-30day", price="68.00", name_en="China 30-Day", name_zh_hans="中国30天")
    owner, user = make_customer("owner@example.com", language="zh-hans")
    line = make_line(owner, us, plan, msisdn=NUMBER)
    line.status, line.period_end = "active", timezone.now() + timedelta(days=5)
    line.save(update_fields=["status", "period_end"])
    return owner, user, line


def checkout(client, **fields):
    """The checkout page for NUMBER (step 1 answered), and its form's key."""
    page = client.post("/refill/", {"msisdn": "(202) 555-0143", **fields})
    assert page.status_code == 200, visible_text(page.content.decode())
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page.content.decode()).group(1)
    return page, key


def pay(client, key, **fields):
    data = {"msisdn": NUMBER, "idempotency_key": key, "gift": "us-30day", "periods": "1", "pay_with": "card"}
    if fields.get("pay_with", "card") == "card":
        data.update(CARD)
    data.update(fields)
    return client.post("/refill/pay/", {k: v for k, v in data.items() if v is not None})


def nothing_changed(line, end_before):
    line.refresh_from_db()
    assert line.period_end == end_before
    assert not Order.objects.filter(status="paid").exists()
    assert not Payment.objects.filter(status="succeeded").exists()
    assert not Period.objects.filter(order_item__isnull=False).exists()


def kept(html, plan="us-30day"):
    """The number and the chosen plan are still on the page."""
    assert f'name="msisdn" value="{NUMBER}"' in html
    assert re.search(rf'value="{plan}"\s+checked', html), "the plan was not kept"


# --- the home page -------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "market_name"), [("en", "Mainland China"), ("zh-hans", "中国大陆")])
def test_the_home_page_shows_each_markets_plans_and_refill_any_number(world, client, language, market_name):
    client.cookies["refill_language"] = language
    html = client.get("/").content.decode()
    text = visible_text(html)
    assert 'data-testid="landing-market-us"' in html and 'data-testid="landing-market-cn"' in html
    assert market_name in text
    us = html.split('data-testid="landing-market-us"')[1].split("</section>")[0]
    assert "$25.00" in visible_text(us) and "$300.00" in visible_text(us)
    assert "us-boost" not in html  # an add-on pass needs a running plan: not offered before login
    cn = html.split('data-testid="landing-market-cn"')[1].split("</section>")[0]
    assert "68.00" in visible_text(cn) and "cn-30day" in cn and "us-30day" not in cn
    assert ("20 GB" if language == "en" else "20 GB") in visible_text(us)
    assert 'href="/refill/"' in html and 'data-testid="refill-any-number"' in html
    assert 'data-testid="landing-login"' in html and 'data-testid="landing-signup"' in html


def test_a_signed_in_customer_still_goes_to_their_lines(world, client):
    owner, user, line = world
    login(client, user)
    response = client.get("/")
    assert response.status_code == 302 and response.url == "/lines/"


# --- the number ----------------------------------------------------------------------------------


@pytest.mark.parametrize("number", ["+12025550100", "not a number", ""])
def test_an_unknown_number_is_refused_and_kept(world, client, number):
    client.cookies["refill_language"] = "zh-hans"
    response = client.post("/refill/", {"msisdn": number})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'data-testid="msisdn-error"' in html and re.search(r"[\u4e00-\u9fff]", visible_text(html))
    if number:
        assert f'value="{number}"' in html
    assert "refill-plan-" not in html


def test_a_number_shows_only_its_markets_plans(world, client):
    page, key = checkout(client)
    html = page.content.decode()
    assert 'data-testid="refill-plan-us-30day"' in html and 'data-testid="refill-plan-us-annual"' in html
    assert "cn-30day" not in html and "us-boost" not in html
    assert "owner@example.com" not in html and "owner" not in visible_text(html).lower().replace("its owner", "")
    # Every way to pay: a card, the gateway's payment apps, a refill PIN.
    for method in ("card", "paypal", "apple_pay", "alipay", "wechat_pay", "pin"):
        assert f'data-testid="refill-pay-{method}"' in html


def test_payment_apps_come_first_for_a_chinese_payer(world, client):
    client.cookies["refill_language"] = "zh-hans"
    html = checkout(client)[0].content.decode()
    order = re.findall(r'data-testid="refill-pay-([a-z_]+)"', html)
    assert order[:3] == ["alipay", "wechat_pay", "card"] and order[-1] == "pin"


def _guest_order_by_the_rule(market: str, language: str) -> list[str]:
    """What refill.domain.payment_methods offers first to a payer with no history (a guest): a
    card and the gateway's payment apps, ordered by the market and the language; a PIN last."""
    offered = [rule.PayOption(key) for key in ("card", *provider_wallets_offered())]
    preferred = rule.preference_for(market=market, language=language)
    return [option.key for option in rule.pay_options_ordered(offered, preferred=preferred)] + ["pin"]


@pytest.mark.parametrize(
    ("number", "market", "language"),
    [(NUMBER, "us", "en"), (NUMBER, "us", "zh-hans"), ("+8613800138000", "cn", "en")],
)
def test_the_ways_to_pay_follow_the_one_rule(world, client, number, market, language):
    """The guest checkout has no rule of its own: the number's market and the reader's language
    decide, as for a customer who never paid (no last-used for a guest)."""
    owner, _user, _line = world
    cn = Market.objects.get(code="cn")
    cn_line = make_line(owner, cn, Plan.objects.get(code="cn-30day"), msisdn="+8613800138000")
    cn_line.status, cn_line.period_end = "active", timezone.now() + timedelta(days=5)
    cn_line.save(update_fields=["status", "period_end"])
    client.cookies["refill_language"] = language
    html = client.get(f"/refill/to/{number}/").content.decode()
    offered = re.findall(r'data-testid="refill-pay-([a-z_]+)"', html)
    assert offered == _guest_order_by_the_rule(market, language)
    assert re.search(rf'value="{offered[0]}"[^>]*\bchecked', html), "the first way is not the one chosen"


def test_a_markets_preference_reaches_the_guest_checkout(world, client, monkeypatch):
    # One place decides: a market that prefers PayPal gets it first on the guest checkout too.
    monkeypatch.setitem(rule.DEFAULT_MARKET_PREFERENCES, "us", ("paypal",))
    html = checkout(client)[0].content.decode()
    assert re.findall(r'data-testid="refill-pay-([a-z_]+)"', html)[:2] == ["paypal", "card"]


# --- paying by card ------------------------------------------------------------------------------


def test_a_card_refill_is_paid_shown_and_emailed(world, client, mailoutbox, django_capture_on_commit_callbacks):
    owner, user, line = world
    client.cookies["refill_language"] = "zh-hans"
    end_before = line.period_end
    page, key = checkout(client)
    with django_capture_on_commit_callbacks(execute=True):
        response = pay(client, key, periods="2", email="payer@example.net")
    assert response.status_code == 302 and response.url.startswith("/refills/")
    receipt = client.get(response.url).content.decode()
    assert 'data-testid="gift-paid"' in receipt and 'data-testid="gift-emailed"' in receipt
    assert "$50.00" in visible_text(receipt) and "+1 202-555-0143" in visible_text(receipt)
    order = Order.objects.get()
    assert (order.status, order.payer, order.payer_email, order.customer) == (
        "paid",
        "guest",
        "payer@example.net",
        owner,
    )
    assert order.payer_ip == "127.0.0.1" and order.language == "zh-hans"
    line.refresh_from_db()
    assert Period.objects.filter(order_item__order=order).count() == 2 and line.period_end > end_before
    # The owner is told; the payer gets the confirmation once, in the language they paid in.
    assert Notification.objects.filter(rule="gift_received", subject_key=f"order:{order.pk}").exists()
    assert gift_payer_confirmation_send(order_id=order.pk) is True
    assert gift_payer_confirmation_send(order_id=order.pk) is False
    mail = [m for m in mailoutbox if m.to == ["payer@example.net"]]
    assert len(mail) == 1 and mail[0].extra_headers["Content-Language"] == "zh-hans"
    assert "+1 202-555-0143" in mail[0].body or "2025550143" in mail[0].body.replace(" ", "").replace("-", "")
    # The same form sent again (a double click) replays the paid refill: one charge.
    again = pay(client, key, periods="2", email="payer@example.net")
    assert again.status_code == 302 and Payment.objects.filter(status="succeeded").count() == 1


def test_no_email_no_confirmation(world, client, mailoutbox, django_capture_on_commit_callbacks):
    page, key = checkout(client)
    with django_capture_on_commit_callbacks(execute=True):
        assert pay(client, key).status_code == 302
    order = Order.objects.get()
    assert order.status == "paid" and order.payer_email == ""
    assert gift_payer_confirmation_send(order_id=order.pk) is False
    assert not [m for m in mailoutbox if m.to != ["owner@example.com"]]


def test_money_for_the_numbers_balance(world, client):
    owner, user, line = world
    page, key = checkout(client)
    response = pay(client, key, gift="amount", amount="15.00")
    assert response.status_code == 302
    assert wallet_balance(owner, "USD") == Decimal("15.00")
    assert not Period.objects.filter(order_item__isnull=False).exists()


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"gift": None}, "gift-error"),
        ({"gift": "cn-30day"}, "gift-error"),  # another market's plan
        ({"gift": "us-boost"}, "gift-error"),  # an add-on pass
        ({"periods": "4"}, None),  # more than a guest may buy (3)
        ({"gift": "amount", "amount": ""}, "amount-error"),
        ({"gift": "amount", "amount": "-5"}, "amount-error"),
        ({"email": "nobody"}, "email-error"),
        ({"card_number": "4242 4242 4242 4241"}, "card_number-error"),
        ({"card_expiry": "13/40"}, "card_expiry-error"),
        ({"pay_with": "pin", "pin": ""}, "pin-error"),
        ({"pay_with": "bitcoin"}, "pay-with-error"),
    ],
)
def test_bad_input_is_refused_translated_and_keeps_the_number_and_plan(world, client, fields, error):
    owner, user, line = world
    client.cookies["refill_language"] = "zh-hans"
    end_before = line.period_end
    page, key = checkout(client)
    response = pay(client, key, **{"email": "payer@example.net", **fields})
    assert response.status_code == 400
    html = response.content.decode()
    if error:
        found = re.search(rf'data-testid="{error}"[^>]*>([^<]+)<', html)
        assert found and re.search(r"[\u4e00-\u9fff]", found.group(1)), f"no translated {error}"
    assert f'name="msisdn" value="{NUMBER}"' in html
    if fields.get("gift", "us-30day") == "us-30day":
        kept(html)
    if "email" not in fields:
        assert 'value="payer@example.net"' in html
    assert not Order.objects.exists()
    nothing_changed(line, end_before)


def test_too_many_periods_for_the_plan_is_refused(world, client):
    owner, user, line = world
    end_before = line.period_end
    page, key = checkout(client)
    response = pay(client, key, gift="us-annual", periods="3")  # at most 2 years ahead
    assert response.status_code == 409 and 'data-testid="refill-error"' in response.content.decode()
    kept(response.content.decode(), "us-annual")
    nothing_changed(line, end_before)


def test_a_decline_keeps_the_number_and_plan_and_the_retry_pays(world, client):
    owner, user, line = world
    end_before = line.period_end
    page, key = checkout(client)
    declined = pay(client, key, **DECLINED)
    assert declined.status_code == 402
    html = declined.content.decode()
    assert 'data-testid="refill-error"' in html and 'data-testid="decline-help"' in html
    kept(html)
    assert 'value="4000 0000 0000 0002"' in html  # the card number is kept, its security code is not
    assert "no-store" in declined["Cache-Control"]  # so the page holding it is never kept (card_form.card_page)
    nothing_changed(line, end_before)
    # Try again with another card on the same form: the same order, paid once.
    retry = pay(client, key)
    assert retry.status_code == 302
    order = Order.objects.get()
    assert order.status == "paid"
    assert list(order.payments.order_by("pk").values_list("status", flat=True)) == ["failed", "succeeded"]


def test_declines_are_limited_per_address_and_never_count_against_the_owner(world, client):
    owner, user, line = world
    for _n in range(3):
        page, key = checkout(client)
        assert pay(client, key, **DECLINED).status_code == 402
    page, key = checkout(client)
    refused = pay(client, key)
    assert refused.status_code == 429 and 'data-testid="refill-error"' in refused.content.decode()
    kept(refused.content.decode())
    assert not Payment.objects.filter(status="succeeded").exists()


def test_declines_are_limited_per_number(world, client):
    for n in range(5):
        client.defaults["REMOTE_ADDR"] = f"198.51.100.{n}"
        page, key = checkout(client)
        assert pay(client, key, **DECLINED).status_code == 402
    client.defaults["REMOTE_ADDR"] = "198.51.100.99"
    page, key = checkout(client)
    assert pay(client, key).status_code == 429


def test_gifts_are_limited_per_address_and_per_number(world, client, settings):
    limits = settings.REFILL_GUEST_REFILLS
    settings.REFILL_GUEST_REFILLS = {**limits, "orders_per_ip_day": 2}
    for _n in range(2):
        assert pay(client, checkout(client)[1]).status_code == 302
    refused = pay(client, checkout(client)[1])
    assert refused.status_code == 429 and Order.objects.count() == 2
    settings.REFILL_GUEST_REFILLS = {**limits, "paid_per_number_day": 2}
    client.defaults["REMOTE_ADDR"] = "198.51.100.50"
    refused = pay(client, checkout(client)[1])
    assert refused.status_code == 429 and Order.objects.filter(status="paid").count() == 2


# --- payment apps (the provider's page and back) -------------------------------------------------


def _provider_decides(client, url, decision):
    form = client.get(url).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    back = client.post(url, {"decision": decision, "csrfmiddlewaretoken": token})
    assert back.status_code == 302 and back.url.startswith("http") and "/refills/" in back.url
    return client.get(back.url[back.url.index("/refills/") :])


def test_alipay_through_the_providers_page_and_back(world, client):
    owner, user, line = world
    page, key = checkout(client)
    response = pay(client, key, pay_with="alipay")
    assert response.status_code == 302 and "/sandbox/confirm/" in response.url
    payment = Payment.objects.get()
    assert (payment.status, payment.card_brand) == ("requires_action", "alipay")
    receipt = _provider_decides(client, response.url, "approve")
    assert 'data-testid="gift-paid"' in receipt.content.decode()
    assert Order.objects.get().status == "paid"


def test_a_payment_declined_at_the_provider_offers_to_try_again_with_the_same_number_and_plan(world, client):
    owner, user, line = world
    end_before = line.period_end
    page, key = checkout(client)
    response = pay(client, key, pay_with="wechat_pay", gift="us-annual", periods="2", email="payer@example.net")
    declined = _provider_decides(client, response.url, "decline").content.decode()
    assert 'data-testid="gift-declined"' in declined
    again = re.search(r'href="(/refill/again/[^"]+/)" data-testid="refill-again"', declined).group(1)
    nothing_changed(line, end_before)
    retry_page = client.get(again)
    html = retry_page.content.decode()
    assert retry_page.status_code == 200
    kept(html, "us-annual")
    assert re.search(r'<option value="2"\s+selected', html) and 'value="payer@example.net"' in html
    key = re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)
    assert pay(client, key, gift="us-annual", periods="2").status_code == 302
    assert Order.objects.filter(status="paid").count() == 1


def test_an_abandoned_payment_page_can_be_continued_or_tried_again(world, client):
    page, key = checkout(client)
    response = pay(client, key, **BANK_STEP)
    assert "/sandbox/confirm/" in response.url
    order = Order.objects.get()
    from refill.renewals.gifts import gift_return_token

    waiting = client.get(f"/refills/{gift_return_token(order)}/").content.decode()
    assert 'data-testid="gift-waiting"' in waiting and 'data-testid="gift-continue"' in waiting
    again = re.search(r'href="(/refill/again/[^"]+/)"', waiting).group(1)
    kept(client.get(again).content.decode())
    # Someone else's order (the owner's own) cannot be "tried again" by a guest.
    assert client.get("/refill/again/forged/").status_code == 404


# --- a refill PIN --------------------------------------------------------------------------------


def _pin(value="30.00", currency="USD"):
    batch, pins = voucher_batch_generate(count=1, face_value=value, currency=currency)
    return pins[0][1]


def test_a_refill_pin_pays_for_the_plan_and_the_rest_stays_on_the_balance(world, client):
    owner, user, line = world
    pin = _pin("30.00")
    page, key = checkout(client)
    response = pay(client, key, pay_with="pin", pin=pin, email="payer@example.net")
    assert response.status_code == 302 and response.url.startswith("/refills/")
    assert 'data-testid="gift-paid"' in client.get(response.url).content.decode()
    order = Order.objects.get()
    assert order.status == "paid" and order.payer == "guest"
    assert Voucher.objects.get().state == "redeemed" and Voucher.objects.get().credited_to == owner
    assert wallet_balance(owner, "USD") == Decimal("5.00")
    assert Period.objects.filter(order_item__order=order).count() == 1
    # Sent again: the same refill, the PIN not redeemed twice.
    assert pay(client, key, pay_with="pin", pin=pin, email="payer@example.net").status_code == 302
    assert Order.objects.filter(status="paid").count() == 1 and wallet_balance(owner, "USD") == Decimal("5.00")


def test_a_pin_that_does_not_cover_the_plan_is_refused_before_it_is_used(world, client):
    owner, user, line = world
    end_before = line.period_end
    pin = _pin("10.00")
    page, key = checkout(client)
    response = pay(client, key, pay_with="pin", pin=pin)
    assert response.status_code == 409
    kept(response.content.decode())
    assert "$10.00" in visible_text(response.content.decode())
    assert Voucher.objects.get().state == "active" and wallet_balance(owner, "USD") == 0
    assert not RedemptionAttempt.objects.exists()  # a PIN that is good but too small is no miss
    nothing_changed(line, end_before)


@pytest.mark.parametrize("problem", ["unknown", "used", "currency"])
def test_a_bad_pin_is_refused_and_counted_against_the_address_only(world, client, problem):
    owner, user, line = world
    pin = {"unknown": "1234567890123456", "used": _pin(), "currency": _pin(currency="CNY")}[problem]
    if problem == "used":
        voucher_redeem(pin=pin, customer=owner)  # the owner used it on their own wallet
    before = wallet_balance(owner, "USD")
    page, key = checkout(client)
    response = pay(client, key, pay_with="pin", pin=pin)
    assert response.status_code == 409 and 'data-testid="refill-error"' in response.content.decode()
    kept(response.content.decode())
    assert not Order.objects.exists() and wallet_balance(owner, "USD") == before
    misses = RedemptionAttempt.objects.filter(succeeded=False)
    if problem != "currency":  # a PIN in another currency is good, only not for this number
        assert [(miss.customer_id, miss.ip_address) for miss in misses] == [(None, "127.0.0.1")]


def test_too_many_wrong_pins_from_one_address(world, client):
    owner, user, line = world
    good = _pin("30.00")
    for n in range(20):
        page, key = checkout(client)
        assert pay(client, key, pay_with="pin", pin=f"9{n:015d}").status_code == 409
    page, key = checkout(client)
    refused = pay(client, key, pay_with="pin", pin=good)
    assert refused.status_code == 429
    assert Voucher.objects.get().state == "active"


def test_a_pin_pays_for_a_plan_not_an_amount(world, client):
    page, key = checkout(client)
    response = pay(client, key, pay_with="pin", pin=_pin(), gift="amount", amount="10")
    assert response.status_code == 400 and 'data-testid="pay-with-error"' in response.content.decode()
    assert Voucher.objects.get().state == "active"


def test_a_link_to_a_numbers_checkout(world, client):
    html = client.get("/refill/to/+12025550143/").content.decode()
    assert 'data-testid="refill-plan-us-30day"' in html and f'name="msisdn" value="{NUMBER}"' in html
    missing = client.get("/refill/to/+12025550100/")
    assert missing.status_code == 404 and 'data-testid="msisdn-error"' in missing.content.decode()
    assert 'value="+12025550100"' in missing.content.decode() and "refill-plan-" not in missing.content.decode()


def test_trying_again_after_money_for_the_wallet_keeps_the_amount(world, client):
    page, key = checkout(client)
    response = pay(client, key, gift="amount", amount="15", pay_with="paypal")
    declined = _provider_decides(client, response.url, "decline").content.decode()
    html = client.get(re.search(r'href="(/refill/again/[^"]+/)"', declined).group(1)).content.decode()
    assert re.search(r'value="amount"\s+checked', html) and 'value="15.00"' in html
