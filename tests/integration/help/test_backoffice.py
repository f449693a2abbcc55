"""The back office's help pages: list and filters, create, edit side by side, preview as the public
sees it, publish and unpublish with a translated reason when refused; each change audited."""

import pytest
from django.test import Client
from django.urls import reverse

from refill.audit.models import AuditEvent
from refill.help.models import Article
from tests.factories import login

from .conftest import make_article, make_staff

pytestmark = pytest.mark.django_db


def form_data(**overrides) -> dict:
    data = dict(category="paying", market="", topic="payment-declined", slug="", title_en="Card refused",
                body_en="## Why\n- **Not enough money**: top up.", title_zh_hans="银行卡被拒",
                body_zh_hans="## 原因\n- **余额不足**：请充值。")  # fmt: skip
    data.update(overrides)
    return data


def test_support_writes_previews_and_publishes_an_article(client, support):
    # given a new draft
    response = client.post(reverse("help_admin:article_create"), form_data())
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "help_admin:article_preview", args=[article.pk]
    )
    assert article.status == Article.Status.DRAFT and article.slug == "card-refused" and article.updated_by == support
    # the preview shows both languages rendered as the public page does
    page = client.get(reverse("help_admin:article_preview", args=[article.pk])).content.decode()
    assert "<h2>Why</h2>" in page and "<strong>Not enough money</strong>" in page
    assert "<h2>原因</h2>" in page and 'lang="zh-Hans"' in page
    assert 'data-testid="publish"' in page
    # the public does not see it yet
    assert Client().get(reverse("help:article", args=["card-refused"])).status_code == 404
    # when published
    response = client.post(reverse("help_admin:article_publish", args=[article.pk]))
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED and article.published_by == support
    # then the public sees it
    assert Client().get(reverse("help:article", args=["card-refused"])).status_code == 200
    actions = list(AuditEvent.objects.filter(object_type="help.article").order_by("pk").values_list("action", "actor"))
    assert actions == [("help.article_create", support.pk), ("help.article_publish", support.pk)]
    # and unpublishing takes it offline again
    client.post(reverse("help_admin:article_unpublish", args=[article.pk]))
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert AuditEvent.objects.filter(action="help.article_unpublish", actor=support).count() == 1
    assert Client().get(reverse("help:article", args=["card-refused"])).status_code == 404


