"""The help centre on a phone, in both languages: the index lists every topic, a customer's words
find the right article first, a search that finds nothing offers the most asked articles and
support, and two articles read well. Screenshots: var/screenshots/help-<language>-*.png."""

import pytest
from playwright.sync_api import expect

from refill.help import topics
from refill.help.demo import articles_seed
from refill.help.selectors import article_for_topic
from tests.e2e.helpers import assert_language, choose_language
from tests.factories import make_market

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUERIES = {"en": ("esim not working", "money back"), "zh-hans": ("没信号", "退款")}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_help_centre_on_a_phone(live_server, phone_page, shot, language):
    base, page = live_server.url, phone_page
    us = make_market()
    make_market("cn", name="Mainland China", region="CN", currency="CNY", time_zone="Asia/Shanghai")
    articles_seed()
    choose_language(page, base, language)

    # the index lists an article for every topic
    page.goto(base + "/help/")
    assert_language(page, language)
    expect(page.get_by_test_id("help-article-link")).to_have_count(len(topics.TOPICS))
    shot(page, f"help-{language}-1-index")

    # a customer's words find the article first, with the search box still filled in
    broken, refund = QUERIES[language]
    page.get_by_test_id("help-q").fill(broken)
    page.get_by_test_id("help-search-submit").click()
    page.wait_for_load_state()
    first = page.get_by_test_id("help-hit").first
    expect(first).to_have_attribute("data-slug", article_for_topic(topics.ESIM_TROUBLESHOOTING).slug)
    expect(page.get_by_test_id("help-q")).to_have_value(broken)
    shot(page, f"help-{language}-2-search")

    # which reads as an article
    first.locator("a").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("help-title")).to_be_visible()
    assert_language(page, language)
    shot(page, f"help-{language}-3-esim-not-working")

    page.goto(base + "/help/search/?q=" + refund)
    first = page.get_by_test_id("help-hit").first
    expect(first).to_have_attribute("data-slug", article_for_topic(topics.REFUNDS).slug)
    first.locator("a").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("still-need-help")).to_be_visible()
    shot(page, f"help-{language}-4-refunds")

    # the market's own plans and prices article
    page.goto(base + f"/help/{article_for_topic(topics.PLANS_PRICES, market=us).slug}/")
    expect(page.get_by_test_id("help-title")).to_be_visible()
    shot(page, f"help-{language}-5-plans-us")

    # words that match nothing: the most asked articles and a way to a person
    page.goto(base + "/help/search/?q=zebra")
    expect(page.get_by_test_id("help-no-results")).to_be_visible()
    expect(page.get_by_test_id("help-popular-article")).to_have_count(len(topics.POPULAR))
    expect(page.get_by_test_id("help-contact")).to_have_attribute("href", "/support/new/")
    shot(page, f"help-{language}-6-nothing-found")

    # nothing wider than the phone
    for path in ("/help/", f"/help/{article_for_topic(topics.ESIM_IPHONE).slug}/"):
        page.goto(base + path)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
    assert page.console_errors == []
