"""Back office wording a new user tripped on (h13, after issue 23): a refund is told in a sentence
that says where the money went, in the staff member's language."""

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.test import Client

from tests.factories import login, make_customer, make_line, make_staff, renew
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db


def _finance(language: str) -> Client:
    user = make_staff("finance", f"finance-{language}@example.com")
    client = Client()
    login(client, user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.mark.parametrize(
    ("language", "destination", "expected"),
    [
        ("en", "original", "Refunded $25.00 to the card."),
        ("en", "wallet", "Refunded $25.00 to the wallet."),
        ("zh-hans", "original", "已将 US$25.00 退回银行卡。"),
        ("zh-hans", "wallet", "已将 US$25.00 退回钱包。"),
    ],
)
def test_a_refund_is_told_in_a_sentence(us, us_plan, language, destination, expected):
    customer, _ = make_customer()
    order, _ = renew(make_line(customer, us, us_plan), us_plan)
    client = _finance(language)
    response = client.post(
        f"/backoffice/orders/{order.pk}/refund/",
        {
            "amount": "25.00",
            "destination": destination,
            "reason_code": "wrong_plan",
            "note": "",
            "idempotency_key": "k1",
        },
        follow=True,
    )
    said = [str(m) for m in get_messages(response.wsgi_request)] or [visible_text(response.content.decode())]
    assert any(expected in text for text in said) or expected in visible_text(response.content.decode())
    assert "Refund Refunded" not in visible_text(response.content.decode())
