"""In-context links: ``help_url`` and ``{% help_url %}`` find a topic's article, the market's own
first, then the every-market one, else the help index."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse

from refill.help import topics
from refill.help.models import Article
from refill.help.selectors import help_url
from tests.factories import make_customer, make_line, make_plan

from .conftest import make_article

pytestmark = pytest.mark.django_db


def test_the_markets_own_article_then_the_every_market_one_then_the_index(us, cn):
    assert help_url(topics.PAYMENT_DECLINED) == reverse("help:index")
    assert help_url(topics.PAYMENT_DECLINED, market=us) == reverse("help:index")
    make_article(slug="declined", topic=topics.PAYMENT_DECLINED)
    assert help_url(topics.PAYMENT_DECLINED) == "/help/declined/"
    assert help_url(topics.PAYMENT_DECLINED, market=us) == "/help/declined/"
    make_article(slug="declined-us", topic=topics.PAYMENT_DECLINED, market=us)
    assert help_url(topics.PAYMENT_DECLINED, market=us) == "/help/declined-us/"
    assert help_url(topics.PAYMENT_DECLINED, market=cn) == "/help/declined/"
    assert help_url(topics.PAYMENT_DECLINED) == "/help/declined/"


def test_drafts_are_never_linked(us):
    make_article(slug="draft-us", topic=topics.RENEW, market=us, status=Article.Status.DRAFT)
    make_article(slug="draft", topic=topics.RENEW, status=Article.Status.DRAFT)
    assert help_url(topics.RENEW, market=us) == reverse("help:index")


def render(request, text: str) -> str:
    return Template("{% load help_tags %}" + text).render(Context({"request": request}))


def test_the_template_tag_uses_the_customers_market(us, cn, settings):
    settings.REFILL_DEFAULT_REGION = "US"
    make_article(slug="renew-us", topic=topics.RENEW, market=us)
    make_article(slug="renew-cn", topic=topics.RENEW, market=cn)
    make_article(slug="renew", topic=topics.RENEW)
    customer, user = make_customer("help-tag@example.com")
    make_line(customer, cn, make_plan(cn, "cn-30"), msisdn="+8613800138001")
    request = RequestFactory().get("/")
    request.user = user
    assert render(request, '{% help_url "renew" %}') == "/help/renew-cn/"
    # A page about one line passes that line's market.
    tag = Template('{% load help_tags %}{% help_url "renew" market=market %}')
    assert tag.render(Context({"request": request, "market": us})) == "/help/renew-us/"
    # Someone not logged in: the install's default market.
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    assert render(request, '{% help_url "renew" %}') == "/help/renew-us/"
    assert render(request, '{% help_url "no-such-topic" %}') == "/help/"


def test_the_template_tag_takes_a_market():
    market_less = Template('{% load help_tags %}{% help_url "renew" market=market %}')
    assert market_less.render(Context({"market": None})) == "/help/"


def test_every_topic_has_a_key():
    # Keys never change once pages link to them: the first ten stay, the others were added.
    assert len(set(topics.TOPICS)) == len(topics.TOPICS) == 26
    assert {"renew", "auto-renew", "payment-declined", "esim-install", "line-status", "refill-pins",
            "password-reset", "site-not-loading", "page-not-found", "access-denied"} < set(topics.TOPICS)  # fmt: skip
    assert {"plans-prices", "refunds", "esim-new-phone", "esim-troubleshooting", "esim-iphone", "esim-samsung",
            "esim-pixel", "port-in", "port-out", "roaming", "keep-number", "wallet", "receipts", "two-factor",
            "delete-account", "contact-support"} < set(topics.TOPICS)  # fmt: skip
    assert set(topics.POPULAR) <= set(topics.TOPICS)


def test_every_topic_opens_a_support_request_in_a_category():
    from refill.support.models import CATEGORY_FOR_TOPIC

    assert set(CATEGORY_FOR_TOPIC) == set(topics.TOPICS)
