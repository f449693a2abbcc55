"""One demo help article, as ``refill.help.demo.articles_seed`` publishes it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoArticle:
    topic: str
    category: str
    slug: str
    title_en: str
    title_zh_hans: str
    body_en: str
    body_zh_hans: str
    # What customers type that the text does not say; search weighs it above the body.
    keywords_en: str = ""
    keywords_zh_hans: str = ""
    # A market's code for that market's own article (it replaces the every-market one there);
    # empty for every market.
    market: str = ""
