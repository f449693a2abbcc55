"""The texts of the demo help articles, one data module per group of topics (the prose is long;
the code that publishes them is ``refill.help.demo``). The figures are the demo markets' settings
(grace 7 days, suspension 60, reactivation 15, refund offer after REFILL_ESIM_REFUND_AFTER_HOURS
= 48 hours, 3 eSIM downloads); an operator with other settings publishes its own articles."""

from __future__ import annotations

from . import account, esim, number, paying, renewing
from .article import DemoArticle

ARTICLES: tuple[DemoArticle, ...] = (
    *renewing.ARTICLES,
    *paying.ARTICLES,
    *esim.ARTICLES,
    *number.ARTICLES,
    *account.ARTICLES,
)

__all__ = ["ARTICLES", "DemoArticle"]
