"""Searching the demo help centre as customers type: the words they use ("money back", "换手机"),
not the words of the titles, find the right article first, in English and in Chinese."""

import pytest
from django.test import Client
from django.urls import reverse

from refill.help import topics
from refill.help.demo import articles_seed
from tests.factories import make_market

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    make_market()
    make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    articles_seed()


def results(query: str, language: str) -> list:
    client = Client()
    client.cookies["refill_language"] = language
    response = client.get(reverse("help:search"), {"q": query})
    assert response.status_code == 200
    return response.context["hits"]


ENGLISH = [
    ("refund", topics.REFUNDS),
    ("refunds", topics.REFUNDS),
    ("refunded", topics.REFUNDS),
    ("money back", topics.REFUNDS),
    ("how do I get my money back?", topics.REFUNDS),
    ("esim not working", topics.ESIM_TROUBLESHOOTING),
    ("no signal", topics.ESIM_TROUBLESHOOTING),
    ("cancel", topics.AUTO_RENEW),
    ("new phone", topics.ESIM_NEW_PHONE),
    ("payment declined", topics.PAYMENT_DECLINED),
    ("card refused", topics.PAYMENT_DECLINED),
    ("iphone esim", topics.ESIM_IPHONE),
    ("samsung", topics.ESIM_SAMSUNG),
    ("pixel", topics.ESIM_PIXEL),
    ("port my number", topics.PORT_IN),
    ("roaming abroad", topics.ROAMING),
    ("keep my number", topics.KEEP_NUMBER),
    ("receipt", topics.RECEIPTS),
    ("invoice", topics.RECEIPTS),
    ("two factor", topics.TWO_FACTOR),
    ("delete my account", topics.DELETE_ACCOUNT),
    ("wallet balance", topics.WALLET),
    ("prices", topics.PLANS_PRICES),
    ("forgot password", topics.PASSWORD_RESET),
    ("password", topics.PASSWORD_RESET),
]
CHINESE = [
    ("退款", topics.REFUNDS),
    ("怎么退钱", topics.REFUNDS),
    ("换手机", topics.ESIM_NEW_PHONE),
    ("没信号", topics.ESIM_TROUBLESHOOTING),
    ("eSIM 用不了", topics.ESIM_TROUBLESHOOTING),
    ("扣款失败", topics.PAYMENT_DECLINED),
    ("取消自动续费", topics.AUTO_RENEW),
    ("携号转网", topics.PORT_IN),
    ("漫游", topics.ROAMING),
    ("保号", topics.KEEP_NUMBER),
    ("发票", topics.RECEIPTS),
    ("两步验证", topics.TWO_FACTOR),
    ("删除账户", topics.DELETE_ACCOUNT),
    ("忘记密码", topics.PASSWORD_RESET),
    ("密码", topics.PASSWORD_RESET),
    ("套餐价格", topics.PLANS_PRICES),
    ("充值卡", topics.REFILL_PINS),
    ("宽限期", topics.LINE_STATUS),
]


@pytest.mark.parametrize(("query", "topic"), ENGLISH)
def test_an_english_query_finds_the_right_article_first(seeded, query, topic):
    hits = results(query, "en")
    assert hits and hits[0].article.topic == topic, [hit.article.topic for hit in hits[:3]]


@pytest.mark.parametrize(("query", "topic"), CHINESE)
def test_a_chinese_query_finds_the_right_article_first(seeded, query, topic):
    hits = results(query, "zh-hans")
    assert hits and hits[0].article.topic == topic, [hit.article.topic for hit in hits[:3]]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_other_language_finds_the_same_article(seeded, language):
    # A customer reading in English may type Chinese, and the other way round.
    assert results("退款", language)[0].article.topic == topics.REFUNDS
    assert results("refund", language)[0].article.topic == topics.REFUNDS


def test_esim_not_working_does_not_bring_every_esim_article(seeded):
    hits = results("esim not working", "en")
    assert hits[0].article.topic == topics.ESIM_TROUBLESHOOTING
    # Only the eSIM articles, not every article that says "not" or "working".
    assert {hit.article.category for hit in hits} == {"esim"}


def test_the_order_is_the_same_every_time(seeded):
    first = [hit.article.pk for hit in results("esim", "en")]
    assert first == [hit.article.pk for hit in results("esim", "en")]
    assert len(first) > 1


@pytest.mark.parametrize(("language", "lang"), [("en", "en"), ("zh-hans", "zh-Hans")])
def test_a_query_that_matches_nothing_offers_the_most_asked_articles_and_support(seeded, language, lang):
    client = Client()
    client.cookies["refill_language"] = language
    response = client.get(reverse("help:search"), {"q": "zebra crossing"})
    page = response.content.decode()
    assert response.context["hits"] == []
    assert f'<html lang="{lang}"' in page
    assert 'data-testid="help-no-results"' in page and 'data-testid="help-popular"' in page
    assert [article.topic for article in response.context["popular"]] == list(topics.POPULAR)
    assert 'data-testid="help-contact"' in page and 'href="/support/new/"' in page


def test_a_query_that_matches_shows_no_suggestions(seeded):
    page = Client().get(reverse("help:search"), {"q": "refund"}).content.decode()
    assert 'data-testid="help-popular"' not in page
