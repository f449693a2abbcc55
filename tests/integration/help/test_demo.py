"""The demo articles: a published every-market article per topic and the demo markets' own where
their figures differ, in both languages, at least 25 a visitor sees per language, links that all
lead somewhere, and seeding twice changes nothing."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.help import topics
from refill.help.demo import ARTICLES, articles_seed
from refill.help.markup import render_markup
from refill.help.models import Article
from refill.help.selectors import article_for_topic, articles_visible, help_url
from tests.factories import login, make_customer, make_line, make_market, make_plan

pytestmark = pytest.mark.django_db

MARKET_ARTICLES = [demo for demo in ARTICLES if demo.market]


@pytest.fixture
def markets():
    us = make_market()
    cn = make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    return us, cn


def test_every_topic_gets_a_published_article_and_seeding_again_changes_nothing(markets):
    assert articles_seed() == len(topics.TOPICS) + len(MARKET_ARTICLES)
    everywhere = Article.objects.filter(market__isnull=True)
    assert sorted(article.topic for article in everywhere) == sorted(topics.TOPICS)
    for article in Article.objects.all():
        assert article.status == Article.Status.PUBLISHED
        assert article.missing_languages() == []
        assert article.keywords_en.strip() and article.keywords_zh_hans.strip(), article.slug
    for article in everywhere:
        assert help_url(article.topic) == f"/help/{article.slug}/"
    audit_rows = AuditEvent.objects.filter(object_type="help.article").count()
    assert audit_rows == 2 * Article.objects.count()
    assert articles_seed() == 0
    assert Article.objects.count() == len(topics.TOPICS) + len(MARKET_ARTICLES)
    assert AuditEvent.objects.filter(object_type="help.article").count() == audit_rows


def test_a_market_that_does_not_exist_gets_no_article_of_its_own():
    assert articles_seed() == len(topics.TOPICS)
    assert not Article.objects.filter(market__isnull=False).exists()


def test_each_demo_market_reads_its_own_plans_and_prices(markets):
    us, cn = markets
    articles_seed()
    assert article_for_topic(topics.PLANS_PRICES, market=us).slug == "plans-and-prices-united-states"
    assert article_for_topic(topics.PLANS_PRICES, market=cn).slug == "plans-and-prices-mainland-china"
    assert "$25.00" in article_for_topic(topics.PLANS_PRICES, market=us).body_en
    assert "68.00 元" in article_for_topic(topics.PLANS_PRICES, market=cn).body_zh_hans


@pytest.mark.parametrize("code", ["us", "cn"])
def test_each_market_sees_at_least_25_articles_in_each_language_and_every_topic(markets, code):
    market = {m.code: m for m in markets}[code]
    articles_seed()
    visible = articles_visible(market_ids=[market.pk])
    assert len([a for a in visible if a.title_en.strip() and a.body_en.strip()]) >= 25
    assert len([a for a in visible if a.title_zh_hans.strip() and a.body_zh_hans.strip()]) >= 25
    assert sorted(a.topic for a in visible) == sorted(topics.TOPICS)  # one article per topic
    for topic in topics.TOPICS:
        article = article_for_topic(topic, market=market)
        assert article is not None and article.missing_languages() == [], topic


def test_the_help_index_lists_every_article_in_both_languages(markets):
    articles_seed()
    for language, lang in (("en", "en"), ("zh-hans", "zh-Hans")):
        client = Client()
        client.cookies["refill_language"] = language
        page = client.get(reverse("help:index")).content.decode()
        assert f'<html lang="{lang}"' in page
        for article in articles_visible(market_ids=[markets[0].pk]):
            assert f'href="/help/{article.slug}/"' in page, article.slug


def _linked_paths() -> set[str]:
    paths = set()
    for demo in ARTICLES:
        for body in (demo.body_en, demo.body_zh_hans):
            html = str(render_markup(body))
            assert "**" not in html and "](" not in html, demo.slug
            paths.update(part.split('"')[0] for part in html.split('<a href="')[1:])
    return paths


def test_every_link_in_the_demo_articles_leads_to_a_page(markets):
    us, _cn = markets
    articles_seed()
    customer, user = make_customer()
    make_line(customer, us, make_plan(us))
    client = Client()
    login(client, user)
    paths = _linked_paths()
    assert all(path.startswith("/") for path in paths), "links stay on this site"
    slugs = set(Article.objects.values_list("slug", flat=True))
    for path in sorted(paths):
        article = re.fullmatch(r"/help/([a-z0-9-]+)/", path)
        if article:
            assert article.group(1) in slugs, path
        # Followed to the end: a page that asks for the password again, or the log in page that
        # sends a logged-in customer on to their lines, is a page too; a 404 is not.
        response = client.get(path, follow=True)
        assert response.status_code == 200, (path, response.status_code)


def test_an_article_staff_took_offline_is_not_put_back():
    articles_seed()
    Article.objects.filter(topic=topics.RENEW).update(status=Article.Status.DRAFT)
    assert articles_seed() == 0
    assert Article.objects.get(topic=topics.RENEW).status == Article.Status.DRAFT
