"""Markets, articles and staff the help centre tests share."""

from __future__ import annotations

import itertools

import pytest

from refill.customers.models import User
from refill.help.models import Article
from tests.factories import login, make_market
from tests.factories import make_staff as _make_staff

_seq = itertools.count(1)


@pytest.fixture
def us():
    return make_market()


@pytest.fixture
def cn():
    return make_market("cn", name="China", region="CN", currency="CNY", time_zone="Asia/Shanghai")


def make_article(**fields) -> Article:
    """A published every-market article complete in both languages, with ``fields`` changed."""
    number = next(_seq)
    values = dict(
        category=Article.Category.RENEWING,
        slug=f"article-{number}",
        title_en=f"Article {number}",
        title_zh_hans=f"文章 {number}",
        body_en="Some text.",
        body_zh_hans="一些文字。",
        status=Article.Status.PUBLISHED,
    )
    values.update(fields)
    return Article.objects.create(**values)


def make_staff(role: str, email: str | None = None) -> User:
    return _make_staff(role, email or f"{role}-help@example.com")


@pytest.fixture
def support(client):
    user = make_staff("support")
    login(client, user)
    return user
