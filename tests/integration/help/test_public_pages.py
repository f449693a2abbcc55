"""The public help centre: who sees which articles, in which language, and what is not found."""

import pytest
from django.test import Client
from django.urls import reverse

from refill.help.models import Article
from tests.factories import login, make_customer, make_line, make_plan

from .conftest import make_article

pytestmark = pytest.mark.django_db


def slugs(response) -> list[str]:
    return [article.slug for _label, articles in response.context["groups"] for article in articles]


def chinese(client: Client) -> Client:
    client.cookies["refill_language"] = "zh-hans"
    return client


def test_the_index_groups_published_articles_by_category_for_anyone(client):
    make_article(slug="renewing", category=Article.Category.RENEWING, title_en="How to renew")
    make_article(slug="pins", category=Article.Category.REFILL_PINS, title_en="Refill PINs")
    make_article(slug="draft", status=Article.Status.DRAFT)
    response = client.get(reverse("help:index"))
    assert response.status_code == 200
    assert [str(label) for label, _articles in response.context["groups"]] == ["Renewing", "Refill PINs"]
    assert set(slugs(response)) == {"renewing", "pins"}
    assert b'data-testid="help-search"' in response.content


def test_an_article_is_shown_in_the_active_language(client):
    make_article(slug="renew", title_en="How to renew", title_zh_hans="如何续费", body_en="Press **Renew**.",
                 body_zh_hans="点击 **续费**。")  # fmt: skip
    page = client.get(reverse("help:article", args=["renew"])).content.decode()
    assert "How to renew" in page and "Press <strong>Renew</strong>." in page and "如何续费" not in page
    page = chinese(Client()).get(reverse("help:article", args=["renew"])).content.decode()
    assert 'lang="zh-Hans"' in page
    assert "如何续费" in page and "点击 <strong>续费</strong>。" in page and "How to renew" not in page


def test_a_draft_is_not_found_by_anyone(client, support):
    make_article(slug="draft", status=Article.Status.DRAFT)
    assert client.get(reverse("help:article", args=["draft"])).status_code == 404
    assert Client().get(reverse("help:article", args=["draft"])).status_code == 404
    assert client.get(reverse("help:article", args=["no-such-article"])).status_code == 404


def test_a_visitor_sees_the_default_market_and_every_market(client, us, cn, settings):
    settings.REFILL_DEFAULT_REGION = "US"
    make_article(slug="everywhere")
    make_article(slug="us-only", market=us)
    make_article(slug="cn-only", market=cn)
    assert set(slugs(client.get(reverse("help:index")))) == {"everywhere", "us-only"}
    assert client.get(reverse("help:article", args=["us-only"])).status_code == 200
    assert client.get(reverse("help:article", args=["cn-only"])).status_code == 404
    # An install whose region has no market: only the every-market articles.
    settings.REFILL_DEFAULT_REGION = "JP"
    assert set(slugs(client.get(reverse("help:index")))) == {"everywhere"}
    assert client.get(reverse("help:article", args=["us-only"])).status_code == 404


def test_a_customer_sees_the_markets_of_their_lines(client, us, cn):
    customer, user = make_customer("help-cn@example.com")
    make_line(customer, cn, make_plan(cn, "cn-30"), msisdn="+8613800138000")
    login(client, user)
    make_article(slug="us-only", market=us)
    make_article(slug="cn-only", market=cn)
    assert set(slugs(client.get(reverse("help:index")))) == {"cn-only"}
    # Another market's article is not found, even by its address.
    assert client.get(reverse("help:article", args=["us-only"])).status_code == 404
    assert client.get(reverse("help:article", args=["cn-only"])).status_code == 200


def test_a_markets_own_article_replaces_the_every_market_one_on_the_index(client, us):
    make_article(slug="renew-everywhere", topic="renew")
    make_article(slug="renew-us", topic="renew", market=us)
    make_article(slug="pins-everywhere", topic="refill-pins")
    assert set(slugs(client.get(reverse("help:index")))) == {"renew-us", "pins-everywhere"}
    # Old links to the every-market article still work.
    assert client.get(reverse("help:article", args=["renew-everywhere"])).status_code == 200


def test_an_empty_help_centre_says_so(client):
    response = client.get(reverse("help:index"))
    assert b'data-testid="help-empty"' in response.content
