"""The renewal confirmation goes through the task queue and a real SMTP server on loopback."""

import pytest
from django.core.management import call_command
from django.utils import timezone

from refill.notifications.models import Notification
from tests.factories import make_30day_plan, make_customer, make_line, make_market, make_plan, renew
from tests.smtp_server import LoopbackSmtp

pytestmark = pytest.mark.django_db(transaction=True)


def _run_worker():
    # The real worker, draining the queue once: the same path the demo and production take.
    call_command("db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload", verbosity=0)


def _in_service(smtp, line, plan):
    """The line's first purchase is its activation (a welcome email, and the eSIM's own mail): these
    tests are about renewing a line in service, so it is activated first and its mail set aside."""
    renew(line, plan)
    _run_worker()
    smtp.messages.clear()


@pytest.mark.parametrize(
    ("language", "subject_words", "body_words"),
    [
        (
            "en",
            "Renewal confirmed for +1 202-555-0143",
            ["Thank you. Your number +1 202-555-0143 is renewed.", "Receipt number", "$25.00", "30-Day Plan"],
        ),
        ("zh-hans", "+1 202-555-0143", ["续费", "收据编号", "US$25.00", "30天套餐"]),
    ],
)
def test_confirmation_email_in_the_customers_language(settings, language, subject_words, body_words):
    with LoopbackSmtp() as smtp:
        settings.MAILERS = smtp.mailers_setting()
        market = make_market()
        plan = make_30day_plan(market)
        customer, user = make_customer("subscriber@example.com", language=language)
        line = make_line(customer, market, plan, msisdn="+12025550143")
        _in_service(smtp, line, plan)
        order, _ = renew(line, plan, now=timezone.now())
        assert smtp.messages == []  # nothing leaves before the worker runs the task
        _run_worker()
        _run_worker()  # a second run sends nothing more
        assert len(smtp.messages) == 1
        message = smtp.messages[0]
        assert message["To"] == "subscriber@example.com"
        assert subject_words in message["Subject"]
        assert message["Content-Language"] == language
        text = message.get_body(preferencelist=("plain",)).get_content()
        html = message.get_body(preferencelist=("html",)).get_content()
        for words in body_words:
            assert words in text, words
        assert order.receipt.display_number in text and order.receipt.display_number in html
        if language == "zh-hans":
            assert "续费成功" in message["Subject"] or "续费" in message["Subject"]
        attachments = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
        assert len(attachments) == 1 and attachments[0].get_filename() == f"receipt-{order.receipt.display_number}.pdf"
        assert attachments[0].get_content().startswith(b"%PDF")
        notification = Notification.objects.get(rule="order_confirmation", subject_key=f"order:{order.pk}")
        assert notification.status == "sent"


def test_the_confirmation_and_receipt_show_what_promotions_took_off_and_gave(settings):
    from datetime import timedelta
    from decimal import Decimal

    from django.template.loader import render_to_string
    from django.utils import translation

    from refill.orders.receipts import receipt_context
    from refill.promotions.models import Promotion

    with LoopbackSmtp() as smtp:
        settings.MAILERS = smtp.mailers_setting()
        market = make_market()
        plan = make_30day_plan(market)
        start = timezone.now() - timedelta(days=1)
        Promotion.objects.create(market=market, code="SAVE5", name_en="Five off", name_zh_hans="立减五元",
                                 kind="amount_off", amount=Decimal(5), exclusive=False, starts_at=start)  # fmt: skip
        Promotion.objects.create(market=market, name_en="Bonus data", name_zh_hans="赠送流量", kind="bonus_allowance",
                                 bonus_data_mb=2048, exclusive=False, starts_at=start, priority=200)  # fmt: skip
        customer, _ = make_customer("promoted@example.com", language="zh-hans")
        line = make_line(customer, market, plan, msisdn="+12025550143")
        order, _ = renew(line, plan, promotion_code="save5")
        _run_worker()
        text = smtp.messages[0].get_body(preferencelist=("plain",)).get_content()
        assert "立减五元：−US$5.00" in text and "赠送流量；赠送：2 GB" in text and "US$20.00" in text
        with translation.override("en"):
            receipt = render_to_string("receipts/receipt.html", receipt_context(order))
        assert "Five off (SAVE5)" in receipt and "−$5.00" in receipt and "Bonus: 2 GB" in receipt
        assert "Discount" in receipt and "$20.00" in receipt


def test_a_resend_asked_by_staff_sends_the_confirmation_again_once(settings):
    from refill.notifications.services import order_confirmation_send

    with LoopbackSmtp() as smtp:
        settings.MAILERS = smtp.mailers_setting()
        market = make_market()
        plan = make_plan(market, "us-30day")
        customer, _ = make_customer("resend@example.com")
        line = make_line(customer, market, plan, msisdn="+12025550143")
        _in_service(smtp, line, plan)
        order, _ = renew(line, plan)
        _run_worker()
        order_confirmation_send(order_id=order.pk, resend="audit-1")
        order_confirmation_send(order_id=order.pk, resend="audit-1")  # the same request: once
        assert len(smtp.messages) == 2
        assert (
            Notification.objects.filter(rule="order_confirmation", subject_key__startswith=f"order:{order.pk}").count()
            == 2
        )
