"""Publishing the help centre's demo articles (their texts: ``refill.help.demo_articles``): an
every-market article for each topic in ``refill.help.topics``, and the demo markets' own articles
where their figures differ (plans and prices), in English and Simplified Chinese, naming the
portal's real pages and buttons."""

from __future__ import annotations

from django.db import transaction

from refill.catalog.models import Market

from . import services
from .demo_articles import ARTICLES, DemoArticle
from .models import Article

__all__ = ["ARTICLES", "DemoArticle", "articles_seed"]


def articles_seed() -> int:
    """Create and publish each demo article whose topic has no article yet in its market (every
    market, or the demo market it is written for; in any state: one staff took offline is not put
    back). A market's article is skipped where that market does not exist. Safe to run again:
    returns how many were created, 0 the second time."""
    markets = {market.code: market for market in Market.objects.all()}
    created = 0
    for demo in ARTICLES:
        market = markets.get(demo.market) if demo.market else None
        if demo.market and market is None:
            continue
        with transaction.atomic():
            if Article.objects.filter(topic=demo.topic, market=market).exists():
                continue
            slug = "" if Article.objects.filter(slug=demo.slug).exists() else demo.slug
            article = services.article_create(
                values={
                    "topic": demo.topic,
                    "market": market,
                    "category": demo.category,
                    "slug": slug,
                    "title_en": demo.title_en,
                    "title_zh_hans": demo.title_zh_hans,
                    "body_en": demo.body_en,
                    "body_zh_hans": demo.body_zh_hans,
                    "keywords_en": demo.keywords_en,
                    "keywords_zh_hans": demo.keywords_zh_hans,
                },
                actor=None,
            )
            services.article_publish(article=article, actor=None)
            created += 1
    return created
