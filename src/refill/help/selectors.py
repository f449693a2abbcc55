"""Reads of the help centre: which articles a visitor may see, one article by its address, the
link for a topic, and the back office's list."""

from __future__ import annotations

from collections import defaultdict

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse

from refill.catalog.models import Market
from refill.lines.models import Line

from .models import Article


def default_market() -> Market | None:
    """The install's own market: the first one in ``settings.REFILL_DEFAULT_REGION``."""
    return Market.objects.filter(region=settings.REFILL_DEFAULT_REGION).order_by("pk").first()


def visitor_market_ids(request: HttpRequest) -> list[int]:
    """The markets whose articles a visitor sees: a customer's are the markets of their lines;
    anyone else's (or a customer without lines) is the install's default market, if there is one."""
    customer = getattr(request.user, "customer", None) if request.user.is_authenticated else None
    if customer is not None:
        ids = sorted(set(Line.objects.filter(owner=customer).values_list("market_id", flat=True)))
        if ids:
            return ids
    market = default_market()
    return [market.pk] if market else []


def request_market(request: HttpRequest) -> Market | None:
    """The one market in-context links are for: a customer's first line's, else the default."""
    customer = getattr(request.user, "customer", None) if request.user.is_authenticated else None
    if customer is not None:
        line = Line.objects.filter(owner=customer).select_related("market").order_by("pk").first()
        if line is not None:
            return line.market
    return default_market()


def articles_published(*, market_ids: list[int]) -> QuerySet[Article]:
    """Every published article for these markets and for every market."""
    return Article.objects.filter(Q(market__isnull=True) | Q(market_id__in=market_ids), status=Article.Status.PUBLISHED)


def articles_visible(*, market_ids: list[int]) -> list[Article]:
    """What the help index shows for these markets: their published articles, and the
    every-market ones, except those every one of these markets has replaced with its own."""
    articles = list(articles_published(market_ids=market_ids).order_by("category", "title_en", "pk"))
    replaced_in: dict[str, set[int]] = defaultdict(set)
    for article in articles:
        if article.topic and article.market_id is not None:
            replaced_in[article.topic].add(article.market_id)
    wanted = set(market_ids)
    return [
        article
        for article in articles
        if not (article.market_id is None and article.topic and wanted and replaced_in[article.topic] >= wanted)
    ]


def article_for_visitor(*, slug: str, market_ids: list[int]) -> Article:
    """The published article at ``slug`` if the visitor may see it, else 404 (a draft or another
    market's article is as unknown as a made-up address)."""
    article = articles_published(market_ids=market_ids).filter(slug=slug).first()
    if article is None:
        raise Http404
    return article


def article_for_topic(topic: str, *, market: Market | None = None) -> Article | None:
    """The published article for ``topic``: the market's own first, then the every-market one."""
    found = Article.objects.filter(topic=topic, status=Article.Status.PUBLISHED)
    if market is not None:
        own = found.filter(market=market).first()
        if own is not None:
            return own
    return found.filter(market__isnull=True).first()


def help_url(topic: str, *, market: Market | None = None) -> str:
    """The address of the published article for ``topic`` (``refill.help.topics``) in ``market``,
    else of the every-market one, else of the help index."""
    article = article_for_topic(topic, market=market)
    if article is None:
        return reverse("help:index")
    return reverse("help:article", args=[article.slug])


EVERY_MARKET = "every"


def articles_for_staff(*, status: str = "", market: str = "", category: str = "", text: str = "") -> QuerySet[Article]:
    """The back office's list: ``market`` is a market's id, ``EVERY_MARKET`` (articles for every
    market) or empty (all); ``text`` is looked for in the titles, topic and address."""
    articles = Article.objects.select_related("market", "updated_by").order_by("category", "title_en", "pk")
    if status in Article.Status.values:
        articles = articles.filter(status=status)
    if market == EVERY_MARKET:
        articles = articles.filter(market__isnull=True)
    elif market.isdigit():
        articles = articles.filter(market_id=int(market))
    if category in Article.Category.values:
        articles = articles.filter(category=category)
    text = text.strip()
    if text:
        articles = articles.filter(
            Q(title_en__icontains=text)
            | Q(title_zh_hans__icontains=text)
            | Q(topic__icontains=text)
            | Q(slug__icontains=text)
        )
    return articles
