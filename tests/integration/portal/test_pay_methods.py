"""The ways to pay the renew page and the wallet top-up offer (portal.pay_methods): the last used way
first, then the market's and the language's (支付宝, 微信支付 in China and for Chinese readers),
saved cards named unlike "A new card", a wallet that cannot pay disabled with why, the wallet-first
split before paying, and a top-up by saved card or provider wallet."""

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import translation

from refill.integrations.payments.base import CardDetails
from refill.integrations.payments.sandbox import SandboxGateway
from refill.ledger.services import wallet_balance
from refill.orders.checkout import order_create_renewal
from refill.orders.models import Order
from refill.orders.paying import PayWith, order_pay
from refill.payments.models import Payment, PaymentMethod
from refill.payments.services import method_add
from refill.portal.pay_methods import last_used_key
from refill.vouchers.services import voucher_batch_generate, voucher_redeem
from tests.factories import login, make_customer, make_line, make_market, make_plan
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db

CARD = CardDetails(number="4242424242424242", exp_month=12, exp_year=2039, cvc="123")
NEW_CARD = {"card_number": "4242 4242 4242 4242", "card_expiry": "12/39", "card_cvc": "123"}


def offered(html: str) -> list[str]:
    """The pay_with values in the order the page offers them."""
    return re.findall(r'name="pay_with" value="([^"]+)"', html)


def checked(html: str) -> str:
    return re.search(r'name="pay_with" value="([^"]+)" data-testid="[^"]+" checked', html).group(1)


