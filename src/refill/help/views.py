"""The public help centre: the index by category with a search box, search results, and one
article, in the active language. Only the published articles of the visitor's markets and of every
market are shown (``selectors.visitor_market_ids``); anything else is not found."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors, topics
from .forms import SearchForm
from .markup import render_markup
from .models import Article
from .search import articles_search


def _by_category(articles: list[Article]) -> list[tuple[str, list[Article]]]:
    groups = []
    for value, label in Article.Category.choices:
        inside = sorted((a for a in articles if a.category == value), key=lambda a: (a.title.casefold(), a.pk))
        if inside:
            groups.append((label, inside))
    return groups


def index(request: HttpRequest) -> HttpResponse:
    articles = selectors.articles_visible(market_ids=selectors.visitor_market_ids(request))
    return render(request, "help/index.html", {"groups": _by_category(articles), "form": SearchForm()})


def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET)
    hits = None
    popular: list[Article] = []
    if form.is_valid():
        market_ids = selectors.visitor_market_ids(request)
        hits = articles_search(articles=selectors.articles_visible(market_ids=market_ids), query=form.cleaned_data["q"])
        if not hits:
            # Nothing matched: the most asked articles and a person, rather than a dead end.
            market = selectors.request_market(request)
            found = (selectors.article_for_topic(topic, market=market) for topic in topics.POPULAR)
            popular = [article for article in found if article is not None]
    return render(request, "help/search.html", {"form": form, "hits": hits, "popular": popular})


def article(request: HttpRequest, slug: str) -> HttpResponse:
    found = selectors.article_for_visitor(slug=slug, market_ids=selectors.visitor_market_ids(request))
    return render(
        request,
        "help/article.html",
        {"article": found, "body_html": render_markup(found.body), "form": SearchForm()},
    )
