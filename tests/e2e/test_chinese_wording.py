"""The pages where money, dates and a line's state are read closely, in a phone-sized Chromium in
both languages (issue 23, item 10): the signed-in message, a suspended line's card, the auto-renew
attempts, saved provider wallets, the receipt's tax and time zone, and the renewal page's labels.
Screenshots go to var/screenshots/wording-*.png."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.template.loader import render_to_string
from django.utils import timezone, translation
from playwright.sync_api import expect

from refill.lines.models import Line
from refill.orders.receipts import receipt_context
from refill.payments.models import PaymentMethod
from refill.renewals.models import RenewalAttempt
from tests.e2e.helpers import assert_language, log_in
from tests.factories import make_customer, make_line, make_market, make_plan, renew

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "wording-pass-2026"


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_money_dates_and_states_read_right(live_server, phone_page, shot, language):
    page, base = phone_page, live_server.url
    market = make_market("cn", name="Mainland China", name_zh_hans="中国大陆", region="CN", currency="CNY",
                         time_zone="Asia/Shanghai", tax_rate=Decimal("0.06"), tax_inclusive=True)  # fmt: skip
    plan = make_plan(market, "cn-month", price="50.00", name_en="Monthly Plan", name_zh_hans="月套餐")
    customer, user = make_customer(
        f"wording-{language}@example.com", language=language, password=PASSWORD, tz="Asia/Shanghai"
    )
    line = make_line(customer, market, plan, msisdn="+8613800138000")
    order, _payment = renew(line, plan)
    lapsed = make_line(customer, market, plan, msisdn="+8613800138001")
    Line.objects.filter(pk=lapsed.pk).update(status="suspended", period_end=timezone.now() - timedelta(days=10))
    RenewalAttempt.objects.create(
        line=line, cycle_end=timezone.now(), number=1, due_at=timezone.now() - timedelta(hours=2),
        status=RenewalAttempt.Status.FAILED, reason="insufficient_funds",
    )  # fmt: skip
    PaymentMethod.objects.create(customer=customer, gateway="sandbox", token="tok_wallet_alipay_x", brand="alipay")

    # The browser speaks English; the customer chose their language: the welcome is in theirs.
    log_in(page, base, user.email, PASSWORD)
    assert_language(page, language)
    expect(page.locator(".messages [role=status]").first).to_be_visible()
    if language == "zh-hans":
        assert "Successfully signed in" not in page.locator(".messages").inner_text()
    shot(page, f"wording-lines-{language}")
    expect(page.get_by_test_id("status-guidance").first).to_be_visible()

    page.goto(f"{base}/lines/{line.pk}/auto-renew/")
    assert_language(page, language)
    expect(page.get_by_test_id("attempt-reason")).to_be_visible()
    assert "insufficient_funds" not in page.content()
    shot(page, f"wording-auto-renew-{language}")

    page.goto(f"{base}/payment-methods/")
    expect(page.get_by_test_id("method").first).to_be_visible()
    if language == "zh-hans":
        assert "Alipay" not in page.get_by_test_id("method").first.inner_text()
    shot(page, f"wording-payment-methods-{language}")

    page.goto(f"{base}/orders/{order.pk}/")
    detail = page.get_by_test_id("order-detail")
    expect(detail).to_be_visible()
    text = detail.inner_text()
    assert "6%" in text and "0.0600" not in text and "CST" not in text
    shot(page, f"wording-receipt-{language}")

    # The receipt as mailed (the PDF's HTML), laid out by the same browser engine.
    sheet = page.context.new_page()  # about:blank: none of the site's CSP for its inline styles
    with translation.override(language), timezone.override("Asia/Shanghai"):
        sheet.set_content(render_to_string("receipts/receipt.html", receipt_context(order)))
    assert "0.0600" not in sheet.content() and "CST" not in sheet.content()
    shot(sheet, f"wording-receipt-pdf-{language}")
    sheet.close()

    page.goto(f"{base}/lines/{line.pk}/renew/")
    assert_language(page, language)
    shot(page, f"wording-renew-{language}")
    assert page.console_errors == []
