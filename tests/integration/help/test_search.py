"""Searching the help centre in English and in Chinese: tokens, ranking, and only what the visitor
may see."""

import pytest
from django.test import Client
from django.urls import reverse

from refill.help.models import Article
from refill.help.search import query_tokens, tokens

from .conftest import make_article

pytestmark = pytest.mark.django_db


def found(client: Client, query: str) -> list[str]:
    response = client.get(reverse("help:search"), {"q": query})
    assert response.status_code == 200
    return [hit.article.slug for hit in response.context["hits"]]


def test_english_tokens_fold_case_and_plurals():
    assert tokens("Refill PINs and Cards") == ["refill", "pin", "and", "card"]
    assert query_tokens("How do I renew my lines?") == ["renew", "line"]
    assert tokens("batteries") == ["battery"]


def test_chinese_is_searched_by_pairs_of_characters():
    assert query_tokens("重置密码") == ["重置", "置密", "密码"]
    assert query_tokens("卡") == ["卡"]
    assert set(tokens("充值卡")) >= {"充值", "值卡", "充", "值", "卡"}


def test_english_search_ranks_title_matches_above_body_matches(client):
    make_article(slug="body", title_en="Paying", body_en="You can redeem a refill PIN card in your wallet.")
    make_article(slug="title", title_en="How refill PINs work", body_en="Redeem it in the wallet.")
    make_article(slug="other", title_en="Reset your password", body_en="Use the emailed link.")
    assert found(client, "refill pin") == ["title", "body"]
    assert found(client, "REFILL PINS") == ["title", "body"]
    assert found(client, "password") == ["other"]


def test_chinese_search_matches_without_spaces_and_ranks_titles_first(client):
    make_article(slug="body", title_zh_hans="钱包", body_zh_hans="您可以在钱包中兑换充值卡。")
    make_article(slug="title", title_zh_hans="充值卡如何使用", body_zh_hans="在钱包中兑换。")
    make_article(slug="password", title_zh_hans="如何重置密码", body_zh_hans="打开邮件中的链接。")
    assert found(client, "充值卡") == ["title", "body"]
    assert found(client, "怎么重置密码") == ["password"]
    assert found(client, "密码忘了") == ["password"]
    assert sorted(found(client, "兑换")) == ["body", "title"]


def test_results_are_shown_in_the_active_language_with_an_excerpt(client):
    make_article(slug="pins", title_en="Refill PINs", title_zh_hans="充值卡",
                 body_en="Redeem a refill PIN in the wallet.", body_zh_hans="在钱包中兑换充值卡。")  # fmt: skip
    client.cookies["refill_language"] = "zh-hans"
    page = client.get(reverse("help:search"), {"q": "充值卡"}).content.decode()
    assert "充值卡" in page and "在钱包中兑换充值卡。" in page and "Redeem a refill PIN" not in page
    page = Client().get(reverse("help:search"), {"q": "refill"}).content.decode()
    assert "Redeem a refill PIN in the wallet." in page


def test_a_long_body_gets_an_excerpt_around_the_match(client):
    body = "Intro text. " * 40 + "The cap stops auto-renew from spending too much. " + "More text. " * 40
    make_article(slug="cap", body_en=body)
    page = client.get(reverse("help:search"), {"q": "cap"}).content.decode()
    assert "The cap stops auto-renew" in page
    assert "…" in page


def test_drafts_and_other_markets_are_never_found(client, us, cn):
    make_article(slug="draft", title_en="Refill PINs draft", status=Article.Status.DRAFT)
    make_article(slug="cn", title_en="Refill PINs in China", market=cn)
    make_article(slug="us", title_en="Refill PINs in the US", market=us)
    make_article(slug="everywhere", title_en="Refill PINs")
    assert sorted(found(client, "refill pins")) == ["everywhere", "us"]


def test_an_empty_or_too_long_query_is_answered_with_a_message(client):
    make_article(title_en="Anything")
    for query in ("", "   "):
        response = client.get(reverse("help:search"), {"q": query})
        assert response.status_code == 200
        assert response.context["hits"] is None
        assert "Type a few words to search for." in response.content.decode()
    response = client.get(reverse("help:search"), {"q": "x" * 101})
    assert response.context["hits"] is None
    assert "Use at most 100 characters." in response.content.decode()
    assert b'data-testid="help-search-error"' in response.content


def test_nothing_found_says_so(client):
    make_article(title_en="Renewing")
    response = client.get(reverse("help:search"), {"q": "zebra"})
    assert response.context["hits"] == []
    assert b'data-testid="help-no-results"' in response.content


def test_the_forms_of_an_english_word_meet():
    assert set(tokens("refund refunds refunded refunding")) == {"refund"}
    assert len(set(tokens("charge charges charged charging"))) == 1
    assert len(set(tokens("decline declined declines"))) == 1
    assert tokens("stopped working") == tokens("stop works")
    assert tokens("install installed installing") == ["install"] * 3
    assert tokens("line lines") == ["line", "line"]


def test_search_words_rank_between_the_title_and_the_body(client):
    make_article(slug="body", title_en="Paying", body_en="We send your money back to the card.")
    make_article(slug="keywords", title_en="Refunds", keywords_en="money back, reimburse")
    make_article(slug="title", title_en="Money back guarantee", body_en="Nothing else.")
    assert found(client, "money back") == ["title", "keywords", "body"]
    assert found(client, "reimbursed") == ["keywords"]


def test_chinese_search_words_are_searched_by_pairs_too(client):
    make_article(slug="move", title_zh_hans="把号码转到新设备", keywords_zh_hans="换手机，新手机")
    make_article(slug="other", title_zh_hans="手机设置", body_zh_hans="打开设置。")
    assert found(client, "换手机")[0] == "move"


def test_only_the_articles_holding_most_of_the_query_are_kept(client):
    make_article(slug="fix", title_en="eSIM not working", body_en="Restart the phone.")
    make_article(slug="install", title_en="Install your eSIM", body_en="Scan the code.")
    make_article(slug="pay", title_en="Paying", body_en="Cards that are not working.")
    assert found(client, "esim not working") == ["fix"]


def test_equal_matches_keep_a_stable_order(client):
    for number in (3, 1, 2):
        make_article(slug=f"same-{number}", title_en=f"Wallet {number}", body_en="Top up the wallet.")
    assert found(client, "wallet") == ["same-1", "same-2", "same-3"]
    assert found(client, "wallet") == ["same-1", "same-2", "same-3"]
