"""A new user's findings on the back office (hfixa): market names in the page's language wherever a
market is named, decline reasons in words rather than codes, one percent format on the reports
page, a search placeholder that fits a phone, and a ways-to-pay page that tells the truth about
when a change applies (it applies at once, with a reason the server insists on)."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse

from refill.catalog.models import MarketPayMethod
from refill.domain.payment_methods import FAMILIES
from refill.renewals.models import RenewalAttempt
from tests.factories import login, make_customer, make_line, make_market, make_plan, make_staff

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 10, 15, tzinfo=UTC)


_staff = iter(range(1, 100))


def _client(language: str) -> Client:
    client = Client()
    user = make_staff("admin", f"admin-{next(_staff)}-{language}@example.com")
    login(client, user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def markets():
    us = make_market()
    cn = make_market(
        "cn", name="Mainland China", name_zh_hans="中国大陆", region="CN", currency="CNY", time_zone="Asia/Shanghai"
    )
    us_plan, cn_plan = make_plan(us, "us-30day", price="25.00"), make_plan(cn, "cn-30day", price="100.00")
    for number, (market, plan, msisdn) in enumerate(
        ((us, us_plan, "+12025550101"), (cn, cn_plan, "+8613800138001")), start=1
    ):
        customer, _ = make_customer(f"c{number}@example.com")
        line = make_line(customer, market, plan, msisdn=msisdn)
        line.period_end = NOW + timedelta(days=3)
        line.save(update_fields=["period_end"])
        RenewalAttempt.objects.create(
            line=line,
            cycle_end=NOW + timedelta(days=3),
            number=number,
            due_at=NOW,
            status="failed",
            reason="insufficient_funds",
            finished_at=NOW,
        )
    return us, cn


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_chinese_catalog_names_each_market_in_chinese(markets):
    html = _client("zh-hans").get(reverse("backoffice:catalog")).content.decode()
    headings = re.findall(r"<h2>([^<]+)<", html)
    assert sorted(name.strip() for name in headings) == ["中国大陆", "美国"]
    assert "Mainland China" not in html and "United States" not in html


@time_machine.travel(NOW, tick=False)
def test_chinese_reports_name_markets_in_chinese_and_declines_in_words(markets):
    client = _client("zh-hans")
    html = client.get(reverse("backoffice:reports"), {"date_from": "2025-06-09", "date_to": "2025-06-11"}).content
    html = html.decode()
    assert "中国大陆" in html and "美国" in html
    assert "Mainland China" not in html and "United States" not in html
    # The decline is told in words (the same words the dashboard uses), never as the raw code.
    assert "insufficient_funds" not in _text(html)
    assert "余额不足" in _text(html)


@time_machine.travel(NOW, tick=False)
def test_english_reports_show_the_decline_in_words_and_one_percent_format(markets):
    client = _client("en")
    html = client.get(reverse("backoffice:reports"), {"date_from": "2025-06-09", "date_to": "2025-06-11"}).content
    text = _text(html.decode())
    # The charts' hover titles too (the SVG's <title> inside each bar and point).
    text += " ".join(re.findall(r'title="([^"]*)"', html.decode()))
    assert "insufficient_funds" not in text
    assert "Not enough money" in text
    # The rate above the table and the rates in it are written the same way, the locale's way.
    rate = re.search(r'data-testid="autorenew-rate">(.*?)</p>', html.decode()).group(1)
    assert "0.0%" in _text(rate)
    assert not re.search(r"\d %", text), re.findall(r".{30}\d %.{10}", text)
    assert "0.0%" in re.search(r'data-testid="report-autorenew".*?<tfoot>.*?</tfoot>', html.decode(), re.S).group(0)


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_search_placeholder_is_short_and_the_full_text_stays_the_label(markets, language):
    html = _client(language).get(reverse("backoffice:index")).content.decode()
    field = re.search(r'<input[^>]*data-testid="dashboard-q"[^>]*>', html).group(0)
    placeholder = re.search(r'placeholder="([^"]*)"', field).group(1)
    label = re.search(r'aria-label="([^"]*)"', field).group(1)
    # A 390 px phone shows about 24 Latin characters (or 14 Chinese ones) in the field.
    assert len(placeholder) <= (24 if language == "en" else 12), placeholder
    assert placeholder != label and len(label) > len(placeholder)


def test_catalog_says_ways_to_pay_apply_at_once(markets):
    for language in ("en", "zh-hans"):
        html = _client(language).get(reverse("backoffice:catalog")).content.decode()
        assert 'data-testid="catalog-changes-note"' in html
    html = _client("en").get(reverse("backoffice:catalog")).content.decode()
    note = _text(re.search(r'data-testid="catalog-changes-note">(.*?)</p>', html, re.S).group(1))
    assert "ways to pay" in note.lower() and "at once" in note
    assert "Every change asks for a reason and shows what it would do" not in html


def test_a_blank_reason_is_refused_in_chinese_and_nothing_changes(markets):
    us, _ = markets
    client = _client("zh-hans")
    answer = client.post(
        reverse("backoffice:catalog_pay_methods", args=[us.pk]),
        {"method": list(FAMILIES), "on": ["card"], "action": "save", "reason": "   "},
    )
    assert answer.status_code == 400
    error = re.search(r'<p class="error" id="reason-error">([^<]+)</p>', answer.content.decode()).group(1)
    assert re.search(r"[\u4e00-\u9fff]", error), error
    assert not MarketPayMethod.objects.filter(market=us).exists()
