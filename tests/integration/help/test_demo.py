"""The demo articles: one published every-market article per topic, in both languages, rendered
without surprises, and seeding twice changes nothing."""

import pytest
from django.test import Client
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.help import topics
from refill.help.demo import ARTICLES, articles_seed
from refill.help.markup import render_markup
from refill.help.models import Article
from refill.help.selectors import help_url

pytestmark = pytest.mark.django_db


def test_every_topic_gets_a_published_article_and_seeding_again_changes_nothing():
    assert articles_seed() == len(topics.TOPICS)
    articles = Article.objects.all()
    assert {article.topic for article in articles} == set(topics.TOPICS)
    for article in articles:
        assert article.status == Article.Status.PUBLISHED and article.market_id is None
        assert article.missing_languages() == []
        assert help_url(article.topic) == f"/help/{article.slug}/"
    audit_rows = AuditEvent.objects.filter(object_type="help.article").count()
    assert audit_rows == 2 * len(topics.TOPICS)
    assert articles_seed() == 0
    assert Article.objects.count() == len(topics.TOPICS)
    assert AuditEvent.objects.filter(object_type="help.article").count() == audit_rows


def test_an_article_staff_took_offline_is_not_put_back():
    articles_seed()
    Article.objects.filter(topic=topics.RENEW).update(status=Article.Status.DRAFT)
    assert articles_seed() == 0
    assert Article.objects.get(topic=topics.RENEW).status == Article.Status.DRAFT


def test_the_demo_articles_link_only_to_pages_that_exist_and_render_their_markup():
    paths = set()
    for demo in ARTICLES:
        for body in (demo.body_en, demo.body_zh_hans):
            html = str(render_markup(body))
            assert "**" not in html and "](" not in html, demo.slug
            paths.update(part.split('"')[0] for part in html.split('<a href="')[1:])
    assert paths == {
        "/lines/", "/orders/", "/wallet/", "/payment-methods/", "/accounts/login/", "/accounts/password/reset/",
        "/help/",
    }  # fmt: skip
    client = Client()
    for path in paths:
        assert client.get(path).status_code in (200, 302), path


def test_the_demo_articles_are_found_by_search_in_both_languages():
    articles_seed()
    client = Client()

    def first(query: str) -> str:
        return client.get(reverse("help:search"), {"q": query}).context["hits"][0].article.topic

    assert first("reset password") == topics.PASSWORD_RESET
    assert first("install eSIM on Android") == topics.ESIM_INSTALL
    assert first("refill PIN") == topics.REFILL_PINS
    assert first("spending cap") == topics.AUTO_RENEW
    client.cookies["refill_language"] = "zh-hans"
    assert first("重置密码") == topics.PASSWORD_RESET
    assert first("充值卡") == topics.REFILL_PINS
    assert first("宽限期") == topics.LINE_STATUS
    assert first("自动续费") == topics.AUTO_RENEW
