"""The demo data as `make run` loads it (refill.demo.seed): someone trying the back office for the
first time finds today's figures on its first page, not zeros, because the demo has activity on
the day it is loaded ("today" in the operator's zone), made through the real services."""

import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.backoffice.dashboard import dashboard, operator_today
from refill.catalog.selectors import market_pay_methods_on
from refill.customers.models import User
from refill.demo.seed import demo_seed
from refill.orders.models import Order
from refill.renewals.models import RenewalAttempt
from refill.support.models import Ticket
from tests.factories import login
from tests.pagetext import visible_text

pytestmark = pytest.mark.django_db

# 15:00 in New York (UTC-5 in March), the operator's zone.
AFTERNOON_NEW_YORK = datetime(2027, 3, 2, 20, 0, tzinfo=UTC)


@pytest.fixture
def demo(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.REFILL_DEFAULT_TIME_ZONE = "America/New_York"
    with time_machine.travel(AFTERNOON_NEW_YORK, tick=True):
        assert demo_seed()
        yield


def test_the_back_office_dashboard_of_a_new_demo_shows_todays_figures(demo, client):
    admin = User.objects.get(email="admin@example.com")  # the demo's administrator sees every figure
    board = dashboard(admin)
    today = operator_today()
    assert board.today.day == today.day == AFTERNOON_NEW_YORK.date()
    # renewals paid today, through the real order services, and what they brought in
    assert board.renewals >= 3
    assert board.revenue and all(row.amount > 0 for row in board.revenue)
    paid_today = Order.objects.filter(status="paid", paid_at__gte=today.start, paid_at__lt=today.end)
    assert paid_today.count() == board.renewals
    assert all(order.payments.filter(status="succeeded").exists() for order in paid_today)
    # one auto-renewal the bank declined today, with why, and its line in need of attention
    assert board.failed_today == 1 and board.attention == 1
    failed = RenewalAttempt.objects.get(status="failed")
    assert failed.reason == "insufficient_funds" and today.start <= failed.finished_at < today.end
    assert board.attention_lines[0].pk == failed.line_id and board.attention_lines[0].failed_reason_text
    assert RenewalAttempt.objects.filter(line=failed.line, number=2, status="due").exists()  # retried later
    # and a support request waiting for an answer, opened today about that line
    assert board.tickets_waiting == 1
    waiting = Ticket.objects.get(awaiting_since__isnull=False)
    assert waiting.line_id == failed.line_id and today.start <= waiting.created_at < today.end

    # the first page says so: the failed renewal and the waiting request stand out, the line is listed
    login(client, admin)
    body = client.get(reverse("backoffice:index")).content.decode()
    for figure in ("failed-today", "tickets"):
        assert re.search(rf'class="tile tile-warn"[^>]*data-testid="figure-{figure}"', body), figure
    assert "Sam Rivera" in visible_text(body)


def test_loading_the_demo_again_changes_nothing(demo):
    before = (Order.objects.count(), RenewalAttempt.objects.count(), Ticket.objects.count())
    assert demo_seed() is False
    assert (Order.objects.count(), RenewalAttempt.objects.count(), Ticket.objects.count()) == before


def test_the_demo_markets_have_their_ways_to_pay_shown_in_the_back_office(demo, client):
    """China's checkouts offer the wallet, 支付宝 and 微信支付 before cards, PayPal and Apple Pay off; the
    US offers saved cards, a new card, Apple Pay and PayPal first (issue 28)."""
    assert market_pay_methods_on("cn") == ["wallet", "alipay", "wechat_pay", "card", "saved", "wallet_card", "pin"]
    assert market_pay_methods_on("us")[:4] == ["saved", "card", "apple_pay", "paypal"]
    login(client, User.objects.get(email="catalog@example.com"))
    body = client.get(reverse("backoffice:catalog")).content.decode()
    shown = dict(re.findall(r'data-testid="market-([a-z]+)".*?data-testid="pay-methods">([^<]*)', body, re.S))
    assert shown["cn"].startswith("The wallet · Alipay · WeChat Pay · A new card")
    assert shown["us"].startswith("Saved cards · A new card · Apple Pay · PayPal")
    assert AuditEvent.objects.filter(action="market.pay_methods_changed").count() == 2