def test_editing_shows_both_languages_side_by_side_and_saves_with_an_audit_row(client, support):
    article = make_article(title_en="Old", status=Article.Status.DRAFT)
    page = client.get(reverse("help_admin:article_edit", args=[article.pk])).content.decode()
    assert 'data-testid="english"' in page and 'data-testid="chinese"' in page and 'value="Old"' in page
    data = form_data(slug=article.slug, topic="", category=article.category, title_en="New")
    response = client.post(reverse("help_admin:article_edit", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.title_en == "New"
    event = AuditEvent.objects.get(action="help.article_update")
    assert event.actor == support and event.data["before"]["title_en"] == "Old"


def test_publishing_without_chinese_is_refused_with_the_reason(client, support):
    article = make_article(status=Article.Status.DRAFT, body_zh_hans="")
    response = client.post(reverse("help_admin:article_publish", args=[article.pk]), follow=True)
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    page = response.content.decode()
    assert "A published article needs a title and a body in English and in Chinese. Missing: Chinese." in page
    assert 'data-testid="missing"' in page
    assert not AuditEvent.objects.filter(action="help.article_publish").exists()


def test_publishing_a_taken_topic_is_refused_with_the_reason(client, support, us):
    make_article(topic="renew", market=us)
    draft = make_article(topic="renew", market=us, status=Article.Status.DRAFT)
    response = client.post(reverse("help_admin:article_publish", args=[draft.pk]), follow=True)
    draft.refresh_from_db()
    assert draft.status == Article.Status.DRAFT
    assert "already has this topic" in response.content.decode()


def test_the_form_explains_its_errors(client, support):
    make_article(slug="taken")
    response = client.post(reverse("help_admin:article_create"), form_data(slug="taken"))
    assert response.status_code == 400
    assert "Another article already has this address." in response.content.decode()
    response = client.post(reverse("help_admin:article_create"), form_data(title_en="", title_zh_hans=""))
    assert response.status_code == 400
    assert "Give the article a title in at least one language." in response.content.decode()
    response = client.post(reverse("help_admin:article_create"), form_data(topic="Not a slug!"))
    assert response.status_code == 400
    assert not Article.objects.exclude(slug="taken").exists()
    assert not AuditEvent.objects.filter(action="help.article_create").exists()


def test_editing_a_published_article_cannot_empty_a_language(client, support):
    article = make_article(title_en="Online")
    data = form_data(slug=article.slug, topic="", category=article.category, title_en="Online", body_en="")
    response = client.post(reverse("help_admin:article_edit", args=[article.pk]), data)
    assert response.status_code == 400
    assert "Missing: English." in response.content.decode()
    article.refresh_from_db()
    assert article.body_en == "Some text."


def test_the_list_filters_by_status_market_category_and_text(client, support, us):
    draft = make_article(title_en="Draft about cards", status=Article.Status.DRAFT, category="paying")
    us_article = make_article(title_en="US renewals", market=us)
    every = make_article(title_en="Every market eSIM", category="esim", topic="esim-install")

    def listed(**query) -> set[int]:
        response = client.get(reverse("help_admin:articles"), query)
        assert response.status_code == 200
        return {article.pk for article in response.context["articles"]}

    assert listed() == {draft.pk, us_article.pk, every.pk}
    assert listed(status="draft") == {draft.pk}
    assert listed(market=str(us.pk)) == {us_article.pk}
    assert listed(market="every") == {draft.pk, every.pk}
    assert listed(category="esim") == {every.pk}
    assert listed(text="renewals") == {us_article.pk}
    assert listed(text="esim-install") == {every.pk}


def test_a_viewer_role_sees_the_preview_without_actions(client):
    login(client, make_staff("finance"))
    article = make_article(status=Article.Status.DRAFT)
    page = client.get(reverse("help_admin:article_preview", args=[article.pk])).content.decode()
    assert 'data-testid="publish"' not in page and 'data-testid="edit"' not in page
    assert client.post(reverse("help_admin:article_publish", args=[article.pk])).status_code == 403
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT


def test_the_publish_actions_take_post_only(client, support):
    article = make_article(status=Article.Status.DRAFT)
    assert client.get(reverse("help_admin:article_publish", args=[article.pk])).status_code == 405


def test_support_edits_the_search_words_and_search_finds_the_article_by_them(client, support):
    article = make_article(slug="give-back", title_en="Getting paid back", title_zh_hans="返还")
    page = client.get(reverse("help_admin:article_edit", args=[article.pk])).content.decode()
    assert 'name="keywords_en"' in page and 'name="keywords_zh_hans"' in page
    data = form_data(topic="", slug="give-back", title_en="Getting paid back", title_zh_hans="返还",
                     body_en="Some text.", body_zh_hans="一些文字。",
                     keywords_en="refund, money back", keywords_zh_hans="退款，退钱")  # fmt: skip
    response = client.post(reverse("help_admin:article_edit", args=[article.pk]), data)
    assert response.status_code == 302
    article.refresh_from_db()
    assert (article.keywords_en, article.keywords_zh_hans) == ("refund, money back", "退款，退钱")
    event = AuditEvent.objects.get(action="help.article_update")
    assert event.data["after"]["keywords_en"] == "refund, money back"
    for query in ("refunded", "退钱"):
        hits = Client().get(reverse("help:search"), {"q": query}).context["hits"]
        assert [hit.article.slug for hit in hits] == ["give-back"], query
