"""Writing and publishing articles: the rules the services keep, and the audit row of each change."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from refill.audit.models import AuditEvent
from refill.help import services
from refill.help.models import Article

from .conftest import make_article, make_staff

pytestmark = pytest.mark.django_db


def values(**overrides) -> dict:
    base = dict(topic="", market=None, category=Article.Category.PAYING, slug="", title_en="Paying by card",
                title_zh_hans="银行卡支付", body_en="Use a card.", body_zh_hans="使用银行卡。")  # fmt: skip
    base.update(overrides)
    return base


def audit_actions(article: Article) -> list[str]:
    rows = AuditEvent.objects.filter(object_type="help.article", object_id=str(article.pk)).order_by("pk")
    return list(rows.values_list("action", flat=True))


def test_a_new_article_is_a_draft_with_an_address_made_from_its_title_and_an_audit_row():
    staff = make_staff("support")
    article = services.article_create(values=values(), actor=staff)
    assert article.status == Article.Status.DRAFT
    assert article.slug == "paying-by-card"
    assert article.updated_by == staff
    assert audit_actions(article) == ["help.article_create"]
    event = AuditEvent.objects.get(action="help.article_create")
    assert event.actor == staff and event.data["after"]["title_en"] == "Paying by card"
    # The same title again gets a free address.
    assert services.article_create(values=values(), actor=staff).slug == "paying-by-card-2"
    # A title without Latin letters still gets one.
    assert services.article_create(values=values(title_en="", slug=""), actor=staff).slug == "article"


def test_an_address_already_taken_is_refused():
    make_article(slug="taken")
    with pytest.raises(ValidationError) as error:
        services.article_create(values=values(slug="taken"), actor=None)
    assert "slug" in error.value.error_dict


def test_publishing_needs_both_languages():
    staff = make_staff("support")
    article = services.article_create(values=values(body_zh_hans=""), actor=staff)
    with pytest.raises(ValidationError) as error:
        services.article_publish(article=article, actor=staff)
    assert "Chinese" in error.value.messages[0]
    article.refresh_from_db()
    assert article.status == Article.Status.DRAFT
    assert audit_actions(article) == ["help.article_create"]

    services.article_update(article=article, values=values(body_zh_hans="使用银行卡。"), actor=staff)
    assert services.article_publish(article=article, actor=staff) is True
    article.refresh_from_db()
    assert article.status == Article.Status.PUBLISHED
    assert article.published_by == staff and article.published_at is not None
    assert audit_actions(article) == ["help.article_create", "help.article_update", "help.article_publish"]
    # Publishing twice changes nothing and writes nothing.
    assert services.article_publish(article=article, actor=staff) is False
    assert len(audit_actions(article)) == 3


def test_a_published_article_cannot_be_edited_into_missing_a_language():
    article = make_article(title_en="Renewing", body_en="Renew on the web.")
    with pytest.raises(ValidationError):
        services.article_update(
            article=article,
            values=values(title_en="Renewing", body_en="", category=article.category, slug=article.slug),
            actor=None,
        )
    article.refresh_from_db()
    assert article.body_en == "Renew on the web."


def test_a_topic_is_published_once_per_market(us, cn):
    staff = make_staff("support")
    make_article(topic="renew")
    make_article(topic="renew", market=us)
    # Drafts may share the topic (a replacement being written)...
    every = services.article_create(values=values(topic="renew"), actor=staff)
    own = services.article_create(values=values(topic="renew", market=us), actor=staff)
    # ...but cannot be published next to the published one.
    for draft in (every, own):
        with pytest.raises(ValidationError) as error:
            services.article_publish(article=draft, actor=staff)
        assert "topic" in error.value.error_dict
    # Another market is free.
    elsewhere = services.article_create(values=values(topic="renew", market=cn), actor=staff)
    assert services.article_publish(article=elsewhere, actor=staff) is True
    # Unpublish the old one, then the new one may go online.
    old = Article.objects.get(topic="renew", market=us, status=Article.Status.PUBLISHED)
    assert services.article_unpublish(article=old, actor=staff) is True
    assert services.article_publish(article=own, actor=staff) is True
    assert audit_actions(old) == ["help.article_unpublish"]


def test_an_edit_that_moves_a_published_article_onto_a_taken_topic_is_refused(us):
    make_article(topic="renew", market=us)
    other = make_article(topic="auto-renew", market=us)
    with pytest.raises(ValidationError) as error:
        services.article_update(
            article=other,
            values={"topic": "renew"},
            actor=None,
        )
    assert "topic" in error.value.error_dict
    other.refresh_from_db()
    assert other.topic == "auto-renew"


def test_the_database_also_refuses_a_topic_published_twice(us):
    make_article(topic="renew")
    make_article(topic="renew", market=us)
    for market in (None, us):
        with pytest.raises(IntegrityError), transaction.atomic():
            make_article(topic="renew", market=market)
    # Several published articles without a topic are fine.
    make_article(topic="")
    make_article(topic="")


def test_an_update_records_what_changed_before_and_after():
    staff = make_staff("admin")
    article = make_article(title_en="Old title")
    changed = services.article_update(article=article, values={"title_en": "New title"}, actor=staff)
    assert changed == ["title_en"]
    event = AuditEvent.objects.get(action="help.article_update")
    assert event.data == {"before": {"title_en": "Old title"}, "after": {"title_en": "New title"}}
    assert event.actor == staff
    # Nothing changed: no audit row.
    assert services.article_update(article=article, values={"title_en": "New title"}, actor=staff) == []
    assert AuditEvent.objects.filter(action="help.article_update").count() == 1


def test_unpublishing_a_draft_does_nothing():
    article = make_article(status=Article.Status.DRAFT)
    assert services.article_unpublish(article=article, actor=None) is False
    assert audit_actions(article) == []


def test_the_search_page_address_is_never_an_articles():
    with pytest.raises(ValidationError) as error:
        services.article_create(values=values(slug="search"), actor=None)
    assert "slug" in error.value.error_dict
    assert services.article_create(values=values(title_en="Search"), actor=None).slug == "search-2"