def key(html: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', html).group(1)


def give_wallet(customer, amount: str, currency: str = "USD") -> None:
    _, pins = voucher_batch_generate(count=1, face_value=amount, currency=currency)
    voucher_redeem(pin=pins[0][1], customer=customer)


def paid_renewal(line, pay_with: PayWith, key_: str = "seed") -> Order:
    order = order_create_renewal(customer=line.owner, line=line, plan=line.plan, periods=1, idempotency_key=key_)
    order_pay(order=order, pay_with=pay_with)
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    return order


@pytest.fixture
def us(client):
    market = make_market()
    plan = make_plan(market, "us-30day", price="25.00", name_en="30-Day Plan")
    make_plan(market, "us-week", price="7.00", validity_count=7, name_en="7-Day Plan", voice_minutes=None, sms=None)
    customer, user = make_customer("payer@example.com")
    line = make_line(customer, market, plan, msisdn="+12025550143")
    login(client, user)
    return market, plan, customer, line


@pytest.fixture
def cn(client):
    market = make_market(
        "cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai",
        tax_rate=Decimal("0.06"), tax_inclusive=True,
    )  # fmt: skip
    plan = make_plan(market, "cn-month", price="88.00", validity_kind="months", validity_count=1)
    return market, plan


def renew_page(client, line, **params) -> str:
    return client.get(reverse("portal:renew", args=[line.pk]), params).content.decode()


# --- the last used way ----------------------------------------------------------------------------


def test_the_last_used_way_is_found_from_the_last_paid_order(us):
    market, plan, customer, line = us
    assert last_used_key(customer, []) is None  # nothing paid yet
    paid_renewal(line, PayWith(card=CARD), "typed")
    assert last_used_key(customer, []) is None  # a typed card that was not saved cannot be offered again
    method = method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
    saved = [method]
    assert last_used_key(customer, saved) == f"saved-{method.pk}"  # the same card, saved since
    paid_renewal(line, PayWith(saved_method=method), "saved")
    assert last_used_key(customer, saved) == f"saved-{method.pk}"
    give_wallet(customer, "30.00")
    paid_renewal(line, PayWith(), "wallet")
    assert last_used_key(customer, saved) == "wallet"
    give_wallet(customer, "10.00")
    paid_renewal(line, PayWith(card=CARD, use_wallet=True), "both")
    assert last_used_key(customer, saved) == "wallet_card"


def test_a_provider_wallet_is_the_last_used_way(us, client):
    market, plan, customer, line = us
    order = order_create_renewal(customer=customer, line=line, plan=plan, periods=1, idempotency_key="ali")
    payment = order_pay(order=order, pay_with=PayWith(provider_wallet="alipay"), return_url="/back/")
    assert payment.status == Payment.Status.REQUIRES_ACTION
    client.post(payment.action_url, {"decision": "approve"})
    client.get(reverse("portal:payment_return", args=[order.pk]))
    order.refresh_from_db()
    assert order.status == Order.Status.PAID
    assert last_used_key(customer, []) == "alipay"
    page = renew_page(client, line)
    assert offered(page)[0] == "alipay" and checked(page) == "alipay"


# --- the renew page's order and wording -------------------------------------------------------------


def test_a_returning_customer_gets_their_saved_card_first_and_chosen(us, client):
    market, plan, customer, line = us
    method = method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
    other = method_add(
        customer=customer, gateway=SandboxGateway(), card=CardDetails("5555555555554444", 1, 2040, "321")
    )
    paid_renewal(line, PayWith(saved_method=other))
    give_wallet(customer, "40.00")  # covers the price: first but for the way used last
    page = renew_page(client, line)
    assert offered(page)[:3] == [f"saved-{other.pk}", "wallet", f"saved-{method.pk}"]
    assert checked(page) == f"saved-{other.pk}"
    text = visible_text(page)
    # a saved card and a new card are told apart: brand, last 4 and expiry against "A new card"
    assert "Mastercard •••• 4444, expires 01/40" in text and "Visa •••• 4242, expires 12/39" in text
    assert "A new card" in text and "Last used" in text


def test_china_and_chinese_readers_get_alipay_and_wechat_pay_before_cards(client, cn):
    market, plan = cn
    customer, user = make_customer("li@example.com", language="zh-hans", tz="Asia/Shanghai")
    line = make_line(customer, market, plan, msisdn="+8613912345678")
    paid_renewal(line, PayWith(card=CARD))
    login(client, user)
    page = renew_page(client, line)
    assert offered(page)[:3] == ["alipay", "wechat_pay", "card"]
    assert checked(page) == "alipay"
    with translation.override("zh-hans"):
        text = visible_text(page)
        # named as Chinese readers know them, the new card too
        assert translation.gettext("Alipay") in text and translation.gettext("WeChat Pay") in text
        assert translation.gettext("A new card") in text


def test_an_english_reader_in_china_gets_them_first_too(client, cn):
    market, plan = cn
    customer, user = make_customer("expat@example.com", language="en", tz="Asia/Shanghai")
    line = make_line(customer, market, plan, msisdn="+8613912345679")
    paid_renewal(line, PayWith(card=CARD))
    login(client, user)
    assert offered(renew_page(client, line))[:3] == ["alipay", "wechat_pay", "card"]


def test_a_chinese_reader_in_the_us_gets_them_first_too(us, client):
    market, plan, customer, line = us
    customer.preferred_language = "zh-hans"
    customer.save(update_fields=["preferred_language"])
    page = renew_page(client, line)
    assert offered(page)[:3] == ["alipay", "wechat_pay", "card"]
    assert '<html lang="zh-Hans">' in page


def test_an_english_reader_in_the_us_gets_the_card_before_provider_wallets(us, client):
    market, plan, customer, line = us
    page = renew_page(client, line)
    assert offered(page) == ["card", "apple_pay", "paypal", "alipay", "wechat_pay"]
    assert checked(page) == "card"


def test_a_wallet_that_cannot_pay_is_disabled_with_what_it_holds_and_the_total(us, client):
    market, plan, customer, line = us
    give_wallet(customer, "15.00")
    page = renew_page(client, line)
    wallet = re.search(r'<input type="radio" name="pay_with" value="wallet"[^>]*>', page).group(0)
    assert "disabled" in wallet and 'aria-describedby="why-pay-wallet"' in wallet
    why = re.search(r'data-testid="why-pay-wallet">([^<]*)<', page).group(1)
    assert why == "Holds $15.00, less than the $25.00 total."
    assert offered(page)[-1] == "wallet"  # after every way that can pay
    assert checked(page) == "wallet_card"  # the wallet's $15 and a card for the rest
    # the cheaper plan it covers: usable, and said what it holds
    page = renew_page(client, line, plan="us-week")
    wallet = re.search(r'<input type="radio" name="pay_with" value="wallet"[^>]*>', page).group(0)
    assert "disabled" not in wallet and "Holds $15.00" in visible_text(page)
    assert 'value="wallet_card"' not in page  # nothing left for a card to pay


def test_an_expired_saved_card_is_disabled_and_says_so(us, client):
    market, plan, customer, line = us
    method = method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
    PaymentMethod.objects.filter(pk=method.pk).update(exp_month=1, exp_year=2020)
    page = renew_page(client, line)
    saved = re.search(rf'<input type="radio" name="pay_with" value="saved-{method.pk}"[^>]*>', page).group(0)
    assert "disabled" in saved
    assert "This card has expired." in visible_text(page)
    assert offered(page)[-1] == f"saved-{method.pk}" and checked(page) == "card"


def test_wallet_first_shows_the_split_before_paying(us, client):
    market, plan, customer, line = us
    give_wallet(customer, "15.00")
    quote = client.get(
        reverse("portal:renew_quote", args=[line.pk]), {"plan": "us-30day", "periods": 1, "pay_with": "wallet_card"}
    ).content.decode()
    wallet = re.search(r'data-testid="split-wallet"><dt>[^<]*</dt><dd>([^<]*)</dd>', quote).group(1)
    card = re.search(r'data-testid="split-card"><dt>[^<]*</dt><dd>([^<]*)</dd>', quote).group(1)
    assert (wallet, card) == ("$15.00", "$10.00")
    # two periods: still $15 from the wallet, the rest ($35) by card
    quote = client.get(
        reverse("portal:renew_quote", args=[line.pk]), {"plan": "us-30day", "periods": 2, "pay_with": "wallet_card"}
    ).content.decode()
    assert re.search(r'data-testid="split-card"><dt>[^<]*</dt><dd>\$35\.00</dd>', quote)
    # another way chosen: no split
    quote = client.get(
        reverse("portal:renew_quote", args=[line.pk]), {"plan": "us-30day", "periods": 1, "pay_with": "card"}
    ).content.decode()
    assert "split-wallet" not in quote
    # and paying takes exactly that split
    page = renew_page(client, line)
    expected = re.search(r'name="expected_total" value="([0-9.]+)"', page).group(1)
    form = {"plan": "us-30day", "periods": 1, "idempotency_key": key(page), "expected_total": expected,
            "pay_with": "wallet_card", "action": "pay", **NEW_CARD}  # fmt: skip
    assert client.post(reverse("portal:renew", args=[line.pk]), form).status_code == 302
    order = Order.objects.filter(customer=customer, status=Order.Status.PAID).get()
    assert sorted(order.payments.values_list("method", "amount")) == [
        ("card", Decimal("10.0000")),
        ("wallet", Decimal("15.0000")),
    ]


def test_the_renew_page_shows_each_plans_price_and_marks_the_current_plan(us, client):
    market, plan, customer, line = us
    paid_renewal(line, PayWith(card=CARD))  # an active line (a new one's first purchase marks none)
    page = renew_page(client, line)
    prices = re.findall(r'data-testid="plan-price">([^<]*)<', page)
    assert prices == ["$25.00", "$7.00"]
    assert page.count('data-testid="current-plan"') == 1
    current = re.search(r'data-testid="plan-card-us-30day">.*?</label>', page, re.S).group(0)
    assert 'data-testid="current-plan"' in current and "checked" in current
    # the promotion code waits behind a disclosure, open once a code was typed
    assert re.search(r'<details class="promo" data-testid="promotion-details">', page)
    assert re.search(r'<details class="promo" open', renew_page(client, line, promotion_code="SPRING"))


# --- the wallet top-up --------------------------------------------------------------------------------


def topup(client, data: dict):
    page = client.get(reverse("portal:wallet")).content.decode()
    return client.post(reverse("portal:wallet"), {"market": "us", "amount": "20", "idempotency_key": key(page), **data})


def test_the_top_up_offers_saved_cards_and_provider_wallets_not_the_wallet(us, client):
    market, plan, customer, line = us
    method = method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
    paid_renewal(line, PayWith(saved_method=method))
    give_wallet(customer, "15.00")
    page = client.get(reverse("portal:wallet")).content.decode()
    assert offered(page) == [f"saved-{method.pk}", "card", "apple_pay", "paypal", "alipay", "wechat_pay"]
    assert checked(page) == f"saved-{method.pk}"


def test_the_top_up_puts_alipay_first_for_a_chinese_customer(client, cn):
    market, plan = cn
    customer, user = make_customer("wang@example.com", language="zh-hans", tz="Asia/Shanghai")
    make_line(customer, market, plan, msisdn="+8613912345670")
    login(client, user)
    page = client.get(reverse("portal:wallet")).content.decode()
    assert offered(page)[:3] == ["alipay", "wechat_pay", "card"] and checked(page) == "alipay"


def test_top_up_with_a_saved_card_types_nothing_but_the_amount(us, client):
    market, plan, customer, line = us
    method = method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
    answer = topup(client, {"pay_with": f"saved-{method.pk}"})
    order = Order.objects.get(customer=customer, status=Order.Status.PAID)
    assert answer.status_code == 302 and answer.url == reverse("portal:order_confirmation", args=[order.pk])
    assert order.payments.get().card_last4 == "4242"
    assert wallet_balance(customer, "USD") == Decimal("20.00")


def test_top_up_with_wechat_pay_goes_through_the_providers_page(us, client):
    market, plan, customer, line = us
    answer = topup(client, {"pay_with": "wechat_pay"})
    payment = Payment.objects.get(order__customer=customer)
    assert answer.status_code == 302 and answer.url == payment.action_url
    assert (payment.card_brand, payment.status) == ("wechat_pay", Payment.Status.REQUIRES_ACTION)
    assert wallet_balance(customer, "USD") == Decimal("0.00")  # nothing until approved
    back = client.post(payment.action_url, {"decision": "approve"})
    assert back.url.endswith(reverse("portal:payment_return", args=[payment.order_id]))
    done = client.get(back.url)
    assert done.url == reverse("portal:order_confirmation", args=[payment.order_id])
    assert wallet_balance(customer, "USD") == Decimal("20.00")


def test_the_wallet_cannot_top_itself_up(us, client):
    market, plan, customer, line = us
    give_wallet(customer, "30.00")
    for choice in ("wallet", "wallet_card", "saved-999999", "bitcoin"):
        answer = topup(client, {"pay_with": choice, **NEW_CARD})
        assert answer.status_code == 400
        assert "Choose how to pay." in visible_text(answer.content.decode())
    assert not Order.objects.filter(customer=customer, items__kind="wallet_topup").exists()
    assert wallet_balance(customer, "USD") == Decimal("30.00")


def test_a_declined_new_card_tops_up_nothing_and_can_try_the_saved_card(us, client):
    market, plan, customer, line = us
    method = method_add(customer=customer, gateway=SandboxGateway(), card=CARD)
    page = client.get(reverse("portal:wallet")).content.decode()
    form = {"market": "us", "amount": "20", "idempotency_key": key(page)}
    declined = client.post(
        reverse("portal:wallet"), {**form, "pay_with": "card", **NEW_CARD, "card_number": "4000 0000 0000 9995"}
    )
    assert declined.status_code == 402 and wallet_balance(customer, "USD") == Decimal("0.00")
    again = client.post(reverse("portal:wallet"), {**form, "pay_with": f"saved-{method.pk}"})
    assert again.status_code == 302
    assert Order.objects.filter(customer=customer).count() == 1  # the same top-up, paid the second way
    assert wallet_balance(customer, "USD") == Decimal("20.00")
