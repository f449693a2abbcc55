"""The help pages' query counts do not grow with the number of articles."""

import pytest
from django.urls import reverse

from refill.help.models import Article

from .conftest import make_article, make_staff

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("count", [2, 40])
def test_the_help_index_and_search_cost_the_same_whatever_the_articles(
    client, us, cn, count, django_assert_max_num_queries
):
    for n in range(count):
        category = Article.Category.values[n % len(Article.Category.values)]
        make_article(category=category, market=(us if n % 3 == 0 else cn if n % 3 == 1 else None), topic=f"t{n}")
    client.get(reverse("help:index"))
    with django_assert_max_num_queries(3):
        page = client.get(reverse("help:index"))
    # a visitor's market is the install's (us): China's articles are not listed
    visible = Article.objects.exclude(market=cn).count()
    assert page.status_code == 200 and page.content.count(b'data-testid="help-article-link"') == visible
    with django_assert_max_num_queries(3):
        assert client.get(reverse("help:search"), {"q": "Article"}).status_code == 200


@pytest.mark.parametrize("count", [2, 40])
def test_the_staff_article_list_costs_the_same_whatever_the_articles(client, us, count, django_assert_max_num_queries):
    from tests.factories import login

    editor = make_staff("support")
    for n in range(count):
        make_article(market=us if n % 2 else None, updated_by=editor)
    login(client, editor)
    client.get(reverse("help_admin:articles"))
    with django_assert_max_num_queries(8):
        page = client.get(reverse("help_admin:articles"))
    assert page.status_code == 200
